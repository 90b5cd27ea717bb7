/**
 * @module store
 * The one place that picks a database implementation from config.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { StoreConfig } from '../config/index.ts'
import type { Store } from './ports.ts'
import { acquireServerLock } from './sqlite/server-lock.ts'
import { createSqliteStore } from './sqlite/store.ts'

export type * from './ports.ts'

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
