/**
 * @module store/postgres/audit-trail
 * The AuditTrailStore port (store/ports.ts) on PostgreSQL: the conflict resolutions
 * (`audit_log`), the configuration changes (`config_audit`, migrations/postgres/006) and the
 * operator log (`operator_audit`) read as one, newest first. Each log's id is a UUIDv7 (COLLATE
 * "C": byte order), so one `ORDER BY id` merges them by time — the planner merges the three
 * primary-key indexes — and one id is the page cursor for all three.
 */
import { CONFLICT_DETAIL_COLUMNS, MIRRORED_OPERATOR_ACTIONS_SQL } from '../audit-trail.ts'
import { decodeCursor, encodeCursor } from '../ids.ts'
import type { AuditSource, AuditTrailEntry, AuditTrailStore } from '../ports.ts'
import type { Db } from './db.ts'

/**
 * Each log as a trail entry: id, at, source, actor, action, target, holder, detail — every column
 * named in every SELECT, since a filter may leave any one of them first (or alone).
 */
const SELECTS: Record<AuditSource, string> = {
  conflict: `SELECT id, at, 'conflict'::text AS source, actor, action,
      'account:' || account_external_id AS target, 'account:' || holder_external_id AS holder,
      jsonb_build_object(${CONFLICT_DETAIL_COLUMNS.map((c) => `'${c}', ${c}`).join(', ')}) AS detail
    FROM audit_log`,
  config: `SELECT id, at, 'config'::text AS source, actor, action, target, NULL::text AS holder,
    detail FROM config_audit`,
  operator: `SELECT id, at, 'operator'::text AS source, actor, action, target, NULL::text AS holder,
    NULL::jsonb AS detail FROM operator_audit WHERE action NOT IN (${MIRRORED_OPERATOR_ACTIONS_SQL})`,
}

/** The audit-trail read of the PostgreSQL store (internal to store/postgres). */
export function createPostgresAuditTrail(db: Db): AuditTrailStore {
  return {
    async listAuditTrail(query) {
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
      if (query.actor !== undefined) filter('actor = $n', query.actor)
      if (query.action !== undefined) filter('action = $n', query.action)
      if (query.target !== undefined) filter('(target = $n OR holder = $n)', query.target)
      if (query.since !== undefined) filter('at >= $n::timestamptz', query.since)
      if (query.until !== undefined) filter('at <= $n::timestamptz', query.until)
      const sources = query.source ? [query.source] : (Object.keys(SELECTS) as AuditSource[])
      values.push(query.limit + 1)
      const rows = await db.q(
        {
          text: `SELECT * FROM (${sources.map((s) => SELECTS[s]).join(' UNION ALL ')}) trail
            ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${values.length}`,
        },
        values,
      )
      const items = rows.slice(0, query.limit).map((r): AuditTrailEntry => ({
        id: r.id as string,
        at: (r.at as Date).toISOString(),
        source: r.source as AuditSource,
        actor: r.actor as string,
        action: r.action as string,
        target: r.target as string,
        detail: (r.detail as Record<string, unknown> | null) ?? null,
      }))
      return { items, next: rows.length > query.limit ? encodeCursor(items.at(-1)!.id) : null }
    },
  }
}
