/**
 * @module secrets
 * Secrets at rest: the AES-256-GCM box (box.ts) and the TOTP seed helpers (totp.ts).
 */
export {
  createSecretBox,
  isSealed,
  sealedKeyId,
  secretsKeyId,
  SEALED_PREFIX,
  SECRETS_KEY_BYTES,
  type SecretBox,
} from './box.ts'
export { openTotpSeed, sealTotpSeed, totpSeedContext } from './totp.ts'
