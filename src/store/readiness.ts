/**
 * @module store/readiness
 * What `/readyz` checks, once, for every caller (http/routes/health.ts, the console's
 * Overview): the store answers a ping and its migrations are current (not migrated past this
 * build by a newer one).
 */
import { hasCode } from '../errors/index.ts'
import type { Store } from './ports.ts'

/** Ready, or why not, as a stable code (never the store's own error text). */
export type Readiness =
  { ready: true } | { ready: false; code: 'ERR_STORE_UNAVAILABLE' | 'ERR_SCHEMA_TOO_NEW' }

/** Pings the store; a failure is a {@link Readiness} with its code, never a throw. */
export async function checkReadiness(store: Pick<Store, 'ping'>): Promise<Readiness> {
  try {
    await store.ping()
    return { ready: true }
  } catch (err) {
    return {
      ready: false,
      code: hasCode(err, 'ERR_SCHEMA_TOO_NEW') ? 'ERR_SCHEMA_TOO_NEW' : 'ERR_STORE_UNAVAILABLE',
    }
  }
}
