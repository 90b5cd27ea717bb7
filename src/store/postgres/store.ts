/**
 * @module store/postgres/store
 * The server store: PostgreSQL through a `pg` pool. Same semantics as `store/sqlite` (one
 * contract suite runs against both); the differences are PostgreSQL's:
 * - A failed statement aborts the whole transaction, so batch writes put a SAVEPOINT around
 *   whatever may fail and roll back to it.
 * - Batches are written many rows per statement (`INSERT … SELECT FROM unnest(…)`), falling back
 *   to smaller windows and finally one row at a time around a failing record, so the per-record
 *   results are exactly those of writing the records one by one, in order.
 * - Every multi-statement write transaction (a batch, or a single write resolving a conflict)
 *   takes one transaction-level advisory lock, so they run one at a time as under SQLite's single
 *   writer: two of them can never deadlock on each other's keys or rows (see WRITER_LOCK in
 *   account-writes.ts).
 * - The conflict resolver's steps (ports.ts `ConflictResolver`; the rules are in
 *   accounts/conflicts.ts) run with awaits on the transaction's client; every step that may
 *   hit a unique index runs under a SAVEPOINT.
 * - Migrations may race between processes starting at once: another advisory lock serialises
 *   them.
 * - Integration writes notify every instance in the same statement (LISTEN/NOTIFY,
 *   changes.ts), exposed as `integrationChanges`.
 *
 * This file only composes the concerns: db.ts (pool, errors, transactions), migrate.ts,
 * accounts.ts (reads and single writes; account-writes.ts, batch-writer.ts), integrations.ts,
 * kv.ts, events.ts and changes.ts.
 */
import pg, { type Pool } from 'pg'
import { SchemaTooNew, StoreUnavailable } from '../../errors/index.ts'
import type { Store } from '../ports.ts'
import { createPostgresAccounts } from './accounts.ts'
import { createPostgresChangeFeed } from './changes.ts'
import { createDb, describeUrl, reasonOf } from './db.ts'
import { createPostgresAuditTrail } from './audit-trail.ts'
import { createPostgresEvents } from './events.ts'
import { createPostgresIntegrations } from './integrations.ts'
import { createPostgresKv } from './kv.ts'
import { createPostgresOperators } from './operators.ts'
import { migrate } from './migrate.ts'
import { assertSchemaNotNewer } from '../migrations/index.ts'

/**
 * Opens the pool, checks the connection and applies pending migrations.
 * @throws {StoreUnavailable} the database cannot be reached or migrated
 * @throws {SchemaTooNew} a newer sso-bridge migrated the database
 */
export async function createPostgresStore(url: string): Promise<Store> {
  const where = describeUrl(url)
  let pool: Pool
  try {
    pool = new pg.Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'sso-bridge',
    })
  } catch (cause) {
    throw new StoreUnavailable(
      `cannot open PostgreSQL database at ${where}: ${reasonOf(cause, url)}`,
      { cause },
    )
  }
  // An idle pooled connection that dies (server restart, network) emits 'error' on the pool; the
  // pool already drops it and the next query reconnects. Without a listener Node would crash.
  pool.on('error', () => {})
  try {
    await migrate(pool)
  } catch (cause) {
    await pool.end().catch(() => {})
    if (cause instanceof SchemaTooNew) throw cause
    throw new StoreUnavailable(
      `cannot open PostgreSQL database at ${where}: ${reasonOf(cause, url)}`,
      { cause },
    )
  }

  const db = createDb(pool, url)
  // Every instance hears every integration change as it commits (changes.ts).
  const integrationChanges = createPostgresChangeFeed(url)

  return {
    kind: 'postgres',
    ...createPostgresKv(db.run),
    integrationChanges,
    ...createPostgresAccounts(db),
    ...createPostgresIntegrations(db),
    ...createPostgresOperators(db),
    ...createPostgresEvents(db),
    ...createPostgresAuditTrail(db),

    async ping() {
      let version: number
      try {
        version = Number(
          (await pool.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0]
            .v,
        )
      } catch (cause) {
        throw new StoreUnavailable(
          `PostgreSQL database at ${where} is not reachable: ${reasonOf(cause, url)}`,
          { cause },
        )
      }
      assertSchemaNotNewer(version, 'postgres')
    },

    async close() {
      await integrationChanges.close()
      if (!pool.ended) await pool.end()
    },
  }
}
