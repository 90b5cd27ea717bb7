/**
 * @module store
 * The one place that picks a database implementation from config.
 */
import type { StoreConfig } from '../config/index.ts'
import type { Store } from './ports.ts'
import { createSqliteStore } from './sqlite/store.ts'

export type * from './ports.ts'

export async function createStore(config: StoreConfig): Promise<Store> {
  if (config.kind === 'postgres') {
    const { createPostgresStore } = await import('./postgres/store.ts')
    return createPostgresStore(config.url!)
  }
  return createSqliteStore(config.file)
}
