/**
 * @module tokens/zero-click
 * Minnit's zero-click `ssotoken` (../shared/platforms/minnit-sso.txt, "Setting up Zero-Click SSO
 * manually"): the JSON encrypted with AES-256-GCM under the organization's encryption key used as
 * raw key bytes (the PHP sample passes the key string to `openssl_encrypt`, so a 32-character
 * key is the 32-byte AES-256 key), a 12-byte random IV and a 16-byte tag, no additional data;
 * token = standard base64 (with `+`, `/` and `=` padding) of iv ‖ ciphertext ‖ tag.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto'
import { TokenInvalid } from '../errors/index.ts'

/** IV length of the PHP sample (`$iv_len = 12`). */
export const ZERO_CLICK_IV_BYTES = 12
/** Tag length of the PHP sample (`$tag_length = 16`). */
export const ZERO_CLICK_TAG_BYTES = 16
const KEY_BYTES = 32
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * The AES-256 key object of an encryption key string.
 * @throws {TypeError} unless the string is exactly 32 bytes (the registry refuses others at save)
 */
export function zeroClickKey(secret: string): KeyObject {
  const bytes = Buffer.from(secret, 'utf8')
  if (bytes.length !== KEY_BYTES)
    throw new TypeError(`a zero-click key must be exactly ${KEY_BYTES} bytes`)
  return createSecretKey(bytes)
}

/**
 * Encrypts `json` (the token's JSON text) into an `ssotoken`.
 * @param iv 12 random bytes, fresh for every token (GCM breaks if an IV repeats under one key)
 * @example issueZeroClickToken(zeroClickKey(key), JSON.stringify({ userid: '1', username: 'Rob' }), randomBytes(12))
 */
export function issueZeroClickToken(key: KeyObject, json: string, iv: Buffer): string {
  return sealZeroClick(key, json, iv).toString('base64')
}

/**
 * The bytes of an `ssotoken` before base64: iv ‖ ciphertext ‖ tag, a buffer of its own (the
 * dry run reads the IV and the tag back from it).
 * @param iv as {@link issueZeroClickToken}'s
 */
export function sealZeroClick(key: KeyObject, json: string, iv: Buffer): Buffer {
  if (iv.length !== ZERO_CLICK_IV_BYTES)
    throw new TypeError(`the IV must be ${ZERO_CLICK_IV_BYTES} bytes`)
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: ZERO_CLICK_TAG_BYTES })
  const head = cipher.update(json, 'utf8')
  const tail = cipher.final()
  return Buffer.concat([iv, head, tail, cipher.getAuthTag()])
}

/**
 * Decrypts an `ssotoken` and parses its JSON object. Accepts the token as it arrives from a
 * URL the PHP sample built (a `+` read back as a space) or still percent-encoded.
 * @throws {TokenInvalid} for every failure — encoding, length, wrong key, tampering, not a JSON
 *   object — alike (no oracle)
 */
export function verifyZeroClickToken(key: KeyObject, token: string): Record<string, unknown> {
  try {
    let text = token
    if (text.includes('%')) text = decodeURIComponent(text)
    // Spaces first: a token that began with `+` begins with a space once a URL decoder is done.
    text = text.replaceAll(' ', '+').trim()
    if (!BASE64.test(text) || text.length % 4 !== 0) throw new TokenInvalid()
    const raw = Buffer.from(text, 'base64')
    if (raw.length <= ZERO_CLICK_IV_BYTES + ZERO_CLICK_TAG_BYTES) throw new TokenInvalid()
    const iv = raw.subarray(0, ZERO_CLICK_IV_BYTES)
    const tag = raw.subarray(raw.length - ZERO_CLICK_TAG_BYTES)
    const decipher = createDecipheriv('aes-256-gcm', key, iv, {
      authTagLength: ZERO_CLICK_TAG_BYTES,
    })
    decipher.setAuthTag(tag)
    const plain = Buffer.concat([
      decipher.update(raw.subarray(ZERO_CLICK_IV_BYTES, raw.length - ZERO_CLICK_TAG_BYTES)),
      decipher.final(),
    ])
    const value: unknown = JSON.parse(plain.toString('utf8'))
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new TokenInvalid()
    return value as Record<string, unknown>
  } catch {
    throw new TokenInvalid()
  }
}
