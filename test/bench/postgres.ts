/**
 * PostgreSQL for the benchmark: `BENCH_DATABASE_URL` if set (its role needs CREATEDB), else a
 * throwaway cluster. Unlike the test cluster (test/setup/postgres.ts, durability off), this one
 * keeps PostgreSQL's defaults (fsync, synchronous_commit, full_page_writes all on): a benchmark
 * must pay for durable commits as production does. Only the listen address (127.0.0.1, a free
 * port) and a private socket directory are set. As root, the server binaries run as the
 * `postgres` OS user (PostgreSQL refuses to run as root).
 */
import pg from 'pg'
import { findPostgresBin, startCluster } from '../setup/postgres.ts'

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
  const cluster = await startCluster(bin, { durable: true })
  return wrap(cluster.url, `throwaway cluster (${bin}, default durability settings)`, cluster.stop)
}

async function wrap(
  adminUrl: string,
  source: string,
  stopServer: () => Promise<void>,
): Promise<BenchPostgres> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  const version =
    /PostgreSQL [\d.]+/.exec(
      (await admin.query('SELECT version() AS v')).rows[0].v as string,
    )?.[0] ?? 'PostgreSQL'
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
        for (const name of made)
          await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
        await admin.end()
      } finally {
        await stopServer()
      }
    },
  }
}
