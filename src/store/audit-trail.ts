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

/**
 * Operator-log actions that only ever mirrored a configuration-log entry: the integration
 * registry wrote both for a console change before the configuration log named the action itself.
 * The trail leaves these operator rows out, so a change made before then is listed once too.
 */
export const MIRRORED_OPERATOR_ACTIONS = [
  'integration_created',
  'integration_updated',
  'integration_deleted',
  'integration_secret_regenerated',
  'integration_mapping_saved',
] as const

/** The SQL list of {@link MIRRORED_OPERATOR_ACTIONS} (constants: no user input). */
export const MIRRORED_OPERATOR_ACTIONS_SQL = MIRRORED_OPERATOR_ACTIONS.map((a) => `'${a}'`).join(
  ', ',
)
