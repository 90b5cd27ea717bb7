/**
 * @module store/sqlite/migrate
 * Schema migrations for the SQLite store (SQL in ../migrations/sqlite/), each in its own
 * transaction. Runs while the store opens, after it committed any open KV batch of this thread.
 */
import type { DatabaseSync } from 'node:sqlite'
import { assertSchemaNotNewer, listMigrations } from '../migrations/index.ts'

/** The schema version `db` records: the highest applied migration (0 for a new file). */
export function schemaVersion(db: DatabaseSync): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get()
  if (!table) return 0
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as {
    v: number | null
  }
  return Number(row.v ?? 0)
}

/**
 * Applies the SQLite migrations not yet recorded in `schema_migrations`, each in its own
 * BEGIN IMMEDIATE transaction that checks again under the write lock, so two processes opening
 * a new file apply each migration once. Refuses, before changing anything, a database a newer
 * build migrated.
 * @throws {SchemaTooNew}
 */
export function migrate(db: DatabaseSync): void {
  assertSchemaNotNewer(schemaVersion(db), 'sqlite')
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  )
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?')
  for (const m of listMigrations('sqlite')) {
    if (isApplied.get(m.version)) continue
    db.exec('BEGIN IMMEDIATE')
    try {
      // Another process may have applied it while we waited for the write lock.
      if (isApplied.get(m.version)) {
        db.exec('COMMIT')
        continue
      }
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      )
      db.exec('COMMIT')
    } catch (err) {
      db.exec('ROLLBACK')
      throw err
    }
  }
}
