/**
 * @module keys/secrets-key
 * Where the key-encryption key of the secrets at rest comes from (secrets/box.ts): SECRETS_KEY
 * when set (one or more keys, the first encrypts), otherwise KEYS_DIR/secrets-key (0600),
 * generated on first start like the cookie secret beside it (keys/cookie-secret.ts). A backup
 * of KEYS_DIR therefore holds it; a database copied without it reveals no secret.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { decodeSecretsKey } from '../config/schema.ts'
import { KeysInvalid } from '../errors/index.ts'
import { createSecretBox, SECRETS_KEY_BYTES, type SecretBox } from '../secrets/index.ts'

/** File name of the generated secrets key in KEYS_DIR (32 bytes, base64url, one line). */
export const SECRETS_KEY_FILE = 'secrets-key'

/** What {@link loadSecretBox} built, and from where (for the start-up log). */
export interface LoadedSecretBox {
  box: SecretBox
  /** `env`: SECRETS_KEY; `file`: KEYS_DIR/secrets-key as found; `generated`: written just now. */
  source: 'env' | 'file' | 'generated'
  /** The key file's path (sources `file` and `generated`). */
  file?: string
}

/**
 * The secret box of this process: over SECRETS_KEY's keys when given, else over the key in
 * `KEYS_DIR/secrets-key`, generated there (32 random bytes, mode 0600, exclusive creation so
 * two processes starting at once agree on one key) when absent.
 * @param keys SECRETS_KEY decoded (config.secretsKeys), or undefined
 * @param dir KEYS_DIR
 * @throws {KeysInvalid} the key file holds no 32-byte key
 * @example const { box } = loadSecretBox(config.secretsKeys, config.keysDir)
 */
export function loadSecretBox(keys: readonly Uint8Array[] | undefined, dir: string): LoadedSecretBox {
  if (keys && keys.length > 0) return { box: createSecretBox(keys), source: 'env' }
  const file = path.join(dir, SECRETS_KEY_FILE)
  try {
    const text = readFileSync(file, 'utf8')
    const key = decodeSecretsKey(text)
    if (!key)
      throw new KeysInvalid(`${file} does not hold a ${SECRETS_KEY_BYTES}-byte key (base64url or hex)`)
    return { box: createSecretBox([key]), source: 'file', file }
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const key = randomBytes(SECRETS_KEY_BYTES)
  // Written whole to a temp file, then linked into place: another process starting at once
  // never reads a half-written key, and of two, the first link wins and both use its key.
  const tmp = path.join(dir, `.${SECRETS_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    writeFileSync(tmp, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
    chmodSync(tmp, 0o600) // the umask may have cleared bits; it cannot have added any
    linkSync(tmp, file)
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'EEXIST') return loadSecretBox(undefined, dir)
    throw err
  } finally {
    rmSync(tmp, { force: true })
  }
  return { box: createSecretBox([key]), source: 'generated', file }
}
