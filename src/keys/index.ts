/**
 * @module keys
 * KEYS_DIR: the OIDC signing JWKS and the SAML signing key + certificate. Layout and write
 * discipline are documented in `store.ts`.
 */
export type { KeyMaterial, SamlKeyPair } from './types.ts'
export {
  ensureKeys,
  generateKeys,
  loadKeys,
  rotateKeys,
  toPublicJwk,
  OIDC_JWKS_FILE,
  SAML_DIR,
  SAML_MANIFEST_FILE,
} from './store.ts'
export { COOKIE_SECRET_FILE, ensureCookieSecret } from './cookie-secret.ts'
export {
  checkKeysInUse,
  fingerprintKeys,
  keyDifferences,
  recordKeysInUse,
  KEYS_RECORD_KEY,
  KEYS_RECORD_NAMESPACE,
  type KeyFingerprints,
} from './fingerprints.ts'
export {
  describeKeys,
  rotateKeysInUse,
  type KeyState,
  type KeysView,
  type OidcKeyView,
  type SamlKeyView,
} from './rotation.ts'
