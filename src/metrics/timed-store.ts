/**
 * @module metrics/timed-store
 * The store with each method's latency counted for `GET /metrics`
 * (`sso_bridge_store_duration_seconds{op}`, op = the method's name, a fixed set). Until metrics
 * are first asked for, a call costs one branch more (metrics/metrics.ts: nothing is loaded
 * before the first scrape).
 */
import type { Store } from '../store/ports.ts'

/** What the timed store reports to: whether to time at all, and where a latency goes. */
export interface StoreTimer {
  /** False until the first scrape. */
  readonly timing: boolean
  observeStore(op: string, seconds: number): void
}

/**
 * `store` with every method timed while `timer.timing`; other properties (kind, the change
 * feed) are the store's own.
 */
export function timeStore(store: Store, timer: StoreTimer): Store {
  const timed: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(store)) {
    if (typeof value !== 'function') {
      timed[name] = value
      continue
    }
    const method = value as (...args: unknown[]) => unknown
    timed[name] = (...args: unknown[]) => {
      if (!timer.timing) return method.apply(store, args)
      const start = performance.now()
      const out = method.apply(store, args)
      const done = () => timer.observeStore(name, (performance.now() - start) / 1000)
      // Observed when it settles; the caller still gets (and handles) the store's own promise.
      if (out instanceof Promise) out.then(done, done)
      else done()
      return out
    }
  }
  return timed as unknown as Store
}
