/**
 * @module store/postgres/events
 * The EventStore port (store/ports.ts) on PostgreSQL; table `events`
 * (migrations/postgres/005_events.sql). A batch of events is one statement
 * (`INSERT … SELECT FROM unnest(…)`), as the batch account writer does.
 */
import { EVENT_CATEGORY_SQL, KNOWN_INTEGRATION_SQL } from '../event-categories.ts'
import { decodeCursor, encodeCursor } from '../ids.ts'
import type { EventCount, EventRecord, EventStore } from '../ports.ts'
import type { Db } from './db.ts'

const APPEND = {
  name: 'sso_events_append',
  text: `INSERT INTO events (id, at, door, kind, result, integration_id, member_id, request_id)
    SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
      $6::text[], $7::text[], $8::text[])`,
}

// SKIP LOCKED: instances pruning at once each take rows no other has locked, so none waits on
// another and no row is counted twice. Oldest first through the `at` index, a bounded batch.
const PRUNE = {
  name: 'sso_events_prune',
  text: `DELETE FROM events WHERE id IN (
    SELECT id FROM events WHERE at < $1::timestamptz ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
}

// One grouped query per view over the `at` index; the bucket is spelled as SQLite's (an ISO
// start of the hour or day in UTC), so both stores answer alike.
const count = (bucket: 'hour' | 'day', format: string) => ({
  name: `sso_events_count_${bucket}`,
  text: `SELECT to_char(date_trunc('${bucket}', at AT TIME ZONE 'UTC'), '${format}') AS bucket,
      ${KNOWN_INTEGRATION_SQL} AS integration_id, ${EVENT_CATEGORY_SQL} AS category,
      count(*)::int AS count
    FROM events WHERE at >= $1::timestamptz AND at < $2::timestamptz AND (${EVENT_CATEGORY_SQL}) IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1`,
})
const COUNT = {
  hour: count('hour', 'YYYY-MM-DD"T"HH24":00:00.000Z"'),
  day: count('day', 'YYYY-MM-DD"T00:00:00.000Z"'),
}

/** The event methods of the PostgreSQL store (internal to store/postgres). */
export function createPostgresEvents(db: Db): EventStore {
  return {
    async appendEvents(events) {
      if (events.length === 0) return
      const column = <K extends keyof EventRecord>(k: K) => events.map((e) => e[k])
      await db.run(APPEND, [
        column('id'),
        column('at'),
        column('door'),
        column('kind'),
        column('result'),
        column('integration_id'),
        column('member_id'),
        column('request_id'),
      ])
    },

    async listEvents(query) {
      const values: unknown[] = []
      const where: string[] = []
      /** Adds a condition on the next parameter, `$n` standing for it. */
      const filter = (condition: string, value: unknown) => {
        values.push(value)
        where.push(condition.replaceAll('$n', `$${values.length}`))
      }
      if (query.after) {
        const before = decodeCursor(query.after)
        if (before === null) return { items: [], next: null }
        filter('id < $n', before)
      }
      if (query.integration_id !== undefined) filter('integration_id = $n', query.integration_id)
      if (query.member_id !== undefined) filter('member_id = $n', query.member_id)
      if (query.door !== undefined) filter('door = $n', query.door)
      if (query.kind !== undefined) filter('kind = $n', query.kind)
      if (query.result !== undefined) filter('result = $n', query.result)
      if (query.since !== undefined) filter('at >= $n::timestamptz', query.since)
      if (query.until !== undefined) filter('at <= $n::timestamptz', query.until)
      values.push(query.limit + 1)
      const rows = await db.q(
        {
          text: `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${values.length}`,
        },
        values,
      )
      const items = rows
        .slice(0, query.limit)
        .map((r) => ({ ...r, at: (r.at as Date).toISOString() }) as EventRecord)
      return { items, next: rows.length > query.limit ? encodeCursor(items.at(-1)!.id) : null }
    },

    async pruneEvents(before, limit) {
      return (await db.run(PRUNE, [before, limit])).rowCount ?? 0
    },

    async countEvents(query) {
      return (await db.q(COUNT[query.bucket], [query.since, query.until])) as EventCount[]
    },
  }
}
