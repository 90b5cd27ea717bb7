/**
 * @module tokens/fields
 * Checks on a mapped document before it becomes a token. A required field that is missing or
 * unusable stops the issue with {@link AccountIncomplete} naming the field and the integration;
 * an optional one that the platform would refuse is left out, so the platform's own default
 * applies.
 */
import { z } from 'zod'
import type { JsonObject, JsonValue } from '../accounts/types.ts'
import { AccountIncomplete } from '../errors/index.ts'

const emailSchema = z.email()

/** Length in characters as people count them (code points), not UTF-16 units. */
export function characters(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

/**
 * A check remembered for the last values it saw: the same members' emails and picture URLs come
 * back on every token, and the check (zod's email pattern, a URL parse) costs more than the HMAC
 * the token is. Bounded: forgotten wholesale when full.
 */
function remembered(check: (v: string) => boolean, max = 4096): (v: string) => boolean {
  const seen = new Map<string, boolean>()
  return (v) => {
    let ok = seen.get(v)
    if (ok === undefined) {
      if (seen.size >= max) seen.clear()
      seen.set(v, (ok = check(v)))
    }
    return ok
  }
}

/** Email syntax as the account API checks it (zod). */
export const isEmail: (v: string) => boolean = remembered((v) => emailSchema.safeParse(v).success)

/** An absolute http: or https: URL. */
export const isHttpUrl: (v: string) => boolean = remembered((v) => {
  if (!URL.canParse(v)) return false
  const { protocol } = new URL(v)
  return protocol === 'https:' || protocol === 'http:'
})

const absent = (v: JsonValue | undefined): boolean =>
  v === undefined || v === null || (typeof v === 'string' && v.trim() === '')

/**
 * A required text field. Numbers are accepted as their decimal string (ids).
 * @throws {AccountIncomplete} missing, empty, not text, or longer than `max` characters
 */
export function requireText(
  doc: JsonObject,
  field: string,
  integrationId: string,
  max?: number,
): string {
  const v = doc[field]
  if (absent(v)) throw new AccountIncomplete(integrationId, field, 'missing')
  if (typeof v === 'number') return String(v)
  if (typeof v !== 'string')
    throw new AccountIncomplete(integrationId, field, 'invalid', 'must be text')
  // UTF-16 length ≥ code points: only a long string needs counting.
  if (max !== undefined && v.length > max && characters(v) > max)
    throw new AccountIncomplete(
      integrationId,
      field,
      'invalid',
      `must be at most ${max} characters`,
    )
  return v
}

/**
 * A required email address (syntax as the account API checks it).
 * @throws {AccountIncomplete}
 */
export function requireEmail(
  doc: JsonObject,
  field: string,
  integrationId: string,
  max = 254,
): string {
  const v = requireText(doc, field, integrationId, max)
  if (!isEmail(v))
    throw new AccountIncomplete(integrationId, field, 'invalid', 'must be a valid email address')
  return v
}

/** An optional text field, or undefined when absent or not text. */
export function optionalText(doc: JsonObject, field: string): string | undefined {
  const v = doc[field]
  return typeof v === 'string' && v.trim() !== '' ? v : undefined
}

/** ISO 8601 of epoch seconds, or null when the value is not a representable time. */
export function secondsToIso(ts: unknown): string | null {
  if (typeof ts !== 'number' || !Number.isFinite(ts) || Math.abs(ts) > 8.64e12) return null
  // Tokens issued in the same second with the same lifetime expire at the same second: under
  // load most ask for the time the one before did, and formatting a Date costs a tenth of a token.
  if (ts !== lastSeconds) {
    lastIso = new Date(ts * 1000).toISOString()
    lastSeconds = ts
  }
  return lastIso
}

let lastSeconds = NaN
let lastIso = ''
