/**
 * @module store/account
 * The account as the store keeps it and every door sees it. It lives below the ports (not in
 * accounts/) so that the store depends on nothing in accounts/; accounts/types.ts re-exports it.
 * Its data fields come from the one table in store/account-fields.ts. Field names follow OIDC
 * standard claims (snake_case), so mapping sources read naturally (`given_name`,
 * `profile.names.first`).
 */
import type { AccountData } from './account-fields.ts'

export {
  ACCOUNT_STATUSES,
  RANKS,
  type AccountStatus,
  type JsonObject,
  type JsonValue,
  type Rank,
} from './account-fields.ts'

/** An account as read back from the store (never carries the password hash). */
export interface Account extends AccountData {
  /** Stable internal id (time-ordered, opaque). */
  id: string
  /** The site's own unique user key; identity is always this. */
  external_id: string
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
