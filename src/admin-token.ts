/**
 * @module admin-token
 * The admin API's bearer token: ADMIN_TOKEN when configured, else one generated on first start
 * into DATA_DIR/admin-token (mode 0600) and reused afterwards. The token itself is never
 * logged; the log says where the file is.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { ConfigInvalid } from './errors/index.ts'
import { readOrCreateSecretFile } from './keys/secret-file.ts'

/** The generated admin token's file name in DATA_DIR. */
export const ADMIN_TOKEN_FILE = 'admin-token'

/**
 * The admin API's bearer token. ADMIN_TOKEN wins when set; otherwise the token in
 * `DATA_DIR/admin-token` (24+ characters) is reused, else a new 32-byte one is written there with
 * mode 0600 (keys/secret-file.ts: two processes starting at once agree on one token).
 * `source` and `file` are for the log; the token itself must never be logged.
 * @param configured ADMIN_TOKEN (config.adminToken), if any
 * @param dataDir DATA_DIR, where a generated token is kept
 * @throws {ConfigInvalid} the file holds fewer than 24 characters
 * @throws {Error} the file cannot be read or written (other than not existing yet)
 * @example
 * const admin = resolveAdminToken(config.adminToken, config.dataDir)
 * if (admin.source === 'generated') log.warn({ file: admin.file }, 'generated an admin token')
 */
export function resolveAdminToken(
  configured: string | undefined,
  dataDir: string,
): { token: string; source: 'env' | 'file' | 'generated'; file?: string } {
  if (configured) return { token: configured, source: 'env' }
  const file = path.join(dataDir, ADMIN_TOKEN_FILE)
  const { text, created } = readOrCreateSecretFile(file, () =>
    randomBytes(32).toString('base64url'),
  )
  // A short file is someone's edit, not ours: say so rather than guess (it used to loop).
  if (text.length < 24)
    throw new ConfigInvalid([
      {
        path: 'ADMIN_TOKEN',
        message: `${file} holds fewer than 24 characters: set ADMIN_TOKEN, or delete the file to have a new token generated`,
      },
    ])
  return { token: text, source: created ? 'generated' : 'file', file }
}
