/**
 * @module store/audit-trail
 * What both stores share of the merged audit trail (store/ports.ts AuditTrailStore): the sources
 * a filter may name, and how a conflict resolution (`audit_log`) reads as a trail entry.
 */
import type { AuditSource } from './ports.ts'

/** The audit logs a `source` filter may name. */
export const AUDIT_SOURCES: readonly AuditSource[] = ['conflict', 'config', 'operator']

/** The columns of a conflict resolution that go into its trail entry's `detail`. */
export const CONFLICT_DETAIL_COLUMNS = [
  'field',
  'policy',
  'requested_value',
  'assigned_value',
  'holder_external_id',
  'holder_old_value',
  'holder_new_value',
] as const
