/**
 * @module store/postgres/constraints
 * Which column a unique violation is about, read from the constraint it names (`pg`'s
 * `DatabaseError.constraint`), never from the message text: the message and its `Key (…)=(…)`
 * detail are translated with the server's `lc_messages` and quote values ambiguously, while the
 * constraint name is fixed by the schema.
 */
import type { DatabaseError } from 'pg'

/**
 * The unique constraints migrations/postgres/001_init.sql creates on `accounts` (column-level
 * `UNIQUE`, so PostgreSQL names them `<table>_<column>_key`), to the column each guards. A
 * migration renaming one must change it here; test/store/postgres.test.ts checks every name
 * exists in a migrated database.
 */
export const ACCOUNT_UNIQUE_CONSTRAINTS = {
  accounts_external_id_key: 'external_id',
  accounts_username_key_key: 'username_key',
  accounts_email_key_key: 'email_key',
} as const

/** An `accounts` column a unique constraint guards. */
export type AccountKeyColumn =
  (typeof ACCOUNT_UNIQUE_CONSTRAINTS)[keyof typeof ACCOUNT_UNIQUE_CONSTRAINTS]

/** The `accounts` column a unique violation is on; null for any other constraint (or none). */
export function uniqueColumnOf(err: DatabaseError): AccountKeyColumn | null {
  const name = err.constraint
  return name !== undefined && Object.hasOwn(ACCOUNT_UNIQUE_CONSTRAINTS, name)
    ? ACCOUNT_UNIQUE_CONSTRAINTS[name as keyof typeof ACCOUNT_UNIQUE_CONSTRAINTS]
    : null
}
