/**
 * @module operators/seal
 * How an operator's TOTP seed is kept in the store. A seed is a secret: anyone who reads it can
 * make codes. The "secrets" work of issue #13 adds AES-256-GCM encryption at rest for store
 * secrets (SECRETS_KEY / a key file in KEYS_DIR); until it lands on main these two functions are
 * the one place to wire it in — every read and write of `operators.totp_seed` goes through them,
 * so encrypting then is a change here and nowhere else.
 */

/** The stored form of a base32 TOTP seed (today: the seed itself; see the module doc). */
export function sealTotpSeed(seedBase32: string): string {
  return seedBase32
}

/** The base32 seed back from its stored form (the inverse of {@link sealTotpSeed}). */
export function openTotpSeed(stored: string): string {
  return stored
}
