/**
 * @module store/sqlite/server-lock
 * One server per SQLite database. Two servers on one DATA_DIR used to start without a word, then
 * stall each other on SQLite's single write lock (busy_timeout) and fail writes with "database
 * is locked" under a long import. A server now holds an exclusive lock on a small lock file
 * beside the database for as long as it runs; a second server finds it taken and refuses to
 * start, pointing to DATABASE_URL (PostgreSQL) for several instances.
 *
 * The lock is SQLite's own (`BEGIN EXCLUSIVE` on an empty database file, held open): an
 * OS-level POSIX record lock, which the kernel drops when the holding process ends however it
 * ends. So a crashed or killed server leaves no stale lock behind (no pid file to clean up, no
 * pid reuse to guess about). The CLI does not take it: it still writes beside one server, as
 * SQLite's WAL mode and busy_timeout allow; only `restore`, which replaces the database file,
 * takes it, so it refuses while a server runs and no server starts while it writes. Like every POSIX lock, it is only as good as the
 * filesystem's locking: keep DATA_DIR on a local disk (NFS locking is often unreliable).
 */
import { DatabaseSync } from 'node:sqlite'
import { StoreInUse } from '../../errors/index.ts'

/** The lock file of the SQLite database `file`. */
export const serverLockFile = (file: string): string => `${file}.server-lock`

/** A held server lock; `release` lets the next server start. */
export interface ServerLock {
  readonly file: string
  release(): void
}

/**
 * Takes the server lock of the SQLite database `file` without waiting.
 * @throws {StoreInUse} another process (a server) holds it
 */
export function acquireServerLock(file: string, dataDir: string): ServerLock {
  const lockFile = serverLockFile(file)
  const db = new DatabaseSync(lockFile)
  try {
    // No waiting: a held lock means a running server, and it will not let go.
    db.exec('PRAGMA busy_timeout = 0')
    db.exec('BEGIN EXCLUSIVE')
  } catch (cause) {
    db.close()
    if ((cause as { errcode?: number }).errcode === SQLITE_BUSY) {
      throw new StoreInUse(
        `another sso-bridge server is already running on DATA_DIR ${dataDir} (it holds ${lockFile}). ` +
          'The embedded SQLite store serves one server; to run several instances, set DATABASE_URL to one PostgreSQL database ' +
          '(docs/operations.md, "Running several instances"). The CLI may still be used beside the running server.',
        { cause },
      )
    }
    throw cause
  }
  return {
    file: lockFile,
    release() {
      if (db.isOpen) db.close() // closing ends the transaction and drops the lock
    },
  }
}

const SQLITE_BUSY = 5
