/**
 * @module tokens/inspect
 * What inspect answers for a token the integration's key decrypted or verified: its JSON, when
 * it expires and whether it already has. Failures never get here (TokenInvalid, opaque).
 */
import type { JsonObject } from '../accounts/types.ts'
import { secondsToIso } from './fields.ts'
import type { Inspected } from './types.ts'

/** @param expiry the payload's expiry in epoch seconds (`exp`, `max_valid_ts`), if any */
export function inspected(payload: JsonObject, expiry: unknown, nowMs: number): Inspected {
  const expires_at = secondsToIso(expiry)
  return { payload, expires_at, expired: expires_at !== null && (expiry as number) * 1000 <= nowMs }
}
