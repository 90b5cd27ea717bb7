/**
 * @module store/postgres/migrate
 * Schema migrations for the PostgreSQL store (SQL in ../migrations/postgres/).
 */
import type { Pool } from 'pg'
import { assertSchemaNotNewer, listMigrations } from '../migrations/index.ts'

/** Key of the advisory lock serialising migrations across processes (any fixed bigint). */
const MIGRATION_LOCK = 0x550b_71d6_e5

/**
 * Applies pending migrations, each in its own transaction. Every transaction first takes an
 * advisory lock, so processes starting together wait for each other, then re-reads what is
 * applied: the loser of the race finds the work done. Refuses, before changing anything, a
 * database a newer build migrated.
 * @throws {SchemaTooNew}
 */
export async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    const exists = (await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS e"))
      .rows[0]!.e as boolean
    const applied = new Set<number>(
      exists
        ? (await client.query('SELECT version FROM schema_migrations')).rows.map(
            (r) => r.version as number,
          )
        : [],
    )
    assertSchemaNotNewer(Math.max(0, ...applied), 'postgres')
    for (const m of listMigrations('postgres')) {
      if (applied.has(m.version)) continue
      await client.query('BEGIN')
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)',
        )
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
          m.version,
        ])
        if (done.rowCount === 0) {
          await client.query(m.sql)
          await client.query(
            'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
            [m.version, m.name, new Date().toISOString()],
          )
        }
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e
        })
        throw err
      }
    }
  } finally {
    client.release(broken)
  }
}
