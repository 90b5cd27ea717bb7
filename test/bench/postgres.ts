/**
 * PostgreSQL for the benchmark: `BENCH_DATABASE_URL` if set (its role needs CREATEDB), else a
 * throwaway cluster. Unlike the test cluster (test/setup/postgres.ts, durability off), this one
 * keeps PostgreSQL's defaults (fsync, synchronous_commit, full_page_writes all on): a benchmark
 * must pay for durable commits as production does. Only the listen address (127.0.0.1, a free
 * port) and a private socket directory are set. As root, the server binaries run as the
 * `postgres` OS user (PostgreSQL refuses to run as root).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { findPostgresBin, freePort } from '../setup/postgres.ts'

export interface BenchPostgres {
  /** Where it came from, for the report. */
  source: string
  /** `SELECT version()` short form, e.g. "PostgreSQL 15.14". */
  version: string
  /** A new empty database on the server; returns its URL. */
  createDatabase(label: string): Promise<string>
  dropDatabase(url: string): Promise<void>
  /** Flushes dirty pages so a following measurement does not pay for the previous one's. */
  checkpoint(): Promise<void>
  stop(): Promise<void>
}

export { findPostgresBin }

/** Connects to `BENCH_DATABASE_URL`, or starts a throwaway cluster from `bin`. */
export async function openBenchPostgres(bin: string | null): Promise<BenchPostgres> {
  const given = process.env.BENCH_DATABASE_URL
  if (given) return wrap(given, 'BENCH_DATABASE_URL', async () => {})
  if (!bin) throw new Error('no PostgreSQL server binaries and BENCH_DATABASE_URL is not set')
  const cluster = await startCluster(bin)
  return wrap(cluster.url, `throwaway cluster (${bin}, default durability settings)`, cluster.stop)
}

async function wrap(adminUrl: string, source: string, stopServer: () => Promise<void>): Promise<BenchPostgres> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  const version = /PostgreSQL [\d.]+/.exec((await admin.query('SELECT version() AS v')).rows[0].v as string)?.[0] ?? 'PostgreSQL'
  const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`
  const made = new Set<string>()
  let n = 0
  const nameOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1))
  return {
    source,
    version,
    async createDatabase(label) {
      const name = `sso_bench_${run}_${n++}_${label.replace(/\W/g, '_')}`.toLowerCase()
      await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`)
      made.add(name)
      const url = new URL(adminUrl)
      url.pathname = `/${name}`
      return url.toString()
    },
    async dropDatabase(url) {
      const name = nameOf(url)
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      made.delete(name)
    },
    async checkpoint() {
      // Needs superuser or pg_checkpoint; with a given URL it may be refused: then just go on.
      await admin.query('CHECKPOINT').catch(() => {})
    },
    async stop() {
      try {
        for (const name of made) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
        await admin.end()
      } finally {
        await stopServer()
      }
    },
  }
}

/** initdb into a temp dir and start on a free loopback port; removed again by stop(). */
async function startCluster(bin: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-bench-pg-'))
  const data = path.join(dir, 'data')
  const log = path.join(dir, 'server.log')
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(dir, id('-u'), id('-g'))
  }
  const run = (tool: string, args: string[]) => {
    const exe = path.join(bin, tool)
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args]
    const r = spawnSync(cmd, argv, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 })
    if (r.status !== 0) {
      const serverLog = existsSync(log) ? `\n--- server log ---\n${readFileSync(log, 'utf8')}` : ''
      throw new Error(`${tool} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}${serverLog}`)
    }
  }
  let started = false
  const stopSync = () => {
    try {
      if (started) run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
    } finally {
      started = false
      rmSync(dir, { recursive: true, force: true })
    }
  }
  // Last resort if the run dies without its teardown: never leave a server or files behind.
  process.once('exit', stopSync)
  try {
    // --no-sync only skips initdb's own fsync of the fresh files; the server's settings stay default.
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'])
    const port = await freePort()
    appendFileSync(
      path.join(data, 'postgresql.conf'),
      ['', '# sso-bridge benchmark cluster: defaults except where it listens', `port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`, ''].join('\n'),
    )
    started = true
    run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start'])
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
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
