/**
 * @module store
 * The one place that picks a database implementation from config.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { StoreConfig } from '../config/index.ts'
import type { Store } from './ports.ts'
import { acquireServerLock } from './sqlite/server-lock.ts'
import { checkSqliteCopy, snapshotSqlite } from './sqlite/snapshot.ts'
import { createSqliteStore } from './sqlite/store.ts'

export type * from './ports.ts'
export type { ServerLock } from './sqlite/server-lock.ts'
export type { SqliteCopyFacts } from './sqlite/snapshot.ts'
export { latestSchemaVersion } from './migrations/index.ts'

/**
 * SQLite: a consistent copy of the live database `file` at `dest`, taken beside a running
 * server (store/sqlite/snapshot.ts), checked like a restore checks it.
 * @throws {StoreUnavailable} @throws {SchemaTooNew}
 */
export const snapshotSqliteDatabase = snapshotSqlite

/**
 * SQLite: checks a database file about to be restored (integrity, schema version) without
 * migrating it.
 * @throws {BackupInvalid} @throws {SchemaTooNew}
 */
export const checkSqliteDatabaseCopy = checkSqliteCopy

/**
 * SQLite: takes the server lock of `file` for a CLI operation no server may run beside (a
 * restore): a server starting meanwhile refuses to, as it would beside another server.
 * @throws {StoreInUse} a server runs on it
 */
export const lockSqliteDatabase = acquireServerLock

/** Options of {@link createStore}. */
export interface CreateStoreOptions {
  /**
   * Opened by the server (not the CLI): on SQLite, takes the database's server lock first, so a
   * second server on one DATA_DIR refuses to start (store/sqlite/server-lock.ts); the store's
   * close() releases it. `dataDir` names the folder in the refusal.
   */
  server?: { dataDir: string }
}

/**
 * @throws {StoreUnavailable} the database cannot be opened
 * @throws {StoreInUse} `server` on SQLite, and another server holds the database
 */
export async function createStore(
  config: StoreConfig,
  options: CreateStoreOptions = {},
): Promise<Store> {
  if (config.kind === 'postgres') {
    const { createPostgresStore } = await import('./postgres/store.ts')
    return createPostgresStore(config.url!)
  }
  if (!options.server || config.file === ':memory:') return createSqliteStore(config.file)
  mkdirSync(path.dirname(config.file), { recursive: true })
  const lock = acquireServerLock(config.file, options.server.dataDir)
  let store: Store
  try {
    store = createSqliteStore(config.file)
  } catch (err) {
    lock.release()
    throw err
  }
  return {
    ...store,
    async close() {
      try {
        await store.close()
      } finally {
        lock.release()
      }
    },
  }
}
