/**
 * @module keys/secret-file
 * One small secret kept in a file and generated on first start (the cookie secret, the secrets
 * key, the generated admin token). Several processes may start at once on one folder, so the
 * file is never written in place: the value goes whole into a temp file that is then hard-linked
 * to the final name. A reader therefore never sees a half-written file, and of two processes the
 * first link wins and both use its value.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const isErrno = (err: unknown, code: string) =>
  err instanceof Error && 'code' in err && (err as NodeJS.ErrnoException).code === code

/**
 * The trimmed text of `file`, or, when it does not exist, `make()` written there (mode 0600, its
 * folder created 0700) and returned.
 * @param file the secret's path
 * @param make the new value (one line, no newline), called only when the file is absent
 * @returns the text and whether this call created the file
 * @throws {Error} the file or its folder cannot be read or written (other than not existing yet)
 * @example const { text, created } = readOrCreateSecretFile(path.join(dir, 'cookie-secret'), newSecret)
 */
export function readOrCreateSecretFile(
  file: string,
  make: () => string,
): { text: string; created: boolean } {
  try {
    return { text: readFileSync(file, 'utf8').trim(), created: false }
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err
  }
  const dir = path.dirname(file)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const text = make()
  const tmp = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  )
  try {
    writeFileSync(tmp, `${text}\n`, { mode: 0o600, flag: 'wx' })
    chmodSync(tmp, 0o600) // the umask may have cleared bits; it cannot have added any
    linkSync(tmp, file)
  } catch (err) {
    // Another process linked its value first: theirs wins, and it is whole.
    if (isErrno(err, 'EEXIST')) return { text: readFileSync(file, 'utf8').trim(), created: false }
    throw err
  } finally {
    rmSync(tmp, { force: true })
  }
  return { text, created: true }
}
