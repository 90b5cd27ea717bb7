/**
 * @module store/postgres/rows
 * Rows as the store returns them: the account columns every read selects, and row → record.
 */
import type { Account } from '../account.ts'
import { ACCOUNT_FIELD_NAMES, type AccountData } from '../account-fields.ts'
import { ACCOUNT_READ_COLUMNS } from '../columns.ts'
import type { IntegrationRecord } from '../ports.ts'
import type { Row } from './db.ts'

/** The columns of an account read (never the hash itself, only whether there is one). */
export const READ = `${ACCOUNT_READ_COLUMNS.join(', ')}, password_hash IS NOT NULL AS has_password`

/** One account by id (reads, and the conflict resolver's `account` step). */
export const ACCOUNT_BY_ID = {
  name: 'sso_account_by_id',
  text: `SELECT ${READ} FROM accounts WHERE id = $1`,
}

/** An account row as `pg` returns it: jsonb and boolean columns arrive as their values. */
export function toAccount(row: Row): Account {
  const data: Record<string, unknown> = {}
  for (const name of ACCOUNT_FIELD_NAMES) data[name] = row[name]
  return {
    ...(data as AccountData),
    id: row.id,
    external_id: row.external_id,
    desired_username: row.desired_username,
    desired_email: row.desired_email,
    stale: row.desired_username !== null || row.desired_email !== null,
    has_password: row.has_password,
    created_at: (row.created_at as Date).toISOString(),
    updated_at: (row.updated_at as Date).toISOString(),
  }
}

/** An `integrations` row as an {@link IntegrationRecord} (timestamps as ISO strings). */
export function toIntegration(row: Row): IntegrationRecord {
  return {
    id: row.id,
    type: row.type,
    settings: row.settings,
    secrets: row.secrets,
    mapping: row.mapping,
    created_at: (row.created_at as Date).toISOString(),
    updated_at: (row.updated_at as Date).toISOString(),
  }
}
