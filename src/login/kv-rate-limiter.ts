/**
 * @module login/kv-rate-limiter
 * rate-limiter-flexible's storage side over our {@link KvStore}, so its limiter logic (points,
 * fixed windows, rejection with the time left) runs on SQLite and PostgreSQL alike through one
 * code path, and the counters are shared by every instance on the database and survive a
 * restart. The library ships no store for node:sqlite, and its PostgreSQL one wants its own
 * table and pool; the KV port already has what it asks of a store (README "Creating Custom
 * Limiters": `_upsert`, `_get`, `_delete`, `_getRateLimiterRes`).
 *
 * Atomic: `_upsert` is {@link KvStore.kvIncrement} (one atomic step, across processes too), so
 * of N concurrent consumes exactly `points` are let through.
 */
import { createRequire } from 'node:module'
import type {
  RateLimiterRes as RateLimiterResType,
  RateLimiterStoreAbstract as StoreAbstractType,
} from 'rate-limiter-flexible'
import type { KvStore } from '../store/ports.ts'

// The library's index does not export the abstract class its README tells custom stores to
// extend; its own file does (the package has no `exports` map, so the path is public).
const require = createRequire(import.meta.url)
const RateLimiterStoreAbstract =
  require('rate-limiter-flexible/lib/RateLimiterStoreAbstract.js') as typeof StoreAbstractType
/**
 * The library's result (and rejection) class, from its own file for the same reason: the index
 * loads every limiter the library ships (Redis, Mongo, DynamoDB, …: 36 modules at start-up, for
 * the two files used here; docs/performance.md). The abstract class above requires this same
 * file, so `instanceof` holds for what it rejects with.
 */
export const RateLimiterRes =
  require('rate-limiter-flexible/lib/RateLimiterRes.js') as typeof RateLimiterResType
/** An instance of {@link RateLimiterRes}. */
export type RateLimiterRes = RateLimiterResType

/** The KV namespace of every sign-in counter. */
export const THROTTLE_NAMESPACE = 'login:throttle'

/** What `_upsert`/`_get` hand to `_getRateLimiterRes`: the count and when the window ends (epoch ms, null when unknown). */
interface StoreResult {
  points: number
  expire: number | null
}

/** What a {@link KvRateLimiter} takes: its store, its key prefix and its fixed window. */
export interface KvRateLimiterOptions {
  kv: KvStore
  /** Prefix of this limiter's keys within {@link THROTTLE_NAMESPACE} (e.g. `ip`, `account`). */
  keyPrefix: string
  /** Consumes allowed per window. */
  points: number
  /** Window length in seconds (fixed: it starts at the first consume and is not extended). */
  duration: number
}

/** A fixed-window rate limiter whose counters live in the store's KV. */
export class KvRateLimiter extends RateLimiterStoreAbstract {
  readonly #kv: KvStore

  constructor({ kv, keyPrefix, points, duration }: KvRateLimiterOptions) {
    if (!(duration > 0))
      throw new TypeError(
        'KvRateLimiter: duration must be positive (the KV counters always expire)',
      )
    // No in-memory blocking: a process-local block would not be shared with other instances
    // nor cleared by an operator's unlock.
    super({
      storeClient: kv,
      keyPrefix,
      points,
      duration,
      inMemoryBlockOnConsumed: 0,
      blockDuration: 0,
      execEvenly: false,
    })
    this.#kv = kv
  }

  /**
   * Adds `points` (negative for a reward) to the key's count; `forceExpire` (the library's `set`
   * and `block`) replaces count and window instead.
   */
  async _upsert(
    rlKey: string,
    points: number,
    msDuration: number,
    forceExpire = false,
  ): Promise<StoreResult> {
    if (forceExpire) {
      await this.#kv.kvSet(
        THROTTLE_NAMESPACE,
        rlKey,
        { count: points },
        msDuration > 0 ? { ttlMs: msDuration } : {},
      )
      return { points, expire: msDuration > 0 ? Date.now() + msDuration : null }
    }
    const count = await this.#kv.kvIncrement(THROTTLE_NAMESPACE, rlKey, points, msDuration)
    // The window's end is read only when it is needed (a refusal's Retry-After): an allowed
    // attempt then costs one round trip per key, not two.
    if (count <= this.points) return { points: count, expire: null }
    const entry = await this.#kv.kvGet(THROTTLE_NAMESPACE, rlKey)
    return { points: count, expire: entry?.expiresAt ?? Date.now() + msDuration }
  }

  async _get(rlKey: string): Promise<StoreResult | null> {
    const entry = await this.#kv.kvGet(THROTTLE_NAMESPACE, rlKey)
    if (!entry) return null
    const count = entry.value.count
    return { points: typeof count === 'number' ? count : 0, expire: entry.expiresAt }
  }

  async _delete(rlKey: string): Promise<boolean> {
    return this.#kv.kvDelete(THROTTLE_NAMESPACE, rlKey)
  }

  _getRateLimiterRes(_rlKey: string, changedPoints: number, result: StoreResult): RateLimiterRes {
    const consumed = result.points
    return new RateLimiterRes(
      Math.max(this.points - consumed, 0),
      result.expire === null ? -1 : Math.max(result.expire - Date.now(), 0),
      consumed,
      changedPoints === consumed,
    )
  }
}
