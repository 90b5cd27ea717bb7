/**
 * @module store/sqlite/snapshot
 * A consistent copy of a live SQLite database, and the checks a copy must pass before a server
 * is started on it.
 *
 * The copy is SQLite's online backup API (node:sqlite `backup()`), run from a separate process
 * beside the running server. It takes no server lock and needs none: the database is in WAL
 * mode, so the copy is one read transaction — a snapshot of every transaction committed when it
 * began — while the server keeps writing to the WAL. All pages are copied in one step, because
 * the backup API starts over whenever another connection writes between two steps, which under
 * a steady write load could go on for ever. The server's checkpointer
 * (checkpointer.ts) cannot move the WAL past a snapshot that is being read, so it simply
 * catches up afterwards.
 */
import { existsSync, rmSync } from 'node:fs'
import { backup, DatabaseSync } from 'node:sqlite'
import { BackupInvalid, isBridgeError, StoreUnavailable } from '../../errors/index.ts'
import { assertSchemaNotNewer } from '../migrations/index.ts'
import { schemaVersion } from './migrate.ts'

/** What a checked copy holds. */
export interface SqliteCopyFacts {
  /** The highest migration recorded in the copy. */
  schemaVersion: number
}

/** Pages per backup step: all of them (node:sqlite wants a positive int32). */
const ALL_PAGES = 2 ** 31 - 1

/**
 * Copies the SQLite database `file` (the server may be running on it) to `dest`, a path that
 * does not exist yet, then checks the copy ({@link checkSqliteCopy}).
 * @throws {StoreUnavailable} `file` is missing or cannot be read
 * @throws {SchemaTooNew} a newer sso-bridge migrated it
 */
export async function snapshotSqlite(file: string, dest: string): Promise<SqliteCopyFacts> {
  // Opening would create a missing file: a backup of a database that never existed is a mistake.
  if (!existsSync(file))
    throw new StoreUnavailable(`there is no SQLite database at ${file} (check DATA_DIR)`)
  let db: DatabaseSync
  try {
    db = new DatabaseSync(file, { timeout: 5000 })
    db.prepare('SELECT count(*) FROM sqlite_master').get()
  } catch (cause) {
    throw new StoreUnavailable(`cannot read the SQLite database at ${file}`, { cause })
  }
  try {
    assertSchemaNotNewer(schemaVersion(db), 'sqlite')
    await backup(db, dest, { rate: ALL_PAGES })
  } catch (err) {
    rmSync(dest, { force: true })
    if (isBridgeError(err)) throw err
    throw new StoreUnavailable(`cannot copy the SQLite database at ${file}`, { cause: err })
  } finally {
    db.close()
  }
  // The copy keeps the source's WAL flag; a rollback-journal file is one self-contained file,
  // readable by any sqlite3 tool. The server switches it back to WAL when it opens it.
  const copy = new DatabaseSync(dest)
  try {
    copy.exec('PRAGMA journal_mode = DELETE')
  } finally {
    copy.close()
  }
  return checkSqliteCopy(dest)
}

/**
 * Checks a copied database before anything relies on it: SQLite's `PRAGMA integrity_check`
 * (every page, index and constraint) and its schema version, without migrating it.
 * @throws {BackupInvalid} not a database, or a damaged one
 * @throws {SchemaTooNew} a newer sso-bridge migrated it
 */
export function checkSqliteCopy(file: string): SqliteCopyFacts {
  let db: DatabaseSync | undefined
  try {
    // Read-write: a copy in WAL mode cannot be opened read-only without its -shm file. The
    // copy is ours (a staging folder), and these statements only read.
    db = new DatabaseSync(file)
    const rows = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]
    const verdict = rows.map((r) => r.integrity_check)
    if (verdict.length !== 1 || verdict[0] !== 'ok')
      throw new BackupInvalid(
        `the database in the backup fails SQLite's integrity check: ${verdict.slice(0, 3).join('; ')}`,
      )
    const version = schemaVersion(db)
    if (version === 0)
      throw new BackupInvalid('the database in the backup holds no sso-bridge schema')
    assertSchemaNotNewer(version, 'sqlite')
    return { schemaVersion: version }
  } catch (err) {
    if (isBridgeError(err)) throw err
    // "file is not a database", "database disk image is malformed"…
    throw new BackupInvalid(
      `the database in the backup cannot be read (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    )
  } finally {
    db?.close()
  }
}
