/**
 * @module store/migrations
 * Lists the SQL migrations of one dialect in version order. Files are named `NNN_name.sql`;
 * each store applies the ones it has not recorded, each in its own transaction, and records
 * each version in `schema_migrations`: the database's schema version is the highest one there.
 *
 * Migrations only run forward. A database whose schema version is above this build's newest
 * migration was migrated by a newer sso-bridge: this build refuses it (see
 * {@link assertSchemaNotNewer}) rather than run on tables it does not know; going back to an
 * older version means restoring the backup taken before the upgrade (docs/backup.md).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { SchemaTooNew } from '../../errors/index.ts'
import { VERSION } from '../../version.ts'

/** One migration file: `NNN_name.sql` → version NNN. */
export interface Migration {
  version: number
  name: string
  sql: string
}

/** The SQL dialects that have migrations. */
export type Dialect = 'sqlite' | 'postgres'

/** The migrations of `dialect`, in version order. */
export function listMigrations(dialect: Dialect): Migration[] {
  const dir = new URL(`./${dialect}/`, import.meta.url)
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 3)),
      name: f.slice(4, -4),
      sql: readFileSync(new URL(f, dir), 'utf8'),
    }))
}

/** This build's schema version for `dialect`: the version of its newest migration. */
export function latestSchemaVersion(dialect: Dialect): number {
  return Math.max(0, ...listMigrations(dialect).map((m) => m.version))
}

/**
 * Refuses a database migrated past what this build knows.
 * @param databaseSchema the highest version in the database's `schema_migrations` (0: none)
 * @throws {SchemaTooNew} naming both schema versions and this build's version
 */
export function assertSchemaNotNewer(databaseSchema: number, dialect: Dialect): void {
  const latest = latestSchemaVersion(dialect)
  if (databaseSchema > latest) throw new SchemaTooNew(databaseSchema, latest, VERSION)
}
