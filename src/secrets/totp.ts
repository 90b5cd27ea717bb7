/**
 * @module secrets/totp
 * Where operator TOTP seeds will be kept (issue #14, the operator console): sealed by the
 * {@link SecretBox} like every other secret at rest, bound to the operator they belong to, so
 * a seed copied onto another operator's row does not open. Nothing stores a seed yet; the
 * console's store of operators calls these, and `sso-bridge secrets rekey` must then reseal
 * them too (cli/secrets.ts lists what it walks).
 */
import type { SecretBox } from './box.ts'

/** The AAD context of operator `operatorId`'s TOTP seed. */
export const totpSeedContext = (operatorId: string): string => `operator-totp:${operatorId}`

/**
 * Seals a TOTP seed (RFC 6238's shared secret, raw bytes) for storage.
 * @example row.totp_seed = sealTotpSeed(box, operator.id, randomBytes(20))
 */
export function sealTotpSeed(box: SecretBox, operatorId: string, seed: Uint8Array): string {
  return box.seal(seed, totpSeedContext(operatorId))
}

/**
 * The seed sealed by {@link sealTotpSeed} for this operator.
 * @throws {SecretsKeyMissing} sealed under a key not configured here
 * @throws {SecretUnreadable} altered, or another operator's seed
 */
export function openTotpSeed(box: SecretBox, operatorId: string, sealed: string): Buffer {
  return box.openBytes(sealed, totpSeedContext(operatorId))
}
