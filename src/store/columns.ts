/**
 * @module store/columns
 * Column lists shared by both SQL stores, so the two dialects cannot drift apart on what an
 * account row holds.
 */

/** Columns an account write sets (besides id and timestamps), in statement order. */
export const ACCOUNT_WRITE_COLUMNS = [
  'external_id',
  'username',
  'username_key',
  'email',
  'email_key',
  'email_verified',
  'nickname',
  'given_name',
  'family_name',
  'picture',
  'rank',
  'title',
  'locale',
  'timezone',
  'profile',
  'status',
  'desired_username',
  'desired_email',
] as const

/** Columns read back into an {@link Account}. `password_hash` is read only for credentials. */
export const ACCOUNT_READ_COLUMNS = [
  'id',
  ...ACCOUNT_WRITE_COLUMNS.filter((c) => c !== 'username_key' && c !== 'email_key'),
  'created_at',
  'updated_at',
] as const
