/**
 * @module store/sqlite/kv
 * The KvStore port (store/ports.ts) on the SQLite store's connection; tables `kv` and
 * `kv_index` (migrations/sqlite/003_kv.sql).
 *
 * Atomicity: node:sqlite is synchronous, so nothing else in this process runs between the
 * statements of one method; every write runs in its own savepoint inside the connection's group
 * commit (group-commit.ts: a `BEGIN IMMEDIATE` transaction shared by the writes of one event
 * loop turn, which takes the write lock up front), so other processes on the same file (the CLI)
 * never see, nor slip into, its middle, and its promise settles once it is committed.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import type { KvEntry, KvSetOptions, KvStore } from '../ports.ts'
import { expiry, indexEntries, toJson } from '../kv-values.ts'
import type { GroupCommit } from './group-commit.ts'

/** Every this many writes (set, setIfAbsent, increment), expired rows are purged on the way. */
export const KV_PURGE_EVERY = 500
/** How many expired rows one opportunistic purge removes at most. */
export const KV_PURGE_BATCH = 1000

type Row = Record<string, SQLInputValue>

const LIVE = '(expires_at IS NULL OR expires_at > :now)'

/**
 * The KV methods of the SQLite store (internal to store/sqlite). Writes join the connection's
 * group commit (group-commit.ts), so concurrent requests share one commit.
 */
export function createSqliteKv(db: DatabaseSync, group: GroupCommit): KvStore {
  const get = db.prepare(
    `SELECT value, expires_at FROM kv WHERE namespace = :ns AND key = :key AND ${LIVE}`,
  )
  const set = db.prepare(`
    INSERT INTO kv (namespace, key, value, expires_at) VALUES (:ns, :key, :value, :expires_at)
    ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`)
  const dropIndexes = db.prepare('DELETE FROM kv_index WHERE namespace = ? AND key = ?')
  const addIndex = db.prepare(
    'INSERT INTO kv_index (namespace, key, index_name, index_value) VALUES (?, ?, ?, ?)',
  )
  const findBy = db.prepare(`
    SELECT k.key, k.value, k.expires_at FROM kv_index i
    JOIN kv k ON k.namespace = i.namespace AND k.key = i.key
    WHERE i.namespace = :ns AND i.index_name = :name AND i.index_value = :value
      AND (k.expires_at IS NULL OR k.expires_at > :now)
    ORDER BY i.rowid DESC LIMIT 1`)
  const countBy = db.prepare(`
    SELECT count(*) AS n FROM kv_index i
    JOIN kv k ON k.namespace = i.namespace AND k.key = i.key
    WHERE i.namespace = :ns AND i.index_name = :name AND i.index_value = :value
      AND (k.expires_at IS NULL OR k.expires_at > :now)`)
  const del = db.prepare(
    `DELETE FROM kv WHERE namespace = :ns AND key = :key RETURNING ${LIVE} AS live`,
  )
  const delBy = db.prepare(`
    DELETE FROM kv WHERE namespace = :ns
      AND key IN (SELECT key FROM kv_index WHERE namespace = :ns AND index_name = :name AND index_value = :value)
    RETURNING ${LIVE} AS live`)
  const dropExpired = db.prepare(
    'DELETE FROM kv WHERE namespace = :ns AND key = :key AND expires_at <= :now',
  )
  const insertNew = db.prepare(`
    INSERT INTO kv (namespace, key, value, expires_at) VALUES (:ns, :key, :value, :expires_at)
    ON CONFLICT (namespace, key) DO NOTHING`)
  const increment = db.prepare(`
    INSERT INTO kv (namespace, key, value, expires_at) VALUES (:ns, :key, json_object('count', :by), :expires_at)
    ON CONFLICT (namespace, key) DO UPDATE SET value = json_set(kv.value, '$.count',
      CASE WHEN json_type(kv.value, '$.count') IN ('integer', 'real') THEN json_extract(kv.value, '$.count') ELSE 0 END + :by)
    RETURNING json_extract(value, '$.count') AS n`)
  const consume = db.prepare(`
    UPDATE kv SET value = json_set(value, '$.consumed', :at)
    WHERE namespace = :ns AND key = :key AND ${LIVE} AND coalesce(json_type(value, '$.consumed'), 'null') = 'null'`)
  const purgeAll = db.prepare('DELETE FROM kv WHERE expires_at <= ?')
  const purgeSome = db.prepare(
    'DELETE FROM kv WHERE rowid IN (SELECT rowid FROM kv WHERE expires_at <= ? LIMIT ?)',
  )

  let writes = 0
  /** Counts a write; every KV_PURGE_EVERY-th also removes a batch of expired rows. */
  function wrote(now: number): void {
    if (++writes % KV_PURGE_EVERY === 0) purgeSome.run(now, KV_PURGE_BATCH)
  }

  return {
    async kvSet(namespace, key, value, options: KvSetOptions = {}) {
      const now = Date.now()
      const params = {
        ns: namespace,
        key,
        value: toJson(value),
        expires_at: expiry(options.ttlMs, now),
      }
      const indexes = indexEntries(options.indexes)
      await group.write(() => {
        set.run(params)
        dropIndexes.run(namespace, key)
        for (const [name, v] of indexes) addIndex.run(namespace, key, name, v)
        wrote(now)
      })
    },

    async kvGet(namespace, key) {
      const row = get.get({ ns: namespace, key, now: Date.now() }) as Row | undefined
      return row ? toEntry(row) : null
    },

    async kvFindBy(namespace, index, indexValue) {
      const row = findBy.get({ ns: namespace, name: index, value: indexValue, now: Date.now() }) as
        Row | undefined
      return row ? { key: row.key as string, entry: toEntry(row) } : null
    },

    async kvCountBy(namespace, index, indexValue) {
      const row = countBy.get({
        ns: namespace,
        name: index,
        value: indexValue,
        now: Date.now(),
      }) as Row | undefined
      return Number(row?.n ?? 0)
    },

    async kvDelete(namespace, key) {
      const rows = await group.write(
        () => del.all({ ns: namespace, key, now: Date.now() }) as Row[],
      )
      return rows.some((r) => r.live === 1)
    },

    async kvDeleteBy(namespace, index, indexValue) {
      const rows = await group.write(
        () =>
          delBy.all({ ns: namespace, name: index, value: indexValue, now: Date.now() }) as Row[],
      )
      return rows.filter((r) => r.live === 1).length
    },

    async kvSetIfAbsent(namespace, key, value, options = {}) {
      const now = Date.now()
      const params = {
        ns: namespace,
        key,
        value: toJson(value),
        expires_at: expiry(options.ttlMs, now),
      }
      // Dropping the expired entry first also drops its index rows (trigger kv_drop_indexes).
      return group.write(() => {
        dropExpired.run({ ns: namespace, key, now })
        const created = Number(insertNew.run(params).changes) === 1
        wrote(now)
        return created
      })
    },

    async kvIncrement(namespace, key, by, ttlMs) {
      if (typeof by !== 'number' || !Number.isFinite(by))
        throw new TypeError(`kvIncrement: by must be a finite number, not ${String(by)}`)
      const now = Date.now()
      const expires_at = expiry(ttlMs, now)
      const row = await group.write(() => {
        dropExpired.run({ ns: namespace, key, now })
        const counted = increment.get({ ns: namespace, key, by: sqlNumber(by), expires_at }) as Row
        wrote(now)
        return counted
      })
      return Number(row.n)
    },

    async kvConsume(namespace, key) {
      const now = Date.now()
      return group.write(
        () =>
          Number(
            consume.run({ ns: namespace, key, now, at: sqlNumber(Math.floor(now / 1000)) }).changes,
          ) === 1,
      )
    },

    async kvPurgeExpired() {
      return group.write(() => Number(purgeAll.run(Date.now()).changes))
    },
  }
}

/** node:sqlite binds every JS number as REAL (`1.0` in JSON): whole numbers go as INTEGER. */
function sqlNumber(n: number): number | bigint {
  return Number.isSafeInteger(n) ? BigInt(n) : n
}

function toEntry(row: Row): KvEntry {
  return {
    value: JSON.parse(row.value as string),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  }
}
