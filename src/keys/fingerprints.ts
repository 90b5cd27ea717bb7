/**
 * @module keys/fingerprints
 * The database's record of which keys are in use, so that instances sharing one database also
 * share one KEYS_DIR. Instances given different KEYS_DIR contents used to start cleanly and then
 * fail sign-ins whenever a browser changed instance (a cookie signed with one cookie secret, an
 * ID token signed by a kid the other instance does not publish, a SAML certificate the SP does
 * not know). Now the first instance to start records the fingerprints of its keys; every later
 * one compares and refuses to start when they differ, saying what differs.
 *
 * Recorded (KV namespace `instance:keys`, key `in-use`, no expiry), public facts only:
 * - every OIDC signing JWK as `<kid> <RFC 7638 thumbprint>`;
 * - every SAML key as `<id> <certificate SHA-256>`;
 * - the cookie secret as a SHA-256 of a fixed label and the secret: the secret is 32 random
 *   bytes, so its hash tells nothing about it, and the secret itself never leaves KEYS_DIR.
 * Each list is compared as a set: the order (which key signs) may differ for a moment during a
 * rolling rotation without breaking verification, since both keys are published.
 *
 * `keys rotate`, `keys generate --force` and `keys record` (the CLI) replace the record.
 */
import { createHash } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import { KeysMismatch } from '../errors/index.ts'
import type { KvStore } from '../store/ports.ts'
import { toPublicJwk } from './store.ts'
import type { KeyMaterial } from './types.ts'

/** KV namespace of the keys-in-use record. */
export const KEYS_RECORD_NAMESPACE = 'instance:keys'
/** KV key of the keys-in-use record. */
export const KEYS_RECORD_KEY = 'in-use'

/** The keys-in-use record: public fingerprints only, never key material. */
export interface KeyFingerprints {
  [k: string]: unknown
  /** `<kid> <thumbprint>`, sorted. */
  oidc: string[]
  /** `<id> <certificate SHA-256>`, sorted. */
  saml: string[]
  /** `sha256:<base64url>` of the labelled secret. */
  cookie_secret: string
}

/** The public fingerprints of `material` and the cookie secret. */
export async function fingerprintKeys(
  material: KeyMaterial,
  cookieSecret: string,
): Promise<KeyFingerprints> {
  const oidc = await Promise.all(
    material.oidc.jwks.keys.map(
      async (k) => `${k.kid} ${await calculateJwkThumbprint(toPublicJwk(k), 'sha256')}`,
    ),
  )
  const saml = [material.saml.current, ...material.saml.previous].map(
    (p) => `${p.id} ${p.fingerprintSha256}`,
  )
  const cookie = createHash('sha256')
    .update('sso-bridge cookie secret fingerprint\u0000')
    .update(cookieSecret)
    .digest('base64url')
  return { oidc: oidc.sort(), saml: saml.sort(), cookie_secret: `sha256:${cookie}` }
}

/** What differs between the recorded fingerprints and ours, one line per kind; empty when equal. */
export function keyDifferences(
  recorded: Partial<KeyFingerprints>,
  mine: KeyFingerprints,
): string[] {
  const out: string[] = []
  const names = (list: unknown) =>
    Array.isArray(list) ? list.map((e) => String(e).split(' ')[0]).join(', ') || 'none' : 'none'
  const same = (a: unknown, b: string[]) =>
    Array.isArray(a) && a.length === b.length && [...a].sort().every((v, i) => v === b[i])
  if (!same(recorded.oidc, mine.oidc))
    out.push(
      `OIDC signing keys (in use: kid ${names(recorded.oidc)}; this KEYS_DIR: kid ${names(mine.oidc)})`,
    )
  if (!same(recorded.saml, mine.saml))
    out.push(
      `SAML signing keys (in use: ${names(recorded.saml)}; this KEYS_DIR: ${names(mine.saml)})`,
    )
  if (recorded.cookie_secret !== mine.cookie_secret)
    out.push('the cookie secret (KEYS_DIR/cookie-secret)')
  return out
}

/**
 * Server start: records our fingerprints when the database has none yet (the first instance,
 * or an upgrade); otherwise compares. Of instances starting at once on an empty record, exactly
 * one records (set-if-absent); the others compare with it.
 * @throws {KeysMismatch} naming KEYS_DIR and what differs
 */
export async function checkKeysInUse(
  kv: KvStore,
  keysDir: string,
  mine: KeyFingerprints,
): Promise<'recorded' | 'matched'> {
  const recordedNow = await kv.kvSetIfAbsent(KEYS_RECORD_NAMESPACE, KEYS_RECORD_KEY, {
    ...mine,
    recorded_at: new Date().toISOString(),
  })
  if (recordedNow) return 'recorded'
  const entry = await kv.kvGet(KEYS_RECORD_NAMESPACE, KEYS_RECORD_KEY)
  // Deleted between the two calls (nothing deletes it but an operator): record ours.
  if (!entry) return checkKeysInUse(kv, keysDir, mine)
  const differences = keyDifferences(entry.value as Partial<KeyFingerprints>, mine)
  if (differences.length === 0) return 'matched'
  throw new KeysMismatch(
    `the keys in KEYS_DIR ${keysDir} are not the keys in use by the other instances on this database (recorded there by the ` +
      `first instance or the last "sso-bridge keys rotate"): ${differences.join('; ')} differ. Give every instance the same ` +
      `KEYS_DIR contents (copy the folder from a running instance, or share one volume). If these keys replace the old ones on ` +
      `purpose, run "sso-bridge keys record" with this KEYS_DIR, then restart every instance with them.`,
  )
}

/** Replaces the record with `mine` (key rotation, `keys record`). */
export async function recordKeysInUse(kv: KvStore, mine: KeyFingerprints): Promise<void> {
  await kv.kvSet(KEYS_RECORD_NAMESPACE, KEYS_RECORD_KEY, {
    ...mine,
    recorded_at: new Date().toISOString(),
  })
}
