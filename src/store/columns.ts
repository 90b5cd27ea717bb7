/**
 * @module store/columns
 * Column lists shared by both SQL stores, derived from the field table (store/account-fields.ts)
 * so the two dialects cannot drift apart on what an account row holds, and a field added to the
 * table is written and read by both without another list to edit.
 */
import { ACCOUNT_FIELD_NAMES, fieldSpec, UNIQUE_FIELDS } from './account-fields.ts'
import type { AccountWrite } from './ports.ts'

/** A column an account write sets (besides id, password_hash and timestamps). */
export type AccountWriteColumn = Exclude<keyof AccountWrite, 'password_hash' | 'only_if_active'>

/**
 * Columns an account write sets (besides id, password_hash and timestamps), in statement order:
 * external_id, each data field (a unique one followed by its `<name>_key`), then each unique
 * field's `desired_<name>`.
 */
export const ACCOUNT_WRITE_COLUMNS: readonly AccountWriteColumn[] = [
  'external_id',
  ...ACCOUNT_FIELD_NAMES.flatMap((name): AccountWriteColumn[] =>
    fieldSpec(name).unique ? [name, keyColumn(name)] : [name],
  ),
  ...UNIQUE_FIELDS.map(desiredColumn),
]

/** Columns read back into an {@link Account}. `password_hash` is read only for credentials. */
export const ACCOUNT_READ_COLUMNS: readonly string[] = [
  'id',
  ...ACCOUNT_WRITE_COLUMNS.filter((c) => !c.endsWith('_key')),
  'created_at',
  'updated_at',
]

/**
 * The `SET` list of an account upsert's update (every written column but `external_id`), in a
 * dialect's spelling of the proposed row (`excluded`) and of null-safe equality (SQLite `IS`,
 * PostgreSQL `IS NOT DISTINCT FROM`). A write that keeps a unique field's stored value (its key
 * unchanged: the console's disable/enable, a PUT repeating what it read) and brings no desired
 * value of its own keeps the pending one: only a write that changes the field settles it, and a
 * conflict rule that withholds the new value sets it again (accounts/conflicts.ts).
 */
export function accountUpdateSet(excluded: string, nullSafeEquals: string): string {
  const desired = new Set<string>(UNIQUE_FIELDS.map(desiredColumn))
  return ACCOUNT_WRITE_COLUMNS.filter((c) => c !== 'external_id')
    .map((c) => {
      if (!desired.has(c)) return `${c} = ${excluded}.${c}`
      const key = keyColumn(c.slice('desired_'.length))
      return `${c} = CASE WHEN ${excluded}.${c} IS NULL AND ${excluded}.${key} ${nullSafeEquals} accounts.${key} THEN accounts.${c} ELSE ${excluded}.${c} END`
    })
    .join(',\n    ')
}

// The column names of a unique field. A new unique field also needs them in AccountWrite and its
// conflict handling in accounts/conflicts.ts; these names are the convention both follow.
function keyColumn(name: string): AccountWriteColumn {
  return `${name}_key` as AccountWriteColumn
}
function desiredColumn(name: string): AccountWriteColumn {
  return `desired_${name}` as AccountWriteColumn
}
