/**
 * @module keys/cookie-secret
 * The secret that signs oidc-provider's cookies and salts pairwise subjects, kept in
 * KEYS_DIR/cookie-secret (0600) beside the signing keys and generated on first start. Losing
 * it signs everyone out; changing it changes every pairwise `sub`, so it is never rotated
 * automatically.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { KeysInvalid } from '../errors/index.ts'
import { readOrCreateSecretFile } from './secret-file.ts'

/** File name of the cookie secret in KEYS_DIR. */
export const COOKIE_SECRET_FILE = 'cookie-secret'

/**
 * The secret that signs the bridge's cookies: read from `KEYS_DIR/cookie-secret`, or generated
 * there (32 random bytes, mode 0600) on first start (keys/secret-file.ts: two processes starting
 * at once agree on one secret); instances sharing a database must share it too
 * (keys/fingerprints.ts checks).
 * @param dir KEYS_DIR
 * @throws {KeysInvalid} the file holds fewer than 32 characters
 * @example const { secret, generated } = ensureCookieSecret(config.keysDir)
 */
export function ensureCookieSecret(dir: string): { secret: string; generated: boolean } {
  const file = path.join(dir, COOKIE_SECRET_FILE)
  const { text, created } = readOrCreateSecretFile(file, () =>
    randomBytes(32).toString('base64url'),
  )
  if (text.length < 32) throw new KeysInvalid(`${file} holds fewer than 32 characters`)
  return { secret: text, generated: created }
}
