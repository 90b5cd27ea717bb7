/**
 * @module audit/trail
 * The one read of every audit log (issue #14): conflict resolutions (accounts, `audit_log`),
 * configuration changes (integrations saved or deleted, `config_audit`, with the actor that made
 * them: `admin-api`, `cli`, `operator:<name>`) and the operator log (sign-ins, sign-outs, operator
 * changes, `operator_audit`), merged by time, newest first, with filters and a cursor. The
 * console's Audit page reads it through `services.audit`.
 */
import { ValidationFailed, type FieldIssue } from '../errors/index.ts'
import { checkListing } from '../events/listing.ts'
import { AUDIT_SOURCES } from '../store/audit-trail.ts'
import type {
  AuditSource,
  AuditTrailEntry,
  AuditTrailQuery,
  AuditTrailStore,
  Page,
} from '../store/ports.ts'

/** The most entries one page lists. */
export const AUDIT_MAX_PAGE = 500

/** The longest actor, action or target a filter may name. */
const TEXT_MAX = 200

/** The filters of a trail listing as they arrive (a query string): strings, each optional. */
export interface AuditTrailFilters {
  /** `conflict`, `config` or `operator`. */
  source?: string
  actor?: string
  action?: string
  /** `account:<external_id>`, `integration:<id>`, `operator:<name>`. */
  target?: string
  /** ISO 8601 date-times, inclusive. */
  since?: string
  until?: string
  limit?: string
  cursor?: string
}

/**
 * The audit trail over the store.
 * @example const page = await createAuditTrail({ store }).list({ actor: 'admin-api' })
 */
export function createAuditTrail({ store }: { store: AuditTrailStore }) {
  return {
    /**
     * One page of the merged trail, newest first.
     * @throws {ValidationFailed} a bad filter, limit or cursor (every issue named)
     */
    async list(filters: AuditTrailFilters): Promise<Page<AuditTrailEntry>> {
      return store.listAuditTrail(checkFilters(filters))
    },
  }
}

/** What {@link createAuditTrail} builds. */
export type AuditTrail = ReturnType<typeof createAuditTrail>

function checkFilters(f: AuditTrailFilters): AuditTrailQuery {
  const issues: FieldIssue[] = []
  const paging = checkListing(f, issues, { max: AUDIT_MAX_PAGE, fallback: 50 })
  if (f.source !== undefined && !(AUDIT_SOURCES as readonly string[]).includes(f.source))
    issues.push({ path: 'source', message: `must be one of ${AUDIT_SOURCES.join(', ')}` })
  for (const key of ['actor', 'action', 'target'] as const) {
    const v = f[key]
    if (v !== undefined && (v === '' || v.length > TEXT_MAX))
      issues.push({ path: key, message: `must be 1 to ${TEXT_MAX} characters` })
  }
  if (issues.length > 0) throw new ValidationFailed(issues)
  return {
    ...(f.source !== undefined ? { source: f.source as AuditSource } : {}),
    ...(f.actor !== undefined ? { actor: f.actor } : {}),
    ...(f.action !== undefined ? { action: f.action } : {}),
    ...(f.target !== undefined ? { target: f.target } : {}),
    ...paging,
  }
}
