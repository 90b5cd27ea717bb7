/**
 * @module accounts/conflicts
 * The username/email conflict rules, as pure decisions. When a write brings a username or email
 * another account holds, the store (inside its transaction, with the database's unique indexes
 * as the last word) asks {@link ConflictResolver.resolve} what to do:
 *
 * - `reject`: refuse (409 username_taken / email_taken); nothing changes.
 * - `takeover` (Minnit's "automatically resolve all conflicts"): the incoming account gets the
 *   value; the holder gets a random available username, or loses its email, and keeps the real
 *   value in `desired_*` (it is stale) until its own next write applies it again.
 * - `suffix` (usernames only): the incoming account gets the first free `name_2`, `name_3`, …
 *   and keeps the name it asked for in `desired_username`.
 * - `prompt`: an interactive sign-in asks the member for another value; every other write
 *   behaves as `reject`.
 *
 * Identity is always `external_id`: no rule ever creates a second account.
 */
import { randomBytes } from 'node:crypto'
import type { ConflictPolicies, EmailPolicy, UsernamePolicy } from '../config/index.ts'
import type { AccountWrite } from '../store/ports.ts'
import { usernameKey } from './normalize.ts'
import type { Account } from './types.ts'

export type { ConflictPolicies, EmailPolicy, UsernamePolicy } from '../config/index.ts'
export type ContestedField = 'username' | 'email'

/** How many `name_N` candidates a suffix resolution checks in one round. */
export const SUFFIX_BATCH = 50
/** Usernames are at most 64 characters; a suffix never makes them longer. */
const USERNAME_MAX = 64

/** One resolved conflict, as the audit log records it. */
export interface ResolutionRecord {
  actor: string
  policy: UsernamePolicy | EmailPolicy
  field: ContestedField
  account_external_id: string
  holder_id: string
  holder_external_id: string
  /** What the incoming write asked for. */
  requested_value: string
  /** What the incoming account got. */
  assigned_value: string
  /** The holder's value before and after (takeover only; suffix leaves the holder alone). */
  holder_old_value: string | null
  holder_new_value: string | null
}

/** A change to the current holder of a contested value (takeover). */
export interface HolderChange {
  id: string
  field: ContestedField
  /** The contested key: the change applies only if the holder still holds it. */
  expected_key: string
  username?: string
  username_key?: string
  desired_username?: string | null
  desired_email?: string | null
}

export interface Resolution {
  write: AccountWrite
  holder?: HolderChange
  record: ResolutionRecord
}

export interface ConflictInput {
  field: ContestedField
  write: AccountWrite
  holder: Account
  /** Which of {@link ConflictResolver.candidates}' keys are held by some account. */
  taken: ReadonlySet<string>
  /** The username candidates offered, key → spelling, in preference order. */
  candidates: ReadonlyMap<string, string>
}

export interface ConflictResolver {
  readonly policies: ConflictPolicies
  /** Username candidates (key → spelling) the store must check before `resolve`. */
  candidates(field: ContestedField, write: AccountWrite, round: number): Map<string, string>
  /** The decision, or null to refuse (reject, prompt, or no free candidate). */
  resolve(input: ConflictInput): Resolution | null
}

/**
 * @param policies the configured policy per field
 * @param actor who is writing (recorded in the audit log): `admin-api`, `import`, `cli`, …
 * @param random bytes source, injectable for deterministic tests
 */
export function createConflictResolver(
  policies: ConflictPolicies,
  actor: string,
  random: (n: number) => Buffer = randomBytes,
): ConflictResolver {
  return {
    policies,

    candidates(field, write, round) {
      const out = new Map<string, string>()
      if (field === 'email') return out
      const policy = field === 'username' ? policies.username : policies.email
      if (policy === 'suffix' && write.username !== null) {
        for (let n = 2 + round * SUFFIX_BATCH; n < 2 + (round + 1) * SUFFIX_BATCH; n++) {
          const name = withSuffix(write.username, n)
          out.set(usernameKey(name), name)
        }
      } else if (policy === 'takeover') {
        for (let i = 0; i < 4; i++) {
          const name = `user_${random(6).toString('hex')}`
          out.set(usernameKey(name), name)
        }
      }
      return out
    },

    resolve({ field, write, holder, taken, candidates }) {
      const policy = field === 'username' ? policies.username : policies.email
      const requested = (field === 'username' ? write.username : write.email) ?? ''
      const free = [...candidates].find(([key]) => !taken.has(key))
      const base = { actor, policy, field, account_external_id: write.external_id, holder_id: holder.id, holder_external_id: holder.external_id, requested_value: requested }

      if (policy === 'suffix' && field === 'username') {
        if (!free) return null
        const [key, name] = free
        return {
          write: { ...write, username: name, username_key: key, desired_username: write.desired_username ?? write.username },
          record: { ...base, assigned_value: name, holder_old_value: null, holder_new_value: null },
        }
      }
      if (policy === 'takeover') {
        if (field === 'username') {
          if (!free || write.username_key === null) return null
          const [key, name] = free
          return {
            write,
            holder: { id: holder.id, field, expected_key: write.username_key, username: name, username_key: key, desired_username: holder.desired_username ?? holder.username },
            record: { ...base, assigned_value: requested, holder_old_value: holder.username, holder_new_value: name },
          }
        }
        if (write.email_key === null) return null
        return {
          write,
          holder: { id: holder.id, field, expected_key: write.email_key, desired_email: holder.desired_email ?? holder.email },
          record: { ...base, assigned_value: requested, holder_old_value: holder.email, holder_new_value: null },
        }
      }
      return null
    },
  }
}

/** `name_N`, shortening the name (by code points) so the result stays within 64 characters. */
export function withSuffix(name: string, n: number): string {
  const suffix = `_${n}`
  const chars = [...name]
  return chars.length + suffix.length <= USERNAME_MAX ? name + suffix : chars.slice(0, USERNAME_MAX - suffix.length).join('') + suffix
}
