/**
 * @module store/account
 * The account as the store keeps it and every door sees it. It lives below the ports (not in
 * accounts/) so that the store depends on nothing in accounts/; accounts/types.ts re-exports it.
 * Field names follow OIDC standard claims (snake_case), so mapping sources read naturally
 * (`given_name`, `profile.names.first`).
 */

export const RANKS = ['visitor', 'regular', 'moderator', 'manager', 'owner'] as const
export type Rank = (typeof RANKS)[number]

export const ACCOUNT_STATUSES = ['active', 'disabled'] as const
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number]

/** Free nested JSON the site chooses to expose. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

/** An account as read back from the store (never carries the password hash). */
export interface Account {
  /** Stable internal id (time-ordered, opaque). */
  id: string
  /** The site's own unique user key; identity is always this. */
  external_id: string
  /** Display spelling; uniqueness is checked on its NFKC case-folded form. */
  username: string | null
  email: string | null
  email_verified: boolean
  nickname: string | null
  given_name: string | null
  family_name: string | null
  picture: string | null
  rank: Rank
  title: string | null
  locale: string | null
  /** IANA time zone name. */
  timezone: string | null
  profile: JsonObject
  status: AccountStatus
  /**
   * The username/email the site last sent but the account does not hold (a conflict rule gave
   * it another, or took it away). The site's real values are never lost; the next write for this
   * account applies them again.
   */
  desired_username: string | null
  desired_email: string | null
  /** True while a desired value is pending (derived from desired_*). */
  stale: boolean
  /** Whether a password (of any supported scheme) is set. */
  has_password: boolean
  created_at: string
  updated_at: string
}

/** Fields a write supplies (after validation and normalization). */
export type AccountFields = Omit<
  Account,
  'id' | 'has_password' | 'stale' | 'created_at' | 'updated_at'
>
