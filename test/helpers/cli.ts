/**
 * The CLI in a sandbox of its own: a fresh DATA_DIR/KEYS_DIR, with none of the developer's own
 * configuration (DATABASE_URL above all) leaking in. Directories are removed by
 * `removeSandboxes()`. Two ways to run a command line, with the same result shape:
 *
 * - `cli`: in-process, through the CLI's own `run()` (src/cli/index.ts) — the same program,
 *   parser, store, error reporting and exit codes the binary uses, with the streams captured.
 *   No process starts, so a suite's length does not grow with the machine's load; suites use
 *   it for every case. It runs in the test's working directory: give it absolute file paths.
 * - `binary`: the real executable as an operator runs it, `npx sso-bridge …` in the sandbox
 *   directory (which holds no `.env`). Each suite keeps one test on it, to prove what `run()`
 *   cannot: the bin shim, the Node version check, the process exit code and a stdout that is
 *   flushed before exit. It starts npm and then Node, seconds on a loaded machine, hence
 *   {@link PROCESS_TEST_TIMEOUT}.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, symlinkSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { run } from '../../src/cli/index.ts'
import { envSchema } from '../../src/config/index.ts'
import { PROCESS_TEST_TIMEOUT } from './timeouts.ts'

export { PROCESS_TEST_TIMEOUT }

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export type Cli = (
  args: string[],
  opts?: { input?: string; env?: Record<string, string> },
) => Promise<CliResult>

const made: string[] = []

/** Makes `npx sso-bridge` in `dir` resolve to this checkout's CLI, as it does in a checkout. */
export function linkCliInto(dir: string): void {
  mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true })
  symlinkSync(
    path.join(ROOT, 'bin/sso-bridge.js'),
    path.join(dir, 'node_modules', '.bin', 'sso-bridge'),
  )
}

export async function cliSandbox(
  prefix = 'sso-bridge-cli-',
): Promise<{ dir: string; cli: Cli; binary: Cli }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  made.push(dir)
  const sandbox = {
    DATA_DIR: path.join(dir, 'data'),
    KEYS_DIR: path.join(dir, 'keys'),
    LOG_LEVEL: 'silent',
  }

  // run() reads `.env` from the test process's working directory (the checkout), which may be a
  // developer's own: every config key is given, empty ones meaning "unset", so none of it applies.
  const unset = Object.fromEntries(Object.keys(envSchema.shape).map((key) => [key, '']))
  const cli: Cli = async (args, opts = {}) => {
    let stdout = ''
    let stderr = ''
    const code = await run(args, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      stdin: Readable.from(opts.input === undefined || opts.input === '' ? [] : [opts.input]),
      env: { ...unset, ...sandbox, ...opts.env },
    })
    return { code, stdout, stderr }
  }

  linkCliInto(dir)
  const env: Record<string, string | undefined> = { ...process.env }
  for (const key of Object.keys(envSchema.shape)) delete env[key]
  Object.assign(env, sandbox, {
    // The project's Node (24) first, as `npm run`/`npx` in the checkout would have it.
    PATH: `${path.join(ROOT, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}`,
    // npx must use the linked CLI, never ask or reach a registry.
    npm_config_yes: 'false',
    npm_config_offline: 'true',
  })
  const binary: Cli = (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn('npx', ['sso-bridge', ...args], {
        cwd: dir,
        env: { ...env, ...opts.env },
        stdio: 'pipe',
      })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
      child.stdin.end(opts.input ?? '')
    })
  return { dir, cli, binary }
}

export async function removeSandboxes(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })))
}
