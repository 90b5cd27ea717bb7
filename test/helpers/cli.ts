/**
 * The real CLI as a subprocess (`node bin/sso-bridge.js …`) in a sandbox of its own: a fresh
 * DATA_DIR/KEYS_DIR and a cwd without a `.env`, with none of the developer's own configuration
 * (DATABASE_URL above all) leaking in. Directories are removed by `removeSandboxes()`.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { envSchema } from '../../src/config/index.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NODE = path.join(ROOT, 'node_modules/.bin/node')
const BIN = path.join(ROOT, 'bin/sso-bridge.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export type Cli = (args: string[], opts?: { input?: string; env?: Record<string, string> }) => Promise<CliResult>

const made: string[] = []

export async function cliSandbox(prefix = 'sso-bridge-cli-'): Promise<{ dir: string; cli: Cli }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  made.push(dir)
  const env: Record<string, string | undefined> = { ...process.env }
  for (const key of Object.keys(envSchema.shape)) delete env[key]
  Object.assign(env, { DATA_DIR: path.join(dir, 'data'), KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'silent' })
  const cli: Cli = (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(NODE, [BIN, ...args], { cwd: dir, env: { ...env, ...opts.env }, stdio: 'pipe' })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
      child.stdin.end(opts.input ?? '')
    })
  return { dir, cli }
}

export async function removeSandboxes(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })))
}
