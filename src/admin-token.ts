/**
 * @module admin-token
 * The admin API's bearer token: ADMIN_TOKEN when configured, else one generated on first start
 * into DATA_DIR/admin-token (mode 0600) and reused afterwards. The token itself is never
 * logged; the log says where the file is.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/** The generated admin token's file name in DATA_DIR. */
export const ADMIN_TOKEN_FILE = 'admin-token'

/**
 * The admin API's bearer token. ADMIN_TOKEN wins when set; otherwise the token in
 * `DATA_DIR/admin-token` (24+ characters) is reused, else a new 32-byte one is written there with
 * mode 0600. Exclusive creation (`wx`) makes two processes starting at once agree on one token.
 * `source` and `file` are for the log; the token itself must never be logged.
 * @param configured ADMIN_TOKEN (config.adminToken), if any
 * @param dataDir DATA_DIR, where a generated token is kept
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
  try {
    const token = readFileSync(file, 'utf8').trim()
    if (token.length >= 24) return { token, source: 'file', file }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const token = randomBytes(32).toString('base64url')
  // 'wx' fails if another process created it meanwhile; then theirs wins.
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      return resolveAdminToken(undefined, dataDir)
    throw err
  }
  return { token, source: 'generated', file }
}
