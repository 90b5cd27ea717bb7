/**
 * @module keys/types
 * The shapes of the signing material kept in KEYS_DIR (see `store.ts` for the on-disk layout).
 */
import type { JWK } from 'jose'

/** One SAML signing key and its self-signed certificate. */
export interface SamlKeyPair {
  /** `<yyyymmddHHMMss>-<8 hex>` (UTC); also the file stem `saml/<id>.key` / `saml/<id>.crt`. */
  id: string
  /** PKCS#8 PEM. */
  privateKeyPem: string
  /** X.509 PEM. */
  certificatePem: string
  /** ISO 8601 (UTC). */
  createdAt: string
  /** SHA-256 of the certificate DER, uppercase hex, colon-separated (as `openssl x509 -fingerprint -sha256` prints). */
  fingerprintSha256: string
}

/** Every signing key the doors use, as loaded from KEYS_DIR. */
export interface KeyMaterial {
  oidc: {
    /** Private signing JWKs, newest first per `alg` (oidc-provider signs with the first of each alg). */
    jwks: { keys: JWK[] }
    /** Same keys, same order, public members only (kty, n, e, crv, x, y, kid, alg, use). */
    publicJwks: { keys: JWK[] }
  }
  saml: {
    /** The key that signs. */
    current: SamlKeyPair
    /** Older keys, newest first, kept so SPs can still verify during a rollover. */
    previous: SamlKeyPair[]
  }
}
