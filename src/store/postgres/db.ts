/**
 * @module store/postgres/db
 * The pool as the rest of the PostgreSQL store sees it: queries whose lost or refused
 * connection becomes StoreUnavailable, and BEGIN … COMMIT on one pooled client. Also the
 * error codes the store tells apart, and how a connection URL is named without its password.
 */
import pg, {
  type DatabaseError,
  type Pool,
  type PoolClient,
  type QueryResult,
  type QueryResultRow,
} from 'pg'
import { BridgeError, StoreUnavailable } from '../../errors/index.ts'

/** A result row as pg returns it. */
export type Row = QueryResultRow
/** A statement; named ones are prepared once per pooled connection. */
export type Query = { name?: string; text: string }

/** SQLSTATE of a unique index violation: mapped to `AccountConflict` (STYLE §4). */
export const UNIQUE_VIOLATION = '23505'
/** "ON CONFLICT DO UPDATE command cannot affect row a second time": a batch-internal repeat. */
export const CARDINALITY_VIOLATION = '21000'
/** The server broke a lock cycle by aborting this statement. */
export const DEADLOCK_DETECTED = '40P01'

/** The query helpers of one pool (internal to store/postgres). */
export type Db = ReturnType<typeof createDb>

/**
 * Query helpers over one pool (internal to store/postgres): `run`/`q` run statements,
 * `transaction` runs a function on one client with BEGIN/COMMIT, and connection-level
 * failures become {@link StoreUnavailable} so every door answers 503 alike.
 * @param url the connection string, for error context only (its password is never logged)
 */
export function createDb(pool: Pool, url: string) {
  /** Runs a query (on `client`, else the pool); a lost or refused connection becomes StoreUnavailable. */
  async function run(
    query: Query,
    values: unknown[] = [],
    client?: PoolClient,
  ): Promise<QueryResult> {
    try {
      return await (client ?? pool).query({ ...query, values })
    } catch (err) {
      throw unavailable(err, url) ?? err
    }
  }
  const q = async (query: Query, values: unknown[] = [], client?: PoolClient): Promise<Row[]> =>
    (await run(query, values, client)).rows
  const changed = async (query: Query, values: unknown[], client?: PoolClient): Promise<boolean> =>
    (await run(query, values, client)).rowCount === 1

  /** BEGIN … COMMIT (or ROLLBACK when `commit` says so, or on any error) on one pooled client. */
  async function transaction<T>(
    fn: (client: PoolClient) => Promise<T>,
    commit: (result: T) => boolean,
  ): Promise<T> {
    let client: PoolClient
    try {
      client = await pool.connect()
    } catch (err) {
      throw unavailable(err, url) ?? err
    }
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const result = await fn(client)
      await client.query(commit(result) ? 'COMMIT' : 'ROLLBACK')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e // the connection is unusable: let the pool discard it
      })
      throw unavailable(err, url) ?? err
    } finally {
      client.release(broken)
    }
  }

  return { pool, url, run, q, changed, transaction }
}

/** True when `err` is a PostgreSQL error with this SQLSTATE (e.g. {@link UNIQUE_VIOLATION}). */
export function isDbError(err: unknown, code: string): err is DatabaseError {
  return err instanceof pg.DatabaseError && err.code === code
}

/** Connection-level failures (refused, reset, server shutting down) → StoreUnavailable. */
export function unavailable(err: unknown, url: string): StoreUnavailable | null {
  if (err instanceof BridgeError) return null
  const code = (err as { code?: unknown } | null)?.code
  const lost =
    err instanceof pg.DatabaseError
      ? typeof code === 'string' &&
        (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')
      : typeof code === 'string'
        ? /^E[A-Z]+$/.test(code) // Node system errors: ECONNREFUSED, ECONNRESET, ETIMEDOUT, …
        : err instanceof Error &&
          /Connection terminated|timeout exceeded when trying to connect/i.test(err.message)
  return lost
    ? new StoreUnavailable(`PostgreSQL database is not reachable: ${reasonOf(err, url)}`, {
        cause: err,
      })
    : null
}

/** `postgres://user@host:port/db`: enough to say which database, never the password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url)
    const host = u.host || u.searchParams.get('host') || 'localhost'
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${host}${u.pathname}`
  } catch {
    return '(unparseable connection URL)'
  }
}

/** A one-line reason for an error, with the URL's password (if any) scrubbed out. */
export function reasonOf(err: unknown, url: string): string {
  const e = err as { message?: string; code?: string; errors?: { message?: string }[] } | null
  let reason = e?.message || e?.errors?.map((x) => x.message).join('; ') || e?.code || String(err)
  let password = ''
  try {
    password = decodeURIComponent(new URL(url).password)
  } catch {
    // not a URL: nothing we can name to scrub
  }
  if (password) reason = reason.split(password).join('***')
  return reason.split(url).join(describeUrl(url))
}
