/**
 * @module keys/generate
 * Makes fresh key material in memory; writing it to KEYS_DIR is `store.ts`'s business.
 *
 * - OIDC: RS256 (RSA 2048) and ES256 (P-256) private JWKs with `kid` = RFC 7638 SHA-256
 *   thumbprint, `alg` and `use: 'sig'`.
 * - SAML: an RSA 2048 key (PKCS#8 PEM) and a self-signed X.509 v3 certificate: subject and
 *   issuer `CN=<commonName>`, sha256WithRSAEncryption, 10 years' validity, random positive
 *   128-bit serial (see `cert.ts`).
 */
import {
  createPublicKey,
  generateKeyPair as nodeGenerateKeyPair,
  randomBytes,
  X509Certificate,
} from 'node:crypto'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import { createSelfSignedCertificate } from './cert.ts'
import type { SamlKeyPair } from './types.ts'

const generateRsa = promisify(nodeGenerateKeyPair)

/** The algorithms KEYS_DIR must always hold a key for, and that `rotateKeys` renews. */
export const OIDC_ALGS = ['RS256', 'ES256'] as const
/** One of {@link OIDC_ALGS}. */
export type OidcAlg = (typeof OIDC_ALGS)[number]

/** Validity of a generated SAML certificate, in years. */
export const SAML_CERT_YEARS = 10

/**
 * A private signing JWK: `{ kid, alg, use, kty, ...key members, createdAt }`. `createdAt` (ISO
 * 8601, a private member RFC 7517 §4 lets implementations ignore: never published, since only
 * public members are) dates the key for the console's Keys page, as the SAML manifest dates
 * SAML keys.
 */
export async function generateOidcJwk(alg: OidcAlg, now: Date = new Date()): Promise<JWK> {
  const { privateKey } = await generateKeyPair(
    alg,
    alg === 'RS256' ? { extractable: true, modulusLength: 2048 } : { extractable: true },
  )
  const jwk = await exportJWK(privateKey)
  const kid = await calculateJwkThumbprint(jwk, 'sha256')
  return { kid, alg, use: 'sig', ...jwk, createdAt: now.toISOString() } as JWK
}

/** One fresh JWK per alg in {@link OIDC_ALGS}, in that order. */
export async function generateOidcJwks(): Promise<JWK[]> {
  return Promise.all(OIDC_ALGS.map((alg) => generateOidcJwk(alg)))
}

/** `<yyyymmddHHMMss>-<8 hex>`, UTC. */
export function newSamlKeyId(now: Date = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/\D/g, '')
  return `${stamp}-${randomBytes(4).toString('hex')}`
}

/** Base64 DER → PEM with 64-column lines. */
export function toPem(der: Uint8Array, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** A random positive serial: 16 bytes, top bit clear and first byte non-zero (DER keeps all 16). */
function randomSerial(): Buffer {
  const b = randomBytes(16)
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01
  return b
}

/** A fresh RSA 2048 SAML signing key and its self-signed certificate. */
export async function generateSamlKeyPair(
  commonName: string,
  now: Date = new Date(),
): Promise<SamlKeyPair> {
  if (typeof commonName !== 'string' || commonName.trim() === '') {
    throw new TypeError('commonName must be a non-empty string')
  }
  const { privateKey } = await generateRsa('rsa', { modulusLength: 2048, publicExponent: 0x10001 })

  // Back-dated five minutes so a relying party whose clock runs slow does not see "not yet valid".
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 5 * 60 * 1000)
  const notAfter = new Date(notBefore)
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + SAML_CERT_YEARS)

  const der = createSelfSignedCertificate({
    commonName,
    privateKey,
    publicKey: createPublicKey(privateKey),
    serial: randomSerial(),
    notBefore,
    notAfter,
  })
  return {
    id: newSamlKeyId(now),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: toPem(der, 'CERTIFICATE'),
    createdAt: now.toISOString(),
    fingerprintSha256: new X509Certificate(der).fingerprint256,
  }
}
