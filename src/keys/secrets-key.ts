/**
 * @module keys/secrets-key
 * Where the key-encryption key of the secrets at rest comes from (secrets/box.ts): SECRETS_KEY
 * when set (one or more keys, the first encrypts), otherwise KEYS_DIR/secrets-key (0600),
 * generated on first start like the cookie secret beside it (keys/cookie-secret.ts). A backup
 * of KEYS_DIR therefore holds it; a database copied without it reveals no secret.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { decodeSecretsKey } from '../config/schema.ts'
import { KeysInvalid } from '../errors/index.ts'
import { createSecretBox, SECRETS_KEY_BYTES, type SecretBox } from '../secrets/index.ts'
import { readOrCreateSecretFile } from './secret-file.ts'

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
 * `KEYS_DIR/secrets-key`, generated there (32 random bytes, mode 0600; keys/secret-file.ts: two
 * processes starting at once agree on one key) when absent.
 * @param keys SECRETS_KEY decoded (config.secretsKeys), or undefined
 * @param dir KEYS_DIR
 * @throws {KeysInvalid} the key file holds no 32-byte key
 * @example const { box } = loadSecretBox(config.secretsKeys, config.keysDir)
 */
export function loadSecretBox(
  keys: readonly Uint8Array[] | undefined,
  dir: string,
): LoadedSecretBox {
  if (keys && keys.length > 0) return { box: createSecretBox(keys), source: 'env' }
  const file = path.join(dir, SECRETS_KEY_FILE)
  const { text, created } = readOrCreateSecretFile(file, () =>
    randomBytes(SECRETS_KEY_BYTES).toString('base64url'),
  )
  const key = decodeSecretsKey(text)
  if (!key)
    throw new KeysInvalid(
      `${file} does not hold a ${SECRETS_KEY_BYTES}-byte key (base64url or hex)`,
    )
  return { box: createSecretBox([key]), source: created ? 'generated' : 'file', file }
}
