/**
 * @module keys/store
 * KEYS_DIR on disk: load and validate, create what is missing, generate, rotate.
 *
 * Layout (every file mode 0600, every directory this module creates mode 0700):
 *
 *   KEYS_DIR/
 *     oidc-jwks.json        {"keys": [private JWK, ...]}: the OIDC signing keys, NEWEST FIRST
 *                           per alg (oidc-provider signs with the first key of each alg; the
 *                           others stay published for verification). Always at least one
 *                           RS256 and one ES256 key; each has kid (RFC 7638 thumbprint for keys
 *                           generated here), alg, use "sig", and createdAt (ISO 8601, a private
 *                           member never published; absent on keys generated before it).
 *     saml/
 *       manifest.json       {"keys": [{"id": "<id>", "createdAt": "<ISO 8601>"}, ...]}: the SAML
 *                           signing keys, NEWEST FIRST; keys[0] is the current one.
 *       <id>.key            PKCS#8 PEM RSA private key   } id = <yyyymmddHHMMss>-<8 hex>, UTC
 *       <id>.crt            self-signed X.509 PEM        }
 *
 * The manifest, not file names, orders the SAML keys (two keys made in the same second still
 * sort right); files in saml/ it does not list are ignored. They are left-overs of an
 * interrupted write and harmless; rotate and `generate --force` delete the files of the keys
 * they drop.
 *
 * Every write goes to a temp file in the same directory (`.<name>.<pid>.<rand>.tmp`, 0600,
 * fsynced), then is renamed over the target (rotate, force) or hard-linked to it (first
 * creation: link fails if the target exists, so two processes starting at once never
 * overwrite each other's keys; they both end up loading the one that won). Order of writes:
 * new SAML key files, then oidc-jwks.json, then saml/manifest.json, then deletions; a crash
 * leaves either the old or the new state of each JSON file, never a torn one.
 *
 * Rotation is single-writer: do not run two `keys rotate` at once. A running server keeps the
 * keys it loaded; restart it (or reload) to sign with the new ones.
 */
import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto'
import { link, lstat, mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose'
import { KeysInvalid, ValidationFailed } from '../errors/index.ts'
import { generateOidcJwks, generateSamlKeyPair, OIDC_ALGS } from './generate.ts'
import type { KeyMaterial, SamlKeyPair } from './types.ts'

/** KEYS_DIR layout: the private OIDC signing JWKS. */
export const OIDC_JWKS_FILE = 'oidc-jwks.json'
/** KEYS_DIR layout: the folder of SAML keys and certificates (`<id>.key`, `<id>.crt`). */
export const SAML_DIR = 'saml'
/** KEYS_DIR layout: in SAML_DIR, which SAML key signs and which are still published. */
export const SAML_MANIFEST_FILE = 'manifest.json'

const FILE_MODE = 0o600
const DIR_MODE = 0o700

/** Members a public JWK may carry (RSA: n, e; EC: crv, x, y; OKP: crv, x). */
const PUBLIC_MEMBERS = ['kty', 'kid', 'alg', 'use', 'n', 'e', 'crv', 'x', 'y'] as const

/** SAML key ids name files, so they must be plain names. */
const SAML_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/

// ---- paths ---------------------------------------------------------------------------------

function oidcFile(dir: string): string {
  return path.join(dir, OIDC_JWKS_FILE)
}
function samlDir(dir: string): string {
  return path.join(dir, SAML_DIR)
}
function manifestFile(dir: string): string {
  return path.join(dir, SAML_DIR, SAML_MANIFEST_FILE)
}
function samlKeyFile(dir: string, id: string): string {
  return path.join(dir, SAML_DIR, `${id}.key`)
}
function samlCertFile(dir: string, id: string): string {
  return path.join(dir, SAML_DIR, `${id}.crt`)
}

// ---- file helpers --------------------------------------------------------------------------

function errno(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file)
    return true
  } catch (err) {
    if (errno(err) === 'ENOENT') return false
    throw err
  }
}

/** Creates `dir` (and parents) with mode 0700 if missing; an existing directory is left as is. */
async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE })
}

/** Makes a rename/link in `dir` durable. Best effort: some platforms cannot fsync a directory. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch {
    // EISDIR/EPERM/EINVAL on platforms without directory fsync: nothing more to do.
  }
}

/** Link errors that mean "this filesystem has no hard links", not "the target exists". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK'])

/**
 * Writes `data` to `file` atomically with mode 0600. `replace: false` never overwrites: it
 * returns false (writing nothing) when `file` already exists.
 */
async function writeFileAtomic(
  file: string,
  data: string,
  opts: { replace: boolean },
): Promise<boolean> {
  const dir = path.dirname(file)
  const tmp = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  )
  try {
    const fh = await open(tmp, 'wx', FILE_MODE)
    try {
      await fh.chmod(FILE_MODE) // the umask may have cleared bits; it cannot have added any
      await fh.writeFile(data, 'utf8')
      await fh.sync()
    } finally {
      await fh.close()
    }
    if (opts.replace) {
      await rename(tmp, file)
    } else {
      try {
        await link(tmp, file)
      } catch (err) {
        const code = errno(err)
        if (code === 'EEXIST') return false
        if (!code || !NO_HARD_LINKS.has(code)) throw err
        // No hard links here: check-then-rename (a narrow race, but still never a torn file).
        if (await exists(file)) return false
        await rename(tmp, file)
      }
    }
  } finally {
    await rm(tmp, { force: true })
  }
  await syncDir(dir)
  return true
}

function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

/** Reads a key file; a missing or unreadable file is KeysInvalid naming it. */
async function readKeyFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if (errno(err) === 'ENOENT') {
      throw new KeysInvalid(
        `${file} is missing (${what}); run "sso-bridge keys generate" or restore it`,
        { cause: err },
      )
    }
    throw new KeysInvalid(`${file} cannot be read (${what}): ${(err as Error).message}`, {
      cause: err,
    })
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new KeysInvalid(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err })
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

// ---- OIDC ----------------------------------------------------------------------------------

/** The public half of a JWK: only kty, kid, alg, use, n, e, crv, x, y. */
export function toPublicJwk(jwk: JWK): JWK {
  const out: Record<string, unknown> = {}
  for (const m of PUBLIC_MEMBERS) if (jwk[m] !== undefined) out[m] = jwk[m]
  return out as JWK
}

const PROBE = new TextEncoder().encode('sso-bridge key check')

/** Validates one private signing JWK: importable, private, and its private half signs what its public half verifies. */
async function checkJwk(file: string, index: number, value: unknown): Promise<JWK> {
  const where = `${file}: keys[${index}]`
  if (!isRecord(value)) throw new KeysInvalid(`${where} is not a JSON object`)
  const jwk = value as JWK
  if (typeof jwk.kid !== 'string' || jwk.kid === '') throw new KeysInvalid(`${where} has no "kid"`)
  const at = `${where} (kid ${jwk.kid})`
  if (typeof jwk.kty !== 'string') throw new KeysInvalid(`${at} has no "kty"`)
  if (typeof jwk.alg !== 'string' || jwk.alg === '') throw new KeysInvalid(`${at} has no "alg"`)
  if (jwk.use !== undefined && jwk.use !== 'sig')
    throw new KeysInvalid(`${at} has use "${String(jwk.use)}", expected "sig"`)
  if (typeof jwk.d !== 'string') throw new KeysInvalid(`${at} is not a private key (no "d")`)
  try {
    const priv = await importJWK(jwk, jwk.alg)
    const pub = await importJWK(toPublicJwk(jwk), jwk.alg)
    const jws = await new CompactSign(PROBE).setProtectedHeader({ alg: jwk.alg }).sign(priv)
    await compactVerify(jws, pub, { algorithms: [jwk.alg] })
  } catch (err) {
    throw new KeysInvalid(
      `${at} is not a usable ${jwk.alg} signing key: ${(err as Error).message}`,
      { cause: err },
    )
  }
  return jwk
}

async function loadOidc(dir: string): Promise<KeyMaterial['oidc']> {
  const file = oidcFile(dir)
  const doc = parseJson(file, await readKeyFile(file, 'OIDC signing keys'))
  if (!isRecord(doc) || !Array.isArray(doc.keys)) {
    throw new KeysInvalid(`${file} must be a JSON object {"keys": [...]}`)
  }
  const keys: JWK[] = []
  const kids = new Set<string>()
  for (const [i, value] of doc.keys.entries()) {
    const jwk = await checkJwk(file, i, value)
    if (kids.has(jwk.kid as string)) throw new KeysInvalid(`${file}: kid ${jwk.kid} appears twice`)
    kids.add(jwk.kid as string)
    keys.push(jwk)
  }
  for (const alg of OIDC_ALGS) {
    if (!keys.some((k) => k.alg === alg))
      throw new KeysInvalid(`${file} holds no ${alg} key (need at least one RS256 and one ES256)`)
  }
  return { jwks: { keys }, publicJwks: { keys: keys.map(toPublicJwk) } }
}

// ---- SAML ----------------------------------------------------------------------------------

interface ManifestEntry {
  id: string
  createdAt: string
}

async function readManifest(dir: string): Promise<ManifestEntry[]> {
  const file = manifestFile(dir)
  const doc = parseJson(file, await readKeyFile(file, 'SAML key list'))
  if (!isRecord(doc) || !Array.isArray(doc.keys)) {
    throw new KeysInvalid(`${file} must be a JSON object {"keys": [{"id", "createdAt"}, ...]}`)
  }
  if (doc.keys.length === 0) throw new KeysInvalid(`${file} lists no SAML key`)
  const seen = new Set<string>()
  return doc.keys.map((e: unknown, i: number): ManifestEntry => {
    if (!isRecord(e) || typeof e.id !== 'string' || !SAML_ID.test(e.id)) {
      throw new KeysInvalid(`${file}: keys[${i}] needs an "id" of letters, digits, "-" and "_"`)
    }
    if (typeof e.createdAt !== 'string' || Number.isNaN(Date.parse(e.createdAt))) {
      throw new KeysInvalid(`${file}: keys[${i}] (id ${e.id}) needs an ISO 8601 "createdAt"`)
    }
    if (seen.has(e.id)) throw new KeysInvalid(`${file}: id ${e.id} appears twice`)
    seen.add(e.id)
    return { id: e.id, createdAt: e.createdAt }
  })
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' })
}

async function loadSamlPair(dir: string, entry: ManifestEntry): Promise<SamlKeyPair> {
  const keyFile = samlKeyFile(dir, entry.id)
  const certFile = samlCertFile(dir, entry.id)
  const privateKeyPem = await readKeyFile(keyFile, 'SAML signing key')
  const certificatePem = await readKeyFile(certFile, 'SAML certificate')

  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(privateKeyPem)
  } catch (err) {
    throw new KeysInvalid(`${keyFile} is not a PEM private key: ${(err as Error).message}`, {
      cause: err,
    })
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new KeysInvalid(
      `${keyFile} is a ${privateKey.asymmetricKeyType} key; SAML signing needs RSA`,
    )
  }
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < 2048)
    throw new KeysInvalid(`${keyFile} is RSA ${bits}; SAML signing needs at least 2048 bits`)

  let cert: X509Certificate
  try {
    cert = new X509Certificate(certificatePem)
  } catch (err) {
    throw new KeysInvalid(`${certFile} is not a PEM X.509 certificate: ${(err as Error).message}`, {
      cause: err,
    })
  }
  if (!spki(cert.publicKey).equals(spki(createPublicKey(privateKey)))) {
    throw new KeysInvalid(
      `${certFile} does not match its private key ${keyFile} (different public keys)`,
    )
  }
  return {
    id: entry.id,
    privateKeyPem,
    certificatePem,
    createdAt: entry.createdAt,
    fingerprintSha256: cert.fingerprint256,
  }
}

async function loadSaml(dir: string): Promise<KeyMaterial['saml']> {
  const entries = await readManifest(dir)
  const pairs: SamlKeyPair[] = []
  for (const e of entries) pairs.push(await loadSamlPair(dir, e))
  const [current, ...previous] = pairs
  if (!current) throw new KeysInvalid(`${manifestFile(dir)} lists no SAML key`)
  return { current, previous }
}

/** Writes a pair's .key and .crt (create-only: ids are unique, so an existing file is an error). */
async function writeSamlPair(dir: string, pair: SamlKeyPair): Promise<string[]> {
  const files: [string, string][] = [
    [samlKeyFile(dir, pair.id), pair.privateKeyPem],
    [samlCertFile(dir, pair.id), pair.certificatePem],
  ]
  for (const [file, data] of files) {
    if (!(await writeFileAtomic(file, data, { replace: false }))) {
      throw new KeysInvalid(`${file} already exists; not overwriting it`)
    }
  }
  return files.map(([f]) => f)
}

async function removeSamlPair(dir: string, id: string): Promise<void> {
  await rm(samlKeyFile(dir, id), { force: true })
  await rm(samlCertFile(dir, id), { force: true })
}

function manifestOf(pairs: SamlKeyPair[]): { keys: ManifestEntry[] } {
  return { keys: pairs.map((p) => ({ id: p.id, createdAt: p.createdAt })) }
}

// ---- public API ----------------------------------------------------------------------------

/**
 * Reads and validates KEYS_DIR. Throws KeysInvalid naming the file when anything is missing or
 * wrong: unparsable JSON, a JWK jose cannot import or whose halves do not match, no RS256 or no
 * ES256 key, a SAML certificate that does not certify its private key.
 */
export async function loadKeys(dir: string): Promise<KeyMaterial> {
  const oidc = await loadOidc(dir)
  const saml = await loadSaml(dir)
  return { oidc, saml }
}

/**
 * Server start: loads KEYS_DIR, first generating whichever of oidc-jwks.json and the SAML key
 * set is missing. Never overwrites an existing file; an existing but broken one is an error.
 */
export async function ensureKeys(
  dir: string,
  opts: { commonName: string; log?: (msg: string) => void },
): Promise<{ keys: KeyMaterial; generated: boolean }> {
  const log = opts.log ?? (() => {})
  let generated = false
  await ensureDir(dir)

  const jwksFile = oidcFile(dir)
  if (!(await exists(jwksFile))) {
    const keys = await generateOidcJwks()
    if (await writeFileAtomic(jwksFile, toJson({ keys }), { replace: false })) {
      generated = true
      log(`keys: wrote ${jwksFile} (${keys.map((k) => `${k.alg} kid ${k.kid}`).join(', ')})`)
    }
  }

  const manifest = manifestFile(dir)
  if (!(await exists(manifest))) {
    await ensureDir(samlDir(dir))
    const pair = await generateSamlKeyPair(opts.commonName)
    const written = await writeSamlPair(dir, pair)
    if (await writeFileAtomic(manifest, toJson(manifestOf([pair])), { replace: false })) {
      generated = true
      log(
        `keys: wrote ${[...written, manifest].join(', ')} (SAML key ${pair.id}, CN=${opts.commonName}, SHA-256 ${pair.fingerprintSha256})`,
      )
    } else {
      await removeSamlPair(dir, pair.id) // another process created the set first; use theirs
    }
  }

  return { keys: await loadKeys(dir), generated }
}

/**
 * `keys generate`: writes a fresh RS256 + ES256 JWKS and a fresh SAML key. Refuses with
 * KeysInvalid if oidc-jwks.json or saml/manifest.json exists, unless `force`, which replaces
 * them and deletes the old SAML key files (old keys are then gone: prefer rotateKeys).
 */
export async function generateKeys(
  dir: string,
  opts: { commonName: string; force?: boolean },
): Promise<KeyMaterial> {
  const force = opts.force === true
  await ensureDir(dir)
  const targets = [oidcFile(dir), manifestFile(dir)]
  const present: string[] = []
  for (const f of targets) if (await exists(f)) present.push(f)
  if (present.length > 0 && !force) {
    throw new KeysInvalid(
      `keys already exist (${present.join(', ')}); refusing to replace them without force (or use rotate)`,
    )
  }

  let oldSamlIds: string[] = []
  if (force) oldSamlIds = await listSamlIds(dir)

  const [keys, pair] = await Promise.all([generateOidcJwks(), generateSamlKeyPair(opts.commonName)])
  await ensureDir(samlDir(dir))
  await writeSamlPair(dir, pair)
  const writes: [string, string][] = [
    [oidcFile(dir), toJson({ keys })],
    [manifestFile(dir), toJson(manifestOf([pair]))],
  ]
  for (const [file, data] of writes) {
    if (!(await writeFileAtomic(file, data, { replace: force }))) {
      throw new KeysInvalid(`${file} appeared while generating keys; not overwriting it`)
    }
  }
  for (const id of oldSamlIds) if (id !== pair.id) await removeSamlPair(dir, id)
  return loadKeys(dir)
}

/** Ids of every `<id>.key` / `<id>.crt` in saml/, listed or not. */
async function listSamlIds(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(samlDir(dir))
  } catch (err) {
    if (errno(err) === 'ENOENT') return []
    throw err
  }
  const ids = new Set<string>()
  for (const n of names) {
    const m = /^(.+)\.(?:key|crt)$/.exec(n)
    if (m?.[1] && SAML_ID.test(m[1])) ids.add(m[1])
  }
  return [...ids]
}

/**
 * `keys rotate`: puts a new RS256, ES256 and SAML key first (they sign from now on) and keeps
 * the `keepPrevious` (default 1) newest older keys of each for verification; older ones are
 * dropped (their SAML files deleted). JWKs of other algs are left untouched. KEYS_DIR must
 * already hold valid keys.
 */
export async function rotateKeys(
  dir: string,
  opts: { commonName: string; keepPrevious?: number },
): Promise<KeyMaterial> {
  const keep = opts.keepPrevious ?? 1
  if (!Number.isSafeInteger(keep) || keep < 0) {
    throw new ValidationFailed([{ path: 'keepPrevious', message: 'must be an integer >= 0' }])
  }
  const old = await loadKeys(dir)
  const [fresh, pair] = await Promise.all([
    generateOidcJwks(),
    generateSamlKeyPair(opts.commonName),
  ])

  const kept = new Map<string, number>()
  const keys: JWK[] = [...fresh]
  for (const k of old.oidc.jwks.keys) {
    const alg = k.alg as string
    if (!(OIDC_ALGS as readonly string[]).includes(alg)) {
      keys.push(k)
      continue
    }
    const n = kept.get(alg) ?? 0
    if (n < keep) {
      keys.push(k)
      kept.set(alg, n + 1)
    }
  }

  const oldPairs = [old.saml.current, ...old.saml.previous]
  const pairs = [pair, ...oldPairs.slice(0, keep)]
  const dropped = oldPairs.slice(keep)

  await ensureDir(samlDir(dir))
  await writeSamlPair(dir, pair)
  await writeFileAtomic(oidcFile(dir), toJson({ keys }), { replace: true })
  await writeFileAtomic(manifestFile(dir), toJson(manifestOf(pairs)), { replace: true })
  for (const p of dropped) await removeSamlPair(dir, p.id)
  return loadKeys(dir)
}
