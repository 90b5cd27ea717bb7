/**
 * Starts the real server as `npm start` does (`node scripts/start.js`: the bundle of src/, see
 * scripts/bundle.js; built first if the sources changed) in a child process on a free port, in a
 * temp DATA_DIR/KEYS_DIR, and waits for its "listening" log line: seconds on a loaded machine
 * (it generates keys on a first start), so a test or hook that starts one gives itself
 * PROCESS_TEST_TIMEOUT (./timeouts.ts). `via: 'source'` runs `node src/main.ts` instead.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PROCESS_START_TIMEOUT } from './timeouts.ts'

export { PROCESS_TEST_TIMEOUT } from './timeouts.ts'

export const NODE = path.resolve('node_modules/.bin/node')

/** What `npm start` runs (package.json), and the composition root run directly. */
const ENTRY = { start: 'scripts/start.js', source: 'src/main.ts' } as const

export interface ServerProcess {
  child: ChildProcess
  url: string
  dir: string
  logs: () => string
  /** Resolves once the server's output contains `text` (an event, not a time: no timeout of its own). */
  logged: (text: string) => Promise<void>
  exited: Promise<number | null>
}

/**
 * `via: 'npm'` runs the README's own command, `npm start` (the child is then npm, which runs the
 * package's start script); `'node'` runs what that script runs, scripts/start.js, with the
 * project's Node; `'source'` runs src/main.ts without the bundle. `cwd`: the project to start
 * (this checkout by default; a copy of it in test/process/bundle.test.ts).
 */
export async function startServer(
  env: Record<string, string> = {},
  dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-proc-')),
  via: 'node' | 'npm' | 'source' = 'node',
  cwd = process.cwd(),
): Promise<ServerProcess> {
  const [command, args] =
    via === 'npm' ? ['npm', ['start']] : [NODE, [via === 'source' ? ENTRY.source : ENTRY.start]]
  const child = spawn(command, args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: path.join(dir, 'data'),
      KEYS_DIR: path.join(dir, 'keys'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const port = await new Promise<number>((resolve, reject) => {
    // Only a hang: a slow start is still a start.
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${out}`)),
      PROCESS_START_TIMEOUT,
    )
    const check = () => {
      const m = /"port":(\d+),.*"msg":"sso-bridge listening"/.exec(out)
      if (m) {
        clearTimeout(timer)
        // Done: scanning the whole output again on every later chunk would cost O(n²) over a
        // long run (the fuzz test's server logs tens of thousands of lines).
        child.stdout!.off('data', check)
        resolve(Number(m[1]))
      }
    }
    child.stdout!.on('data', check)
    exited.then(() => reject(new Error(`server exited early:\n${out}`)))
  })
  const logged = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!out.includes(text)) return
        child.stdout!.off('data', check)
        child.stderr!.off('data', check)
        resolve()
      }
      // Registered after the collectors above, so `out` already holds the chunk being checked.
      child.stdout!.on('data', check)
      child.stderr!.on('data', check)
      check()
    })
  return { child, url: `http://127.0.0.1:${port}`, dir, logs: () => out, logged, exited }
}

/** Stops a server {@link startServer} started, if it still runs (for a test's afterEach). */
export async function stopServer(
  server: ServerProcess | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (server && server.child.exitCode === null) {
    server.child.kill(signal)
    await server.exited
  }
}

/** Runs the server to completion (for startup failures). */
export function runServer(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-proc-'))
  const child = spawn(NODE, [ENTRY.start], {
    env: {
      PATH: process.env.PATH,
      DATA_DIR: path.join(dir, 'data'),
      KEYS_DIR: path.join(dir, 'keys'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })))
}
