/**
 * @module store/postgres/kv
 * The KvStore port (store/ports.ts) on the PostgreSQL store's pool; tables `kv` and
 * `kv_index` (migrations/postgres/003_kv.sql).
 *
 * Atomicity: every method is ONE statement (data-modifying CTEs where it touches both
 * tables), so it needs no transaction and no pooled client of its own, and is atomic across
 * connections and processes:
 * - Conditional writes are `INSERT … ON CONFLICT (namespace, key) DO UPDATE … WHERE`: of
 *   concurrent inserts of one key one wins, the others wait for it and then see its row (under
 *   READ COMMITTED the update's condition is re-checked on the newest version), so
 *   `kvSetIfAbsent` creates once and `kvIncrement` adds each `by` to the latest count.
 *   `kvConsume` is an `UPDATE … WHERE not consumed`, re-checked the same way.
 * - Index rows carry the `gen` of the entry version they belong to (a new one whenever the entry
 *   is replaced or re-created), and lookups join on it. A write drops the old generations' rows
 *   it can see; one a concurrent writer committed unseen is ignored by every lookup, and goes
 *   with the entry (ON DELETE CASCADE), never pointing at a value it does not describe.
 * - Expiry compares `expires_at` (epoch ms) with this process's clock, passed as a parameter.
 */
import type { QueryResult } from 'pg'
import type { KvEntry, KvSetOptions, KvStore } from '../ports.ts'
import { expiry, indexEntries, toJson } from '../kv-values.ts'

/** Every this many writes (set, setIfAbsent, increment) of this store, expired rows are purged on the way. */
export const KV_PURGE_EVERY = 500
/** How many expired rows one opportunistic purge removes at most. */
export const KV_PURGE_BATCH = 1000

/** Runs a named statement on the pool, mapping a lost connection to StoreUnavailable (the store's `run`). */
export type RunQuery = (
  query: { name: string; text: string },
  values: unknown[],
) => Promise<QueryResult>

const live = (k: string, now: string) =>
  `(${k}.expires_at IS NULL OR ${k}.expires_at > ${now}::bigint)`

const SQL = {
  get: {
    name: 'sso_kv_get',
    text: `SELECT value, expires_at FROM kv WHERE namespace = $1 AND key = $2 AND ${live('kv', '$3')}`,
  },
  /** Replaces the entry under a new gen, drops the index rows of older gens, adds the new ones. */
  set: {
    name: 'sso_kv_set',
    text: `
  WITH up AS (
    INSERT INTO kv (namespace, key, value, expires_at) VALUES ($1, $2, $3::jsonb, $4::bigint)
    ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, gen = EXCLUDED.gen
    RETURNING gen
  ), stale AS (
    DELETE FROM kv_index i USING up WHERE i.namespace = $1 AND i.key = $2 AND i.gen <> up.gen
  )
  INSERT INTO kv_index (namespace, key, gen, index_name, index_value)
  SELECT $1, $2, up.gen, t.name, t.value FROM up, unnest($5::text[], $6::text[]) AS t(name, value)`,
  },
  findBy: {
    name: 'sso_kv_find_by',
    text: `
  SELECT k.key, k.value, k.expires_at FROM kv_index i
  JOIN kv k ON k.namespace = i.namespace AND k.key = i.key AND k.gen = i.gen
  WHERE i.namespace = $1 AND i.index_name = $2 AND i.index_value = $3 AND ${live('k', '$4')}
  ORDER BY k.gen DESC LIMIT 1`,
  },
  countBy: {
    name: 'sso_kv_count_by',
    text: `
  SELECT count(*)::int AS n FROM kv_index i
  JOIN kv k ON k.namespace = i.namespace AND k.key = i.key AND k.gen = i.gen
  WHERE i.namespace = $1 AND i.index_name = $2 AND i.index_value = $3 AND ${live('k', '$4')}`,
  },
  del: {
    name: 'sso_kv_delete',
    text: `
  WITH d AS (DELETE FROM kv WHERE namespace = $1 AND key = $2 RETURNING ${live('kv', '$3')} AS live)
  SELECT count(*) FILTER (WHERE live)::int AS n FROM d`,
  },
  delBy: {
    name: 'sso_kv_delete_by',
    text: `
  WITH d AS (
    DELETE FROM kv k USING kv_index i
    WHERE i.namespace = $1 AND i.index_name = $2 AND i.index_value = $3
      AND k.namespace = i.namespace AND k.key = i.key AND k.gen = i.gen
    RETURNING ${live('k', '$4')} AS live
  )
  SELECT count(*) FILTER (WHERE live)::int AS n FROM d`,
  },
  /** Inserts, or takes over an expired entry under a new gen; a row comes back only then. */
  setIfAbsent: {
    name: 'sso_kv_set_if_absent',
    text: `
  WITH up AS (
    INSERT INTO kv (namespace, key, value, expires_at) VALUES ($1, $2, $3::jsonb, $4::bigint)
    ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, gen = EXCLUDED.gen
    WHERE NOT ${live('kv', '$5')}
    RETURNING gen
  ), stale AS (
    DELETE FROM kv_index i USING up WHERE i.namespace = $1 AND i.key = $2 AND i.gen <> up.gen
  )
  SELECT count(*)::int AS n FROM up`,
  },
  /** Adds to a live entry's count (keeping lifetime and gen), or starts an absent/expired one afresh. */
  increment: {
    name: 'sso_kv_increment',
    text: `
  WITH up AS (
    INSERT INTO kv (namespace, key, value, expires_at) VALUES ($1, $2, jsonb_build_object('count', $3::numeric), $4::bigint)
    ON CONFLICT (namespace, key) DO UPDATE SET
      value = CASE WHEN ${live('kv', '$5')}
        THEN jsonb_set(kv.value, '{count}', to_jsonb(
          CASE WHEN jsonb_typeof(kv.value -> 'count') = 'number' THEN (kv.value ->> 'count')::numeric ELSE 0 END + $3::numeric))
        ELSE EXCLUDED.value END,
      expires_at = CASE WHEN ${live('kv', '$5')} THEN kv.expires_at ELSE EXCLUDED.expires_at END,
      gen = CASE WHEN ${live('kv', '$5')} THEN kv.gen ELSE EXCLUDED.gen END
    RETURNING gen, (value ->> 'count')::float8 AS n
  ), stale AS (
    DELETE FROM kv_index i USING up WHERE i.namespace = $1 AND i.key = $2 AND i.gen <> up.gen
  )
  SELECT n FROM up`,
  },
  consume: {
    name: 'sso_kv_consume',
    text: `
  UPDATE kv SET value = jsonb_set(value, '{consumed}', to_jsonb($3::bigint))
  WHERE namespace = $1 AND key = $2 AND ${live('kv', '$4')} AND coalesce(jsonb_typeof(value -> 'consumed'), 'null') = 'null'`,
  },
  purgeAll: { name: 'sso_kv_purge', text: 'DELETE FROM kv WHERE expires_at <= $1::bigint' },
  /** A batch of expired rows, skipping any another process is deleting right now. */
  purgeSome: {
    name: 'sso_kv_purge_some',
    text: `
  DELETE FROM kv WHERE (namespace, key) IN (
    SELECT namespace, key FROM kv WHERE expires_at <= $1::bigint LIMIT $2 FOR UPDATE SKIP LOCKED)`,
  },
} as const

/**
 * The KV methods of the PostgreSQL store (internal to store/postgres). Expired rows are never
 * returned; they are purged in small background batches as writes go by.
 */
export function createPostgresKv(run: RunQuery): KvStore {
  let writes = 0
  /** Counts a write; every KV_PURGE_EVERY-th also removes a batch of expired rows, in the background. */
  function wrote(now: number): void {
    if (++writes % KV_PURGE_EVERY === 0) {
      // Best effort: a failure (the pool closing, the server gone) is the next purge's to retry.
      run(SQL.purgeSome, [now, KV_PURGE_BATCH]).catch(() => {})
    }
  }

  return {
    async kvSet(namespace, key, value, options: KvSetOptions = {}) {
      const now = Date.now()
      const indexes = indexEntries(options.indexes)
      await run(SQL.set, [
        namespace,
        key,
        toJson(value),
        expiry(options.ttlMs, now),
        indexes.map(([name]) => name),
        indexes.map(([, v]) => v),
      ])
      wrote(now)
    },

    async kvGet(namespace, key) {
      const [row] = (await run(SQL.get, [namespace, key, Date.now()])).rows
      return row ? toEntry(row) : null
    },

    async kvFindBy(namespace, index, indexValue) {
      const [row] = (await run(SQL.findBy, [namespace, index, indexValue, Date.now()])).rows
      return row ? { key: row.key as string, entry: toEntry(row) } : null
    },

    async kvCountBy(namespace, index, indexValue) {
      const [row] = (await run(SQL.countBy, [namespace, index, indexValue, Date.now()])).rows
      return (row?.n as number | undefined) ?? 0
    },

    async kvDelete(namespace, key) {
      const [row] = (await run(SQL.del, [namespace, key, Date.now()])).rows
      return row!.n > 0
    },

    async kvDeleteBy(namespace, index, indexValue) {
      const [row] = (await run(SQL.delBy, [namespace, index, indexValue, Date.now()])).rows
      return row!.n as number
    },

    async kvSetIfAbsent(namespace, key, value, options = {}) {
      const now = Date.now()
      const [row] = (
        await run(SQL.setIfAbsent, [namespace, key, toJson(value), expiry(options.ttlMs, now), now])
      ).rows
      wrote(now)
      return row!.n === 1
    },

    async kvIncrement(namespace, key, by, ttlMs) {
      if (typeof by !== 'number' || !Number.isFinite(by))
        throw new TypeError(`kvIncrement: by must be a finite number, not ${String(by)}`)
      const now = Date.now()
      const [row] = (await run(SQL.increment, [namespace, key, by, expiry(ttlMs, now), now])).rows
      wrote(now)
      return row!.n as number
    },

    async kvConsume(namespace, key) {
      const now = Date.now()
      return (await run(SQL.consume, [namespace, key, Math.floor(now / 1000), now])).rowCount === 1
    },

    async kvPurgeExpired() {
      return (await run(SQL.purgeAll, [Date.now()])).rowCount ?? 0
    },
  }
}

function toEntry(row: Record<string, unknown>): KvEntry {
  // BIGINT comes back as a string; epoch milliseconds are well within 2^53.
  return {
    value: row.value as Record<string, unknown>,
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  }
}
