/**
 * @module events/listing
 * The checks every newest-first listing shares (the events, the audit trail): a page size, a
 * time range of ISO 8601 date-times and a cursor this server gave. Each bad value is one
 * {@link FieldIssue} named by its parameter, so the caller refuses them all at once.
 */
import type { FieldIssue } from '../errors/index.ts'
import { decodeCursor } from '../store/ids.ts'

/** The paging and time-range parameters as they arrive: strings, each optional. */
export interface ListingParams {
  /** ISO 8601 date-times, inclusive. */
  since?: string | undefined
  until?: string | undefined
  limit?: string | undefined
  cursor?: string | undefined
}

/** What {@link checkListing} gives back for the store's query. */
export interface Listing {
  since?: string
  until?: string
  after: string | null
  limit: number
}

/**
 * Checks the paging parameters, pushing an issue per bad one onto `issues`.
 * @param max the largest page; `fallback` without a `limit`
 */
export function checkListing(
  f: ListingParams,
  issues: FieldIssue[],
  { max, fallback }: { max: number; fallback: number },
): Listing {
  const limit = f.limit === undefined ? fallback : Number(f.limit)
  if (!/^\d+$/.test(f.limit ?? '1') || limit < 1 || limit > max)
    issues.push({ path: 'limit', message: `must be an integer from 1 to ${max}` })
  const out: Listing = { after: f.cursor ?? null, limit }
  for (const key of ['since', 'until'] as const) {
    const v = f[key]
    if (v === undefined) continue
    // Date-times only: Date.parse also takes "1" and "Dec 4", which no one means here.
    if (
      !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(v) ||
      Number.isNaN(Date.parse(v))
    )
      issues.push({ path: key, message: 'must be an ISO 8601 date-time' })
    else out[key] = new Date(v).toISOString()
  }
  if (f.cursor !== undefined && decodeCursor(f.cursor) === null)
    issues.push({ path: 'cursor', message: 'is not a cursor this server gave' })
  return out
}
