/**
 * @module cli/backup
 * `sso-bridge backup <file>` and `sso-bridge restore <file>` (docs/backup.md).
 *
 * backup: SQLite — a consistent copy of the live database, taken beside the running server
 * (store/sqlite/snapshot.ts), with every file of KEYS_DIR and the generated admin token, into
 * one file of mode 0600 (cli/backup-archive.ts). PostgreSQL — the same without the database:
 * the database is pg_dump's (printed with the result), which takes a consistent snapshot of a
 * live PostgreSQL database as this command could only imitate, and which the operator's own
 * PostgreSQL backups (pgBackRest, WAL archiving) already cover.
 *
 * restore: checks everything before it changes anything — the file (format, SHA-256 of each
 * part, SQLite's integrity check), the store kind and schema version, that DATA_DIR and KEYS_DIR
 * are empty (or `--force`), and on SQLite that no server runs on DATA_DIR (it holds the server
 * lock while it writes, so none starts meanwhile). Refused, it has changed nothing.
 */
import { existsSync } from 'node:fs'
import { chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Command } from 'commander'
import { ADMIN_TOKEN_FILE } from '../admin-token.ts'
import type { Config } from '../config/index.ts'
import {
  BackupInvalid,
  BackupStoreMismatch,
  hasCode,
  KeysInvalid,
  RestoreTargetNotEmpty,
  StoreInUse,
} from '../errors/index.ts'
import {
  checkSqliteDatabaseCopy,
  latestSchemaVersion,
  lockSqliteDatabase,
  snapshotSqliteDatabase,
  type ServerLock,
} from '../store/index.ts'
import { VERSION } from '../version.ts'
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  DATA_PART,
  DATABASE_PART,
  fileExists,
  KEYS_NAME,
  KEYS_PART,
  readArchive,
  writeArchive,
  type Manifest,
} from './backup-archive.ts'
import type { CliContext } from './context.ts'
import { printJson, type CliIo } from './io.ts'

const ADMIN_TOKEN_PART = `${DATA_PART}/${ADMIN_TOKEN_FILE}`

/** What to do with the PostgreSQL database, which a backup file does not hold. */
const PG_DUMP = {
  backup: 'pg_dump --format=custom --file=sso-bridge.pgdump "$DATABASE_URL"',
  restore: 'pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" sso-bridge.pgdump',
  note: 'take the pg_dump with the same keys (after any keys rotate, take both again); see docs/backup.md',
}

/** Adds `backup` and `restore` to the program. */
export function registerBackup(program: Command, ctx: CliContext, io: CliIo): void {
  program
    .command('backup')
    .description(
      "write the database (SQLite: a consistent copy, while the server runs), KEYS_DIR and the admin token into one file (mode 0600); PostgreSQL: KEYS_DIR only, the database is pg_dump's",
    )
    .argument('<file>', 'the backup file to write (e.g. sso-bridge-backup.tar.gz)')
    .option('--force', 'replace the file if it exists', false)
    .action(async (file: string, opts: { force: boolean }) => {
      printJson(io, await backup(ctx.config(), path.resolve(file), opts.force))
    })

  program
    .command('restore')
    .description(
      'restore a backup into an empty DATA_DIR and KEYS_DIR (SQLite: with no server running on it); checks the file first and changes nothing when it refuses',
    )
    .argument('<file>', 'a file written by "sso-bridge backup"')
    .option(
      '--force',
      'replace what DATA_DIR (its database and admin token) and KEYS_DIR hold',
      false,
    )
    .action(async (file: string, opts: { force: boolean }) => {
      printJson(io, await restore(ctx.config(), path.resolve(file), opts.force))
    })
}

async function backup(config: Readonly<Config>, out: string, force: boolean) {
  if (!force && existsSync(out)) throw fileExists(out)
  if (!existsSync(config.keysDir))
    throw new KeysInvalid(`KEYS_DIR ${config.keysDir} does not exist: there are no keys to back up`)
  // mkdtemp makes the folder 0700: the copies of the keys in it are nobody else's.
  const stage = await mkdtemp(path.join(os.tmpdir(), 'sso-bridge-backup-'))
  try {
    const parts: string[] = []
    let schemaVersion: number | null = null
    if (config.store.kind === 'sqlite') {
      await mkdir(path.dirname(path.join(stage, DATABASE_PART)))
      const copy = await snapshotSqliteDatabase(config.store.file, path.join(stage, DATABASE_PART))
      schemaVersion = copy.schemaVersion
      parts.push(DATABASE_PART)
    }
    // Keys after the database: a key file is never newer than the snapshot that records it.
    parts.push(...(await copyKeys(config.keysDir, stage)))
    const token = path.join(config.dataDir, ADMIN_TOKEN_FILE)
    if (existsSync(token)) {
      await mkdir(path.join(stage, DATA_PART))
      await copyFile(token, path.join(stage, ADMIN_TOKEN_PART))
      parts.push(ADMIN_TOKEN_PART)
    }
    const manifest = await writeArchive(
      stage,
      {
        format: BACKUP_FORMAT,
        format_version: BACKUP_FORMAT_VERSION,
        created_at: new Date().toISOString(),
        sso_bridge_version: VERSION,
        store: config.store.kind,
        schema_version: schemaVersion,
      },
      parts,
      out,
      force,
    )
    return {
      file: out,
      store: manifest.store,
      schema_version: manifest.schema_version,
      sso_bridge_version: VERSION,
      parts: manifest.files.map((f) => f.path),
      ...(config.store.kind === 'postgres'
        ? { database: { not_included: true, backup_with: PG_DUMP.backup, note: PG_DUMP.note } }
        : {}),
    }
  } finally {
    await rm(stage, { recursive: true, force: true })
  }
}

/**
 * Copies every regular file of KEYS_DIR (following symlinks, as a mounted secret is often
 * made of; skipping dot-names: temp files of an interrupted write) into `stage/keys/`.
 * @returns the parts written, relative to `stage`
 * @throws {KeysInvalid} a name a backup cannot carry, or no file at all
 */
async function copyKeys(keysDir: string, stage: string): Promise<string[]> {
  const parts: string[] = []
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(path.join(keysDir, rel))).sort()) {
      if (name.startsWith('.')) continue
      const from = path.join(keysDir, rel, name)
      const part = path.posix.join(KEYS_PART, rel.split(path.sep).join('/'), name)
      if (!KEYS_NAME.test(name))
        throw new KeysInvalid(`KEYS_DIR holds ${from}, a name a backup cannot carry: rename it`)
      const info = await stat(from)
      if (info.isDirectory()) await walk(path.join(rel, name))
      else if (info.isFile()) {
        await mkdir(path.dirname(path.join(stage, part)), { recursive: true })
        await copyFile(from, path.join(stage, part))
        parts.push(part)
      }
    }
  }
  await walk('')
  if (parts.length === 0)
    throw new KeysInvalid(`KEYS_DIR ${keysDir} is empty: there are no keys to back up`)
  return parts
}

async function restore(config: Readonly<Config>, file: string, force: boolean) {
  if (!existsSync(file)) throw new BackupInvalid(`${file} does not exist`)
  const stage = await mkdtemp(path.join(os.tmpdir(), 'sso-bridge-restore-'))
  try {
    const manifest = await readArchive(file, stage)
    const kind = config.store.kind
    if (manifest.store !== kind)
      throw new BackupStoreMismatch(
        `${file} is a backup of a ${manifest.store} store, and this configuration uses ${kind} (${kind === 'postgres' ? 'DATABASE_URL is set' : 'DATABASE_URL is not set'})`,
      )
    if (kind === 'sqlite') {
      const copy = checkSqliteDatabaseCopy(path.join(stage, DATABASE_PART))
      if (copy.schemaVersion !== manifest.schema_version)
        throw new BackupInvalid(
          `${file}: its database has schema ${copy.schemaVersion}, its manifest says ${manifest.schema_version}`,
        )
    }
    if (!force)
      for (const [name, dir] of [
        ['DATA_DIR', config.dataDir],
        ['KEYS_DIR', config.keysDir],
      ] as const)
        if (!(await isEmptyDir(dir)))
          throw new RestoreTargetNotEmpty(
            `${name} ${dir} is not empty: restore into an empty one, or give --force to replace what it holds`,
          )

    let lock: ServerLock | undefined
    if (kind === 'sqlite') {
      await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
      try {
        lock = lockSqliteDatabase(config.store.file, config.dataDir)
      } catch (err) {
        if (hasCode(err, 'ERR_STORE_IN_USE'))
          throw new StoreInUse(
            `a server is running on DATA_DIR ${config.dataDir}: stop it before restoring`,
            { cause: err },
          )
        throw err
      }
    }
    try {
      if (force) await clearTargets(config, lock)
      await place(config, manifest, stage)
    } finally {
      lock?.release()
    }
    return {
      restored: file,
      store: kind,
      schema_version: manifest.schema_version,
      this_schema_version: latestSchemaVersion(kind),
      backed_up_by: manifest.sso_bridge_version,
      created_at: manifest.created_at,
      data_dir: config.dataDir,
      keys_dir: config.keysDir,
      parts: manifest.files.map((f) => f.path),
      ...(kind === 'postgres'
        ? { database: { not_included: true, restore_with: PG_DUMP.restore } }
        : {}),
    }
  } finally {
    // Retries: after a failed extraction, node-tar may still be closing files in it.
    await rm(stage, { recursive: true, force: true, maxRetries: 5 })
  }
}

/** Empty: missing, or holding nothing but empty folders (KEYS_DIR may be made inside DATA_DIR). */
async function isEmptyDir(dir: string): Promise<boolean> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw err
  }
  for (const e of entries)
    if (!e.isDirectory() || !(await isEmptyDir(path.join(dir, e.name)))) return false
  return true
}

/**
 * `--force`: removes what the backup replaces — the database files and the admin token in
 * DATA_DIR (other files there are left alone), and everything in KEYS_DIR (so no key of the old
 * set lingers) except the lock this restore holds and DATA_DIR when it lies inside KEYS_DIR.
 */
async function clearTargets(config: Readonly<Config>, lock: ServerLock | undefined): Promise<void> {
  const db = config.store.kind === 'sqlite' ? config.store.file : undefined
  const dataFiles = [
    path.join(config.dataDir, ADMIN_TOKEN_FILE),
    ...(db ? [db, `${db}-wal`, `${db}-shm`, `${db}-journal`] : []),
  ]
  for (const f of dataFiles) await rm(f, { force: true })
  const keep = [config.dataDir, ...(lock ? [lock.file] : [])]
  let names: string[] = []
  try {
    names = await readdir(config.keysDir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  for (const name of names) {
    const full = path.join(config.keysDir, name)
    if (keep.some((k) => k === full || k.startsWith(`${full}${path.sep}`))) continue
    await rm(full, { recursive: true, force: true })
  }
}

/**
 * Copies the checked parts into place: keys and the admin token (files 0600, folders 0700),
 * then the database under a temp name, renamed last, so a server never finds half a database.
 */
async function place(config: Readonly<Config>, manifest: Manifest, stage: string): Promise<void> {
  const put = async (part: string, dest: string) => {
    await mkdir(path.dirname(dest), { recursive: true, mode: 0o700 })
    await copyFile(path.join(stage, part), dest)
    await chmod(dest, 0o600)
  }
  for (const { path: part } of manifest.files) {
    if (part.startsWith(`${KEYS_PART}/`))
      await put(part, path.join(config.keysDir, ...part.split('/').slice(1)))
    else if (part === ADMIN_TOKEN_PART) await put(part, path.join(config.dataDir, ADMIN_TOKEN_FILE))
  }
  if (config.store.kind === 'sqlite') {
    const tmp = `${config.store.file}.restoring`
    await put(DATABASE_PART, tmp)
    await rename(tmp, config.store.file)
  }
}
