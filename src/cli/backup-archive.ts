/**
 * @module cli/backup-archive
 * The backup file: one gzip'd tar (`tar tzf backup.tar.gz` lists it) holding
 *
 *   manifest.json                what the backup is, and the size and SHA-256 of every other part
 *   database/sso-bridge.sqlite   SQLite only: the consistent copy of the database
 *   data/admin-token             the generated admin token, when DATA_DIR holds one
 *   keys/…                       every file of KEYS_DIR (signing keys, cookie secret, secrets key)
 *
 * Written and read with node-tar (the `tar` package: npm's own, and it refuses entries that
 * would land outside the folder they are extracted to — absolute paths, `..` — which a
 * hand-written reader would have to get right itself). On top of the format's own checks (gzip
 * CRC, tar header checksums), the manifest's SHA-256 of each part catches any other change, and
 * a part missing from the file or an entry the manifest does not list makes it invalid.
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { link, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import * as tar from 'tar'
import { z } from 'zod'
import { BackupFileExists, BackupInvalid } from '../errors/index.ts'

/** `manifest.json`'s `format`: says the tar is an sso-bridge backup. */
export const BACKUP_FORMAT = 'sso-bridge-backup'
/** The layout version this build writes and reads; a newer one is refused as invalid. */
export const BACKUP_FORMAT_VERSION = 1
/** The manifest's name in the archive. */
export const MANIFEST = 'manifest.json'
/** The SQLite copy's name in the archive. */
export const DATABASE_PART = 'database/sso-bridge.sqlite'
/** The folder KEYS_DIR's files go under in the archive. */
export const KEYS_PART = 'keys'
/** The folder DATA_DIR's other files (the admin token) go under in the archive. */
export const DATA_PART = 'data'

/** One file or folder name of KEYS_DIR a backup carries: no leading dot (no `..`, no temp files). */
export const KEYS_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/
/** Parts a backup may hold: the database, the admin token, files under keys/ ({@link KEYS_NAME}). */
const PART =
  /^(database\/sso-bridge\.sqlite|data\/admin-token|keys(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+)$/

const fileSchema = z.object({
  path: z.string().regex(PART),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
})

/** `manifest.json`: what the backup is and what it holds. */
export const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  format_version: z.literal(BACKUP_FORMAT_VERSION),
  created_at: z.string(),
  /** The sso-bridge version that wrote it. */
  sso_bridge_version: z.string(),
  /** Which store the backup is of: a PostgreSQL backup holds no database part (pg_dump's job). */
  store: z.enum(['sqlite', 'postgres']),
  /** SQLite: the schema version of the copied database; PostgreSQL: null. */
  schema_version: z.number().int().positive().nullable(),
  files: z.array(fileSchema),
})

/** The parsed manifest. */
export type Manifest = z.infer<typeof manifestSchema>
/** One part of a backup as the manifest lists it. */
export type ManifestFile = Manifest['files'][number]

/** SHA-256 (hex) and size of a file, read as a stream (the database may be large). */
export async function digestFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return { size: (await stat(file)).size, sha256: hash.digest('hex') }
}

/**
 * Writes the archive of `stage` (a folder laid out as the archive: `parts` are paths relative
 * to it) to `out`, mode 0600 (it holds private keys), with `manifest.json` first. The file
 * appears complete or not at all: written to a temp name beside `out`, flushed to disk, then
 * linked (or, with `force`, renamed) into place.
 * @throws {BackupFileExists} `out` exists and `force` is not set
 */
export async function writeArchive(
  stage: string,
  manifest: Omit<Manifest, 'files'>,
  parts: readonly string[],
  out: string,
  force: boolean,
): Promise<Manifest> {
  const files: ManifestFile[] = []
  for (const part of parts)
    files.push({ path: part, ...(await digestFile(path.join(stage, part))) })
  const full: Manifest = { ...manifest, files }
  await writeFile(path.join(stage, MANIFEST), `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 })

  const tmp = path.join(
    path.dirname(out),
    `.${path.basename(out)}.${process.pid}.${Date.now().toString(36)}.tmp`,
  )
  try {
    await pipeline(
      // portable: no owner, group or host-specific fields in the entries.
      tar.create({ gzip: true, cwd: stage, portable: true }, [MANIFEST, ...parts]),
      createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true }),
    )
    if (force) await rename(tmp, out)
    else {
      try {
        await link(tmp, out) // fails if `out` appeared meanwhile: never overwrite without --force
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw fileExists(out)
        throw err
      }
    }
  } finally {
    await rm(tmp, { force: true })
  }
  return full
}

/** The refusal to overwrite an existing backup file. */
export function fileExists(out: string): BackupFileExists {
  return new BackupFileExists(`${out} exists: choose another name, or give --force to replace it`)
}

/** The manifest is small; a larger one is not ours (and is not read into memory). */
const MAX_MANIFEST_BYTES = 1024 * 1024

/**
 * Checks the backup `file`, then extracts it into the empty folder `stage`.
 *
 * The file is read twice. The first pass writes nothing: it checks the whole archive (gzip
 * CRC, tar header checksums: node-tar's strict mode), that it holds only plain files at names a
 * backup may hold, each once, and hashes every part, comparing them with the manifest: every
 * part listed is present with its size and SHA-256, and nothing is unlisted. Only a file that
 * passes is extracted, and the extracted parts are hashed once more (the file could have
 * changed between the passes).
 * @throws {BackupInvalid} naming what is wrong; the caller removes `stage`
 */
export async function readArchive(file: string, stage: string): Promise<Manifest> {
  const unexpected: string[] = []
  const repeated: string[] = []
  const seen = new Map<string, { size: number; hash: ReturnType<typeof createHash> }>()
  const manifestChunks: Buffer[] = []
  try {
    await tar.list({
      file,
      // Warnings (a damaged header, a bad checksum…) become errors.
      strict: true,
      onReadEntry: (entry) => {
        const p = entry.path
        if (entry.type === 'Directory') return
        if (entry.type !== 'File' || (p !== MANIFEST && !PART.test(p))) {
          unexpected.push(p)
          return
        }
        if (seen.has(p)) repeated.push(p)
        const part = { size: 0, hash: createHash('sha256') }
        seen.set(p, part)
        entry.on('data', (chunk: Buffer) => {
          part.size += chunk.length
          part.hash.update(chunk)
          if (p === MANIFEST && part.size <= MAX_MANIFEST_BYTES) manifestChunks.push(chunk)
        })
      },
    })
  } catch (cause) {
    throw new BackupInvalid(
      `${file} is not a readable sso-bridge backup (a gzip'd tar): ${reason(cause)}`,
      { cause },
    )
  }
  if (unexpected.length > 0)
    throw new BackupInvalid(
      `${file} holds entries an sso-bridge backup does not: ${unexpected.slice(0, 5).join(', ')}`,
    )
  if (repeated.length > 0)
    throw new BackupInvalid(`${file} holds an entry twice: ${repeated.slice(0, 5).join(', ')}`)
  const manifestEntry = seen.get(MANIFEST)
  if (!manifestEntry)
    throw new BackupInvalid(`${file} has no ${MANIFEST}: it is not an sso-bridge backup`)
  if (manifestEntry.size > MAX_MANIFEST_BYTES)
    throw new BackupInvalid(`${file}: its ${MANIFEST} is too large to be one`)

  let manifest: Manifest
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(Buffer.concat(manifestChunks).toString()))
    if (!parsed.success)
      throw new Error(
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      )
    manifest = parsed.data
  } catch (cause) {
    throw new BackupInvalid(`${file} has no valid ${MANIFEST}: ${reason(cause)}`, { cause })
  }

  const listed = new Set(manifest.files.map((f) => f.path))
  if (listed.size !== manifest.files.length)
    throw new BackupInvalid(`${file}: ${MANIFEST} lists a part twice`)
  const unlisted = [...seen.keys()].filter((p) => p !== MANIFEST && !listed.has(p))
  if (unlisted.length > 0)
    throw new BackupInvalid(`${file} holds parts ${MANIFEST} does not list: ${unlisted.join(', ')}`)
  if (manifest.store === 'sqlite' && !listed.has(DATABASE_PART))
    throw new BackupInvalid(`${file}: a SQLite backup without its database (${DATABASE_PART})`)
  const digests = new Map(
    [...seen].map(([p, { size, hash }]) => [p, { size, sha256: hash.digest('hex') }]),
  )
  const check = (part: ManifestFile, actual: { size: number; sha256: string } | undefined) => {
    if (!actual) throw new BackupInvalid(`${file}: the part ${part.path} is missing`)
    if (actual.size !== part.size || actual.sha256 !== part.sha256)
      throw new BackupInvalid(
        `${file}: the part ${part.path} does not match its SHA-256 in ${MANIFEST} (damaged or altered)`,
      )
  }
  for (const part of manifest.files) check(part, digests.get(part.path))

  // The second pass: only the parts checked above, at their checked names.
  try {
    await tar.extract({
      file,
      cwd: stage,
      strict: true,
      filter: (p, entry) => 'type' in entry && entry.type === 'File' && listed.has(p),
    })
  } catch (cause) {
    throw new BackupInvalid(`${file} changed while it was read: ${reason(cause)}`, { cause })
  }
  for (const part of manifest.files)
    check(part, await digestFile(path.join(stage, part.path)).catch(() => undefined))
  return manifest
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
