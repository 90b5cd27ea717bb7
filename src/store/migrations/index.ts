/**
 * @module store/migrations
 * Lists the SQL migrations of one dialect in version order. Files are named `NNN_name.sql`;
 * each store applies the ones it has not recorded, each in its own transaction.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** One migration file: `NNN_name.sql` → version NNN. */
export interface Migration {
  version: number
  name: string
  sql: string
}

/** The migrations of `dialect`, in version order. */
export function listMigrations(dialect: 'sqlite' | 'postgres'): Migration[] {
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
