/**
 * @module keys/cookie-secret
 * The secret that signs oidc-provider's cookies and salts pairwise subjects, kept in
 * KEYS_DIR/cookie-secret (0600) beside the signing keys and generated on first start. Losing
 * it signs everyone out; changing it changes every pairwise `sub`, so it is never rotated
 * automatically.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { KeysInvalid } from '../errors/index.ts'

/** File name of the cookie secret in KEYS_DIR. */
export const COOKIE_SECRET_FILE = 'cookie-secret'

/**
 * The secret that signs the bridge's cookies: read from `KEYS_DIR/cookie-secret`, or generated
 * there (32 random bytes, mode 0600) on first start. Exclusive creation makes two processes
 * starting at once agree on one secret; instances sharing a database must share it too
 * (keys/fingerprints.ts checks).
 * @param dir KEYS_DIR
 * @throws {KeysInvalid} the file holds fewer than 32 characters
 * @example const { secret, generated } = ensureCookieSecret(config.keysDir)
 */
export function ensureCookieSecret(dir: string): { secret: string; generated: boolean } {
  const file = path.join(dir, COOKIE_SECRET_FILE)
  try {
    const secret = readFileSync(file, 'utf8').trim()
    if (secret.length < 32) throw new KeysInvalid(`${file} holds fewer than 32 characters`)
    return { secret, generated: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const secret = randomBytes(32).toString('base64url')
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    // Another process made it first: theirs wins.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return ensureCookieSecret(dir)
    throw err
  }
  return { secret, generated: true }
}
