/**
 * @module store/sqlite/events
 * The EventStore port (store/ports.ts) on the SQLite store's connection; table `events`
 * (migrations/sqlite/005_events.sql). Appends join the KV group commit (group-commit.ts), so
 * a request's events share the commit its session and token writes already pay for.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import { EVENT_CATEGORY_SQL, KNOWN_INTEGRATION_SQL } from '../event-categories.ts'
import { decodeCursor, encodeCursor } from '../ids.ts'
import type { EventCount, EventRecord, EventStore } from '../ports.ts'
import type { GroupCommit } from './group-commit.ts'
import type { Writer } from './writer.ts'

/** The event methods of the SQLite store (internal to store/sqlite). */
export function createSqliteEvents(
  db: DatabaseSync,
  group: GroupCommit,
  writer: Writer,
): EventStore {
  const insert = db.prepare(
    'INSERT INTO events (id, at, door, kind, result, integration_id, member_id, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  )
  // Oldest first through the `at` index, a bounded batch: a long backlog is pruned over several
  // runs without holding the write lock for long.
  const prune = writer.prepare(
    'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)',
  )
  // `at` is always `Date#toISOString()` (YYYY-MM-DDTHH:MM:SS.sssZ), so a bucket is a prefix of it;
  // the window is a range on the `at` index.
  const count = (prefix: number, rest: string) =>
    db.prepare(`
    SELECT substr(at, 1, ${prefix}) || '${rest}' AS bucket,
      ${KNOWN_INTEGRATION_SQL} AS integration_id, ${EVENT_CATEGORY_SQL} AS category,
      count(*) AS count
    FROM events WHERE at >= ? AND at < ? AND (${EVENT_CATEGORY_SQL}) IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1`)
  const counts = { hour: count(13, ':00:00.000Z'), day: count(10, 'T00:00:00.000Z') }
  return {
    async appendEvents(events) {
      if (events.length === 0) return
      await group.write(() => {
        for (const e of events)
          insert.run(
            e.id,
            e.at,
            e.door,
            e.kind,
            e.result,
            e.integration_id,
            e.member_id,
            e.request_id,
          )
      })
    },

    async listEvents(query) {
      const where: string[] = []
      const params: SQLInputValue[] = []
      if (query.after) {
        const before = decodeCursor(query.after)
        if (before === null) return { items: [], next: null }
        where.push('id < ?')
        params.push(before)
      }
      const filters = [
        ['integration_id', query.integration_id],
        ['member_id', query.member_id],
        ['door', query.door],
        ['kind', query.kind],
        ['result', query.result],
      ] as const
      for (const [column, value] of filters) {
        if (value === undefined) continue
        where.push(`${column} = ?`)
        params.push(value)
      }
      if (query.since !== undefined) {
        where.push('at >= ?')
        params.push(query.since)
      }
      if (query.until !== undefined) {
        where.push('at <= ?')
        params.push(query.until)
      }
      params.push(query.limit + 1)
      const rows = db
        .prepare(
          `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
        )
        .all(...params) as unknown as EventRecord[]
      const items = rows.slice(0, query.limit).map((r) => ({ ...r }))
      return { items, next: rows.length > query.limit ? encodeCursor(items.at(-1)!.id) : null }
    },

    async pruneEvents(before, limit) {
      return Number(prune.run(before, limit).changes)
    },

    async countEvents(query) {
      const rows = counts[query.bucket].all(query.since, query.until) as unknown as EventCount[]
      return rows.map((r) => ({ ...r, count: Number(r.count) }))
    },
  }
}
