/**
 * @module tokens/inspect
 * What inspect answers for a token the integration's key decrypted or verified: its JSON, when
 * it expires and whether it already has. Failures never get here (TokenInvalid, opaque).
 */
import type { JsonObject } from '../accounts/types.ts'
import type { LoadedIntegration } from '../integrations/registry.ts'
import { secondsToIso } from './fields.ts'
import { verifyHs256 } from './jwt.ts'
import type { Inspected, TokenDeps } from './types.ts'

/** @param expiry the payload's expiry in epoch seconds (`exp`, `max_valid_ts`), if any */
export function inspected(payload: JsonObject, expiry: unknown, nowMs: number): Inspected {
  const expires_at = secondsToIso(expiry)
  return { payload, expires_at, expired: expires_at !== null && (expiry as number) * 1000 <= nowMs }
}

/**
 * Verifies an HS256 JWT with the integration's secret `secretName`.
 * @throws {TokenInvalid}
 * @throws {ConfigInvalid} the secret is not set where the server runs
 */
export function inspectJwt(
  token: string,
  integration: LoadedIntegration,
  deps: TokenDeps,
  secretName: string,
): Inspected {
  const payload = verifyHs256(deps.keys.require(integration, secretName), token) as JsonObject
  return inspected(payload, payload.exp, deps.now())
}
