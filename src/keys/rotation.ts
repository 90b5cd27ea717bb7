/**
 * @module keys/rotation
 * Rotation from a running server (the operator console), the way `sso-bridge keys rotate` does it
 * (keys/store.ts `rotateKeys`: a new RS256, ES256 and SAML key first, the previous one of each
 * kept for verification), then the database's record of the keys in use replaced
 * (keys/fingerprints.ts), as the CLI does.
 *
 * What it does not do: swap the keys of the running process. oidc-provider builds its keystore
 * once, and a half-swapped process (new JWKS, old signer; or one instance of several) is worse
 * than a restart, so the new keys sign from the next start, exactly as after the CLI. What changes
 * at once is KEYS_DIR and the record; {@link describeKeys} compares KEYS_DIR with what this
 * process loaded, so the console shows "restart to sign with the new keys" until then.
 *
 * Across instances: rotation is single-writer (keys/store.ts). A lease in the store
 * (`instance:keys` / `rotation`, set-if-absent with a TTL) lets one rotation run at a time among
 * every process on the database; a second one is refused, nothing changed. Instances that do not
 * share KEYS_DIR's volume keep their old folder and refuse to start after a restart until given
 * the new one (ERR_KEYS_MISMATCH): the same as after the CLI, documented in docs/operations.md.
 */
import { X509Certificate } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import { KeysRotationRefused } from '../errors/index.ts'
import type { KvStore } from '../store/ports.ts'
import { ensureCookieSecret } from './cookie-secret.ts'
import { fingerprintKeys, KEYS_RECORD_NAMESPACE, recordKeysInUse } from './fingerprints.ts'
import { loadKeys, rotateKeys } from './store.ts'
import type { KeyMaterial, SamlKeyPair } from './types.ts'

/** The lease one rotation holds; longer than generating an RSA key on a slow machine. */
const LEASE_KEY = 'rotation'
const LEASE_MS = 120_000

/**
 * Rotates the keys in `dir` and records the new set as the keys in use.
 * @throws {KeysRotationRefused} another rotation holds the lease (nothing changed)
 * @throws {KeysInvalid} KEYS_DIR holds no valid keys to rotate
 */
export async function rotateKeysInUse(opts: {
  dir: string
  commonName: string
  kv: KvStore
}): Promise<KeyMaterial> {
  const mine = await opts.kv.kvSetIfAbsent(
    KEYS_RECORD_NAMESPACE,
    LEASE_KEY,
    { started_at: new Date().toISOString() },
    { ttlMs: LEASE_MS },
  )
  if (!mine)
    throw new KeysRotationRefused(
      'another key rotation is under way on this database; wait for it to finish, then reload this page',
    )
  try {
    const material = await rotateKeys(opts.dir, { commonName: opts.commonName, keepPrevious: 1 })
    await recordKeysInUse(
      opts.kv,
      await fingerprintKeys(material, ensureCookieSecret(opts.dir).secret),
    )
    return material
  } finally {
    await opts.kv.kvDelete(KEYS_RECORD_NAMESPACE, LEASE_KEY)
  }
}

/** Where a key stands: signs now, signs after the restart, only verifies, or goes at the restart. */
export type KeyState = 'current' | 'next' | 'previous' | 'retiring'

/** One OIDC signing key as the console shows it: public facts only. */
export interface OidcKeyView {
  kid: string
  alg: string
  /** RFC 7638 JWK thumbprint, SHA-256, base64url (what `kid` is for keys generated here). */
  thumbprint: string
  /** When it was generated (keys/generate.ts `createdAt`), or null for a key from before. */
  createdAt: string | null
  state: KeyState
}

/** One SAML signing certificate as SPs see it. */
export interface SamlKeyView {
  id: string
  createdAt: string
  /** Colon-separated uppercase hex, as `openssl x509 -fingerprint` prints. */
  sha256: string
  sha1: string
  notAfter: string
  state: KeyState
}

/** The keys of this process and of KEYS_DIR, side by side. */
export interface KeysView {
  oidc: OidcKeyView[]
  saml: SamlKeyView[]
  /** True when KEYS_DIR holds another set than this process signs with (restart pending). */
  restartPending: boolean
  /** Why KEYS_DIR could not be read (then only the loaded keys are shown), or null. */
  dirError: string | null
}

/**
 * What the console's keys page shows: every key loaded, and those of KEYS_DIR when they differ
 * (rotated, this process not restarted yet).
 */
export async function describeKeys(loaded: KeyMaterial, dir?: string): Promise<KeysView> {
  let onDisk: KeyMaterial | null = null
  let dirError: string | null = null
  if (dir) {
    try {
      onDisk = await loadKeys(dir)
    } catch (err) {
      dirError = (err as Error).message
    }
  }
  const disk = onDisk ?? loaded
  const oidcState = (kid: string, alg: string, inLoaded: boolean): KeyState => {
    const firstOf = (m: KeyMaterial) => m.oidc.publicJwks.keys.find((k) => k.alg === alg)?.kid
    const onDiskNow = disk.oidc.publicJwks.keys.some((k) => k.kid === kid)
    if (inLoaded && firstOf(loaded) === kid) return onDiskNow ? 'current' : 'retiring'
    if (!inLoaded) return firstOf(disk) === kid ? 'next' : 'previous'
    return onDiskNow ? 'previous' : 'retiring'
  }
  const seen = new Set<string>()
  const oidc: OidcKeyView[] = []
  for (const [keys, inLoaded] of [
    [
      disk.oidc.publicJwks.keys.filter(
        (k) => !loaded.oidc.publicJwks.keys.some((l) => l.kid === k.kid),
      ),
      false,
    ],
    [loaded.oidc.publicJwks.keys, true],
  ] as const) {
    for (const k of keys) {
      const kid = String(k.kid)
      if (seen.has(kid)) continue
      seen.add(kid)
      oidc.push({
        kid,
        alg: String(k.alg),
        thumbprint: await calculateJwkThumbprint(k, 'sha256'),
        createdAt: createdAtOf(kid, loaded, disk),
        state: oidcState(kid, String(k.alg), inLoaded),
      })
    }
  }
  const loadedPairs = [loaded.saml.current, ...loaded.saml.previous]
  const diskPairs = [disk.saml.current, ...disk.saml.previous]
  const samlState = (p: SamlKeyPair): KeyState => {
    const inLoaded = loadedPairs.some((l) => l.id === p.id)
    const inDisk = diskPairs.some((d) => d.id === p.id)
    if (inLoaded && loaded.saml.current.id === p.id) return inDisk ? 'current' : 'retiring'
    if (!inLoaded) return disk.saml.current.id === p.id ? 'next' : 'previous'
    return inDisk ? 'previous' : 'retiring'
  }
  const saml = [
    ...diskPairs.filter((d) => !loadedPairs.some((l) => l.id === d.id)),
    ...loadedPairs,
  ].map((p): SamlKeyView => {
    const cert = new X509Certificate(p.certificatePem)
    return {
      id: p.id,
      createdAt: p.createdAt,
      sha256: cert.fingerprint256,
      sha1: cert.fingerprint,
      notAfter: new Date(cert.validTo).toISOString(),
      state: samlState(p),
    }
  })
  const ids = (m: KeyMaterial) =>
    [
      ...m.oidc.publicJwks.keys.map((k) => String(k.kid)),
      ...[m.saml.current, ...m.saml.previous].map((p) => p.id),
    ]
      .sort()
      .join(' ')
  return { oidc, saml, restartPending: ids(disk) !== ids(loaded), dirError }
}

/** The `createdAt` private member of the private JWK `kid` (keys/generate.ts), if it has one. */
function createdAtOf(kid: string, ...sets: KeyMaterial[]): string | null {
  for (const m of sets) {
    const v = (m.oidc.jwks.keys.find((k) => k.kid === kid) as { createdAt?: unknown } | undefined)
      ?.createdAt
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return v
  }
  return null
}
