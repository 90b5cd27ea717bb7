/**
 * @module store/sqlite/audit-trail
 * The AuditTrailStore port (store/ports.ts) on SQLite: the conflict resolutions (`audit_log`),
 * the configuration changes (`config_audit`, migrations/sqlite/006) and the operator log
 * (`operator_audit`) read as one, newest first. Each log's id is a UUIDv7, so one `ORDER BY id`
 * merges them by time and one id is the page cursor for all three.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import { CONFLICT_DETAIL_COLUMNS, MIRRORED_OPERATOR_ACTIONS_SQL } from '../audit-trail.ts'
import { decodeCursor, encodeCursor } from '../ids.ts'
import type { AuditSource, AuditTrailEntry, AuditTrailStore } from '../ports.ts'

/**
 * Each log as a trail entry: id, at, source, actor, action, target, holder, detail — every column
 * named in every SELECT, since a filter may leave any one of them first (or alone).
 */
const SELECTS: Record<AuditSource, string> = {
  conflict: `SELECT id, at, 'conflict' AS source, actor, action,
      'account:' || account_external_id AS target, 'account:' || holder_external_id AS holder,
      json_object(${CONFLICT_DETAIL_COLUMNS.map((c) => `'${c}', ${c}`).join(', ')}) AS detail
    FROM audit_log`,
  config: `SELECT id, at, 'config' AS source, actor, action, target, NULL AS holder, detail FROM config_audit`,
  operator: `SELECT id, at, 'operator' AS source, actor, action, target, NULL AS holder, NULL AS detail
    FROM operator_audit WHERE action NOT IN (${MIRRORED_OPERATOR_ACTIONS_SQL})`,
}

type Row = Record<string, SQLInputValue>

/** The audit-trail read of the SQLite store (internal to store/sqlite). */
export function createSqliteAuditTrail(db: DatabaseSync): AuditTrailStore {
  return {
    async listAuditTrail(query) {
      const where: string[] = []
      const params: SQLInputValue[] = []
      if (query.after) {
        const before = decodeCursor(query.after)
        if (before === null) return { items: [], next: null }
        where.push('id < ?')
        params.push(before)
      }
      if (query.actor !== undefined) {
        where.push('actor = ?')
        params.push(query.actor)
      }
      if (query.action !== undefined) {
        where.push('action = ?')
        params.push(query.action)
      }
      if (query.target !== undefined) {
        where.push('(target = ? OR holder = ?)')
        params.push(query.target, query.target)
      }
      if (query.since !== undefined) {
        where.push('at >= ?')
        params.push(query.since)
      }
      if (query.until !== undefined) {
        where.push('at <= ?')
        params.push(query.until)
      }
      const sources = query.source ? [query.source] : (Object.keys(SELECTS) as AuditSource[])
      params.push(query.limit + 1)
      const rows = db
        .prepare(
          `SELECT * FROM (${sources.map((s) => SELECTS[s]).join(' UNION ALL ')})
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
        )
        .all(...params) as Row[]
      const items = rows.slice(0, query.limit).map(toEntry)
      return { items, next: rows.length > query.limit ? encodeCursor(items.at(-1)!.id) : null }
    },
  }
}

function toEntry(r: Row): AuditTrailEntry {
  return {
    id: r.id as string,
    at: r.at as string,
    source: r.source as AuditSource,
    actor: r.actor as string,
    action: r.action as string,
    target: r.target as string,
    detail: r.detail === null ? null : (JSON.parse(r.detail as string) as Record<string, unknown>),
  }
}
