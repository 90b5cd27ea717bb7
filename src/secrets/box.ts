/**
 * @module secrets/box
 * Secrets at rest: AES-256-GCM under a key-encryption key (SECRETS_KEY, or the key file in
 * KEYS_DIR: keys/secrets-key.ts). node:crypto does GCM itself, so no library is needed.
 *
 * A sealed value is one string, safe in JSON and in any text column:
 *
 *   sb1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>
 *
 * - `sb1` — this format's version;
 * - key id — the first 8 bytes of SHA-256 of the key, in hex (16 characters): which key opens
 *   it, so several keys can be configured at once (the first seals, every one opens) and a
 *   missing one is named without revealing anything about it;
 * - iv — 12 random bytes (NIST SP 800-38D §8.2.2: random IVs, fine far below 2^32 seals per key);
 * - tag — the 16-byte GCM tag.
 *
 * The additional authenticated data (AAD) binds a ciphertext to where it lives: the caller's
 * `context` (e.g. `integration:forum:client_secret`) plus the version and key id. A ciphertext
 * copied into another row, or under another secret's name, does not open
 * ({@link SecretUnreadable}).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { SecretsKeyMissing, SecretUnreadable } from '../errors/index.ts'

/** The prefix of every sealed value (format version 1). */
export const SEALED_PREFIX = 'sb1:'
/** Bytes of a key: AES-256. */
export const SECRETS_KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const SEALED = /^sb1:([0-9a-f]{16}):([A-Za-z0-9_-]+)$/

/**
 * The key id of a key: the first 8 bytes of its SHA-256, in hex. A fingerprint, safe to log and
 * show; it reveals nothing usable about the key.
 */
export function secretsKeyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16)
}

/** Whether `text` is a sealed value (by its shape; {@link SecretBox.open} checks the rest). */
export function isSealed(text: unknown): text is string {
  return typeof text === 'string' && SEALED.test(text)
}

/** The key id a sealed value names, or undefined when `text` is not one. */
export function sealedKeyId(text: string): string | undefined {
  return SEALED.exec(text)?.[1]
}

/**
 * Seals and opens secrets under the configured keys: the first seals, every one opens. Built
 * once per process by {@link createSecretBox}; what each holder of secrets uses as `context` is
 * its own (see the README's "Secrets at rest" for the list).
 */
export interface SecretBox {
  /** Ids of the configured keys, in order: `keyIds[0]` seals. */
  readonly keyIds: readonly string[]
  /**
   * Encrypts `plaintext` (UTF-8 text or bytes) under the first key, bound to `context`.
   * @example box.seal(value, `integration:${id}:${name}`)
   */
  seal(plaintext: string | Uint8Array, context: string): string
  /**
   * Decrypts a sealed value as UTF-8 text.
   * @throws {SecretsKeyMissing} it was sealed under a key not configured here (names its id)
   * @throws {SecretUnreadable} malformed, altered, or sealed for another `context`
   */
  open(sealed: string, context: string): string
  /** As {@link SecretBox.open}, as bytes (e.g. a TOTP seed). */
  openBytes(sealed: string, context: string): Buffer
  /** True when `sealed` is not sealed under the first key (so a rekey would seal it again). */
  isStale(sealed: string): boolean
}

const aad = (keyId: string, context: string) =>
  Buffer.from(`sso-bridge secret ${SEALED_PREFIX}${keyId}\u0000${context}`, 'utf8')

/**
 * The box over `keys`: the first seals, every one opens.
 * @param keys one or more 32-byte keys
 * @param describe how an error names the place of a secret (its `context` by default); never
 *   the value
 * @throws {TypeError} no key, a key not 32 bytes long, or the same key twice
 * @example
 * const box = createSecretBox([newKey, oldKey])
 * const sealed = box.seal('s3cret', 'integration:forum:client_secret')
 * box.open(sealed, 'integration:forum:client_secret') // 's3cret'
 */
export function createSecretBox(keys: readonly Uint8Array[]): SecretBox {
  if (keys.length === 0) throw new TypeError('at least one secrets key is needed')
  const byId = new Map<string, Buffer>()
  for (const key of keys) {
    if (key.byteLength !== SECRETS_KEY_BYTES)
      throw new TypeError(`a secrets key must be ${SECRETS_KEY_BYTES} bytes`)
    const id = secretsKeyId(key)
    if (byId.has(id)) throw new TypeError(`secrets key ${id} is listed twice`)
    byId.set(id, Buffer.from(key))
  }
  const keyIds = [...byId.keys()]
  const primaryId = keyIds[0]!
  const primary = byId.get(primaryId)!

  function openBytes(sealed: string, context: string): Buffer {
    const m = SEALED.exec(sealed)
    if (!m) throw new SecretUnreadable(context)
    const [, keyId, body] = m as unknown as [string, string, string]
    const key = byId.get(keyId)
    if (!key) throw new SecretsKeyMissing(keyId, context)
    const raw = Buffer.from(body, 'base64url')
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretUnreadable(context)
    const iv = raw.subarray(0, IV_BYTES)
    const tag = raw.subarray(raw.length - TAG_BYTES)
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
      decipher.setAAD(aad(keyId, context))
      decipher.setAuthTag(tag)
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ])
    } catch (err) {
      // One answer for every failure of the tag: no oracle on why (STYLE §4).
      throw new SecretUnreadable(context, { cause: err })
    }
  }

  return {
    keyIds,
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', primary, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(aad(primaryId, context))
      const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext
      const body = Buffer.concat([iv, cipher.update(data), cipher.final(), cipher.getAuthTag()])
      return `${SEALED_PREFIX}${primaryId}:${body.toString('base64url')}`
    },
    open: (sealed, context) => openBytes(sealed, context).toString('utf8'),
    openBytes,
    isStale: (sealed) => sealedKeyId(sealed) !== primaryId,
  }
}
