/**
 * A throwaway PostgreSQL server for the test run: `initdb` into a temp dir, start it on a free
 * loopback port with durability switched off (fsync, synchronous_commit, full_page_writes: the
 * data dies with the run anyway), create one database, hand back its URL. PostgreSQL refuses to
 * run as root, so as root (CI) the server binaries run as the `postgres` OS user via `runuser`.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'

export const TEST_DATABASE = 'sso_bridge_test'

export interface TestPostgres {
  url: string
  stop(): Promise<void>
  /** Restarts the server (`pg_ctl restart -m fast`): every connection is ended, the data stays. */
  restart?(): Promise<void>
}

/**
 * The directory holding `initdb`, `pg_ctl` and `postgres`: `PG_BIN` if set, else the newest
 * `/usr/lib/postgresql/<major>/bin` (Debian/Ubuntu), else the first such directory on PATH.
 * @returns null when no PostgreSQL server binaries are installed
 */
export function findPostgresBin(): string | null {
  const complete = (dir: string) =>
    ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(path.join(dir, b)))
  if (process.env.PG_BIN) return complete(process.env.PG_BIN) ? process.env.PG_BIN : null
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const majors = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
    for (const v of majors)
      if (complete(path.join(debian, v, 'bin'))) return path.join(debian, v, 'bin')
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter))
    if (dir && complete(dir)) return dir
  return null
}

/** Starts a fresh cluster and creates {@link TEST_DATABASE} in it. */
export async function startPostgres(bin: string): Promise<TestPostgres> {
  const cluster = await startCluster(bin, { durable: false })
  try {
    const admin = new pg.Client({ connectionString: cluster.url })
    await admin.connect()
    try {
      await admin.query(`CREATE DATABASE ${TEST_DATABASE}`)
    } finally {
      await admin.end()
    }
  } catch (err) {
    await cluster.stop()
    throw err
  }
  const url = new URL(cluster.url)
  url.pathname = `/${TEST_DATABASE}`
  return { url: url.toString(), stop: cluster.stop }
}

/** A private cluster's server can be stopped and started again on its data (an outage, a restart). */
export interface OutageControls {
  /** Stops the server (fast shutdown: sessions are cut), keeping its data and port. */
  halt(): void
  /** Starts it again and waits until it accepts connections. */
  resume(): void
}

/**
 * initdb into a temp dir and start on a free loopback port with a private socket directory;
 * `stop()` removes it all (so does process exit, as a last resort). `durable: false` switches
 * fsync, synchronous_commit and full_page_writes off (tests: the data dies with the run);
 * `durable: true` keeps PostgreSQL's defaults (benchmarks must pay for durable commits).
 * @returns the URL of the cluster's `postgres` database, as the `postgres` superuser
 */
export async function startCluster(
  bin: string,
  { durable }: { durable: boolean },
): Promise<TestPostgres & OutageControls> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-pg-'))
  const data = path.join(dir, 'data')
  const log = path.join(dir, 'server.log')
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(dir, uid, gid)
  }

  /** Runs a server binary (as `postgres` when we are root), failing with its output. */
  const run = (tool: string, args: string[]) => {
    const exe = path.join(bin, tool)
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args]
    const r = spawnSync(cmd, argv, {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    })
    if (r.status !== 0) {
      const serverLog = existsSync(log) ? `\n--- server log ---\n${readFileSync(log, 'utf8')}` : ''
      throw new Error(
        `${tool} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}${serverLog}`,
      )
    }
  }

  let started = false
  const stopSync = () => {
    try {
      // A durable cluster shuts down cleanly; a throwaway one need not write anything out.
      if (started) run('pg_ctl', ['-D', data, '-m', durable ? 'fast' : 'immediate', '-w', 'stop'])
    } finally {
      started = false
      rmSync(dir, { recursive: true, force: true })
    }
  }
  // Last resort if the run dies without teardown: never leave a server behind.
  process.once('exit', stopSync)

  try {
    // --no-sync only skips initdb's own fsync of the fresh files; server settings come below.
    run('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ])
    const port = await freePort()
    appendFileSync(
      path.join(data, 'postgresql.conf'),
      [
        '',
        `# sso-bridge ${durable ? 'benchmark' : 'test'} cluster`,
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        ...(durable
          ? []
          : [
              'fsync = off',
              'synchronous_commit = off',
              'full_page_writes = off',
              'max_connections = 200',
            ]),
        '',
      ].join('\n'),
    )
    started = true
    run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start'])
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      halt() {
        if (!started) return
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
        started = false
      },
      resume() {
        if (started) return
        started = true
        run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start'])
      },
      async restart() {
        run('pg_ctl', ['-D', data, '-l', log, '-m', 'fast', '-w', '-t', '60', 'restart'])
      },
      async stop() {
        process.removeListener('exit', stopSync)
        stopSync()
      },
    }
  } catch (err) {
    process.removeListener('exit', stopSync)
    stopSync()
    throw err
  }
}

/** A TCP port nothing listens on right now (bind port 0, read it back, let go). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}
