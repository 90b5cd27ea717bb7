/**
 * The production install as an operator runs it: this checkout's files (what git tracks, as a
 * fresh clone has them) copied to a temp dir, `npm ci --omit=dev` there with the machine's own
 * npm and Node (whatever version: no dev tool, no pinned Node on PATH), then `npm start` and
 * `npx sso-bridge`. About behaviour — it installs, starts, answers — and that the install built
 * the server bundle (scripts/bundle.js, npm's postinstall) that `npm start` then runs as is.
 */
import { execFileSync, spawn } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROCESS_START_TIMEOUT, PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * An operator's shell: the machine's PATH without any `node_modules/.bin` (vitest runs under
 * `npm test` or npx, which put this checkout's pinned Node first) and no `npm_*` variables of
 * the npm that started vitest.
 */
const OPERATOR_ENV: Record<string, string> = {
  PATH: (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !dir.endsWith(path.join('node_modules', '.bin')))
    .join(path.delimiter),
  HOME: process.env.HOME ?? tmpdir(),
  ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
}

interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

function run(command: string, args: string[], cwd: string, env = OPERATOR_ENV): Promise<Ran> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Copies the files git tracks (plus new ones not ignored), as a clean clone would hold them. */
function copyTrackedTree(to: string): void {
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: ROOT, encoding: 'utf8' },
  )
    .split('\0')
    .filter(Boolean)
  for (const file of files) {
    const from = path.join(ROOT, file)
    if (!existsSync(from)) continue // deleted in the work tree, not yet committed
    const dest = path.join(to, file)
    mkdirSync(path.dirname(dest), { recursive: true })
    if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), dest)
    else copyFileSync(from, dest) // keeps the mode: bin/sso-bridge.js stays executable
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

let dir: string
let app: string
let install: Ran

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-install-'))
  app = path.join(dir, 'app')
  copyTrackedTree(app)
  install = await run(
    'npm',
    ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'],
    app,
  )
}, PROCESS_TEST_TIMEOUT)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the production install (npm ci --omit=dev) with the machine’s npm and Node', () => {
  it('installs every production dependency and no devDependency', () => {
    expect(install.code, install.stderr).toBe(0)
    const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
      devDependencies: Record<string, string>
    }
    for (const name of Object.keys(pkg.dependencies))
      expect(existsSync(path.join(app, 'node_modules', name, 'package.json')), name).toBe(true)
    const devTools = Object.keys(pkg.devDependencies)
    expect(devTools).toEqual(expect.arrayContaining(['vitest', 'typescript']))
    const landed = devTools.filter((name) => existsSync(path.join(app, 'node_modules', name)))
    expect(landed).toEqual([])
  })

  it('builds the server bundle at install (npm’s postinstall), for the first start to find', () => {
    expect(install.code, install.stderr).toBe(0)
    const manifest = path.join(app, 'node_modules/.cache/sso-bridge/server/current.json')
    expect(existsSync(manifest), install.stdout + install.stderr).toBe(true)
    const { dir } = JSON.parse(readFileSync(manifest, 'utf8')) as { dir: string }
    expect(existsSync(path.join(path.dirname(manifest), dir, 'main.mjs'))).toBe(true)
  })

  it('prints no EBADENGINE warning, for this package or any it installs', () => {
    expect(install.code, install.stderr).toBe(0)
    expect(install.stdout + install.stderr).not.toMatch(/EBADENGINE|Unsupported engine/)
  })

  it(
    'npm start answers /healthz and /readyz, and stops when its pid gets SIGTERM',
    async () => {
      expect(install.code, install.stderr).toBe(0)
      const port = await freePort()
      const child = spawn('npm', ['start'], {
        cwd: app,
        env: {
          ...OPERATOR_ENV,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: path.join(dir, 'data'),
          KEYS_DIR: path.join(dir, 'keys'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let logs = ''
      child.stdout.on('data', (d) => (logs += d))
      child.stderr.on('data', (d) => (logs += d))
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => resolve(code)),
      )
      try {
        const base = `http://127.0.0.1:${port}`
        // Poll: no event says "listening" to a process outside; the limit only catches a hang.
        const deadline = Date.now() + PROCESS_START_TIMEOUT
        let health: Response | undefined
        while (!health) {
          if (child.exitCode !== null) throw new Error(`npm start exited early:\n${logs}`)
          if (Date.now() > deadline) throw new Error(`npm start never answered:\n${logs}`)
          health = await fetch(`${base}/healthz`).catch(() => undefined)
          if (!health) await new Promise((r) => setTimeout(r, 200))
        }
        expect(health.status, logs).toBe(200)
        expect(await health.json()).toEqual({ status: 'ok' })
        // It ran the bundle the install built: neither rebuilt it nor fell back to the sources.
        expect(logs).not.toMatch(/sso-bridge: (building|could not build) the server bundle/)
        const ready = await fetch(`${base}/readyz`)
        expect(ready.status, logs).toBe(200)
        expect(await ready.json()).toEqual({ status: 'ready', store: 'sqlite' })

        process.kill(child.pid!, 'SIGTERM')
        expect(await exited, logs).toBe(0)
        // npm passed the signal on: the server itself is gone, not orphaned.
        await expect(fetch(`${base}/healthz`)).rejects.toThrow()
      } finally {
        if (child.exitCode === null) {
          child.kill('SIGKILL')
          await exited
        }
      }
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'npx sso-bridge --help runs the CLI there',
    async () => {
      expect(install.code, install.stderr).toBe(0)
      // npx links the package into its cache to run its own bin: a cache of this test's own.
      const ran = await run('npx', ['sso-bridge', '--help'], app, {
        ...OPERATOR_ENV,
        npm_config_cache: path.join(dir, 'npm-cache'),
      })
      expect(ran.code, ran.stderr).toBe(0)
      expect(ran.stdout).toMatch(/^Usage: sso-bridge /)
      for (const command of ['users', 'integrations', 'keys', 'token'])
        expect(ran.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'))
      expect(ran.stderr).not.toMatch(/EBADENGINE/)
    },
    PROCESS_TEST_TIMEOUT,
  )
})
