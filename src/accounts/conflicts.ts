/**
 * @module accounts/conflicts
 * The username/email conflict rules. When a write brings a username or email another account
 * holds, the store runs the {@link ConflictResolver} this module builds inside its transaction,
 * with the database's unique indexes as the last word: the resolution loop
 * ({@link writeWithRules}) asks the store for database steps and the pure decisions
 * ({@link ConflictRules.resolve}) say what to do:
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
import type { ConflictPolicies } from '../config/index.ts'
import { AccountConflict } from '../errors/index.ts'
import type {
  AccountWrite,
  AccountWriteResult,
  ConflictResolver,
  ContestedField,
  HolderChange,
  ResolutionRecord,
  WriteStep,
  WriteStepResult,
} from '../store/ports.ts'
import { usernameKey } from './normalize.ts'
import type { Account } from './types.ts'

export type { ConflictPolicies, EmailPolicy, UsernamePolicy } from '../config/index.ts'
export type {
  ConflictResolver,
  ContestedField,
  HolderChange,
  ResolutionRecord,
} from '../store/ports.ts'

/** How many `name_N` candidates a suffix resolution checks in one round. */
export const SUFFIX_BATCH = 50
/** Usernames are at most 64 characters; a suffix never makes them longer. */
const USERNAME_MAX = 64
/** Upserts per write at most, so two writers trading a name cannot loop for ever. */
const MAX_ATTEMPTS = 6
/** Rounds of suffix candidates (SUFFIX_BATCH each) before a suffix resolution gives up. */
const CANDIDATE_ROUNDS = 3

/** How one conflict is resolved: the incoming write as changed, the holder's change, the audit entry. */
export interface Resolution {
  write: AccountWrite
  holder?: HolderChange
  record: ResolutionRecord
}

/** One conflict as the store hands it to the rules. */
export interface ConflictInput {
  field: ContestedField
  write: AccountWrite
  holder: Account
  /** Which of {@link ConflictRules.candidates}' keys are held by some account. */
  taken: ReadonlySet<string>
  /** The username candidates offered, key → spelling, in preference order. */
  candidates: ReadonlyMap<string, string>
}

/** The pure decisions of the configured policies; {@link writeWithRules} applies them. */
export interface ConflictRules {
  readonly policies: ConflictPolicies
  /** Username candidates (key → spelling) to check (are they taken?) before `resolve`. */
  candidates(field: ContestedField, write: AccountWrite, round: number): Map<string, string>
  /** The decision, or null to refuse (reject, prompt, or no free candidate). */
  resolve(input: ConflictInput): Resolution | null
}

/**
 * The resolver a store write takes (`{ resolver }` of upsertAccount / upsertAccounts): the
 * resolution loop over the configured policies' decisions.
 * @param policies the configured policy per field
 * @param actor who is writing (recorded in the audit log): `admin-api`, `import`, `cli`, …
 * @param random bytes source, injectable for deterministic tests
 */
export function createConflictResolver(
  policies: ConflictPolicies,
  actor: string,
  random: (n: number) => Buffer = randomBytes,
): ConflictResolver {
  const rules = createConflictRules(policies, actor, random)
  return { resolve: (write) => writeWithRules(write, rules) }
}

/**
 * The decisions alone (no database): which candidates to check, and what to do with a conflict.
 * @param policies the configured policy per field
 * @param actor who is writing (recorded in the audit log)
 * @param random bytes source for takeover's random usernames
 */
export function createConflictRules(
  policies: ConflictPolicies,
  actor: string,
  random: (n: number) => Buffer = randomBytes,
): ConflictRules {
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
      const base = {
        actor,
        policy,
        field,
        account_external_id: write.external_id,
        holder_id: holder.id,
        holder_external_id: holder.external_id,
        requested_value: requested,
      }

      if (policy === 'suffix' && field === 'username') {
        if (!free) return null
        const [key, name] = free
        return {
          write: {
            ...write,
            username: name,
            username_key: key,
            desired_username: write.desired_username ?? write.username,
          },
          record: { ...base, assigned_value: name, holder_old_value: null, holder_new_value: null },
        }
      }
      if (policy === 'takeover') {
        if (field === 'username') {
          if (!free || write.username_key === null) return null
          const [key, name] = free
          return {
            write,
            holder: {
              id: holder.id,
              field,
              expected_key: write.username_key,
              username: name,
              username_key: key,
              desired_username: holder.desired_username ?? holder.username,
            },
            record: {
              ...base,
              assigned_value: requested,
              holder_old_value: holder.username,
              holder_new_value: name,
            },
          }
        }
        if (write.email_key === null) return null
        return {
          write,
          holder: {
            id: holder.id,
            field,
            expected_key: write.email_key,
            desired_email: holder.desired_email ?? holder.email,
          },
          record: {
            ...base,
            assigned_value: requested,
            holder_old_value: holder.email,
            holder_new_value: null,
          },
        }
      }
      return null
    },
  }
}

/**
 * One account write with the conflict rules applied (the resolution loop), written once as a
 * generator of database steps (store/ports.ts `WriteStep`) so that both stores run the same
 * logic: SQLite drives it synchronously inside its transaction (no other request can slip
 * statements in between), PostgreSQL drives it with awaits on one transaction's client. The database's unique indexes stay the last word: every
 * decision is re-checked by the next upsert, and a lost race simply goes round again.
 *
 * Rules of the loop:
 * - try the upsert; on success, record the resolutions made on the way and finish;
 * - a conflict on external_id is final;
 * - the writer's own current name never counts as taken, so a suffixed account keeps its
 *   `name_2` across syncs instead of moving to `name_3`;
 * - otherwise read the holder, ask the rules which candidates to check, check them, and ask
 *   for a decision (more candidate rounds for suffixes); no decision → refuse with the policy;
 * - a takeover first changes the holder (only if it still holds the contested value);
 * - at most MAX_ATTEMPTS upserts, so two writers trading a name cannot loop for ever.
 */
export function* writeWithRules(
  initial: AccountWrite,
  rules: ConflictRules,
): Generator<WriteStep, AccountWriteResult, WriteStepResult> {
  let write = initial
  const records: ResolutionRecord[] = []
  let last: AccountConflict | undefined
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const result = yield { op: 'upsert', write }
    if (!(result instanceof AccountConflict)) {
      const done = result as AccountWriteResult
      if (records.length > 0) yield { op: 'audit', records }
      return { ...done, resolutions: records }
    }
    last = result
    if (result.field === 'external_id') throw result
    const field = result.field
    const holder = result.existingId
      ? ((yield { op: 'account', id: result.existingId }) as Account | null)
      : null
    if (!holder) continue // the holder went away meanwhile: just try again

    let decision = null
    for (let round = 0; round < CANDIDATE_ROUNDS && decision === null; round++) {
      const candidates = rules.candidates(field, write, round)
      const taken =
        candidates.size > 0
          ? ((yield {
              op: 'taken',
              keys: [...candidates.keys()],
              except_external_id: write.external_id,
            }) as Set<string>)
          : new Set<string>()
      decision = rules.resolve({ field, write, holder, taken, candidates })
      if (candidates.size === 0) break
    }
    if (decision === null) {
      throw new AccountConflict(field, result.existingId, {
        cause: result,
        policy: rules.policies[field],
      })
    }
    if (decision.holder) {
      const changed = yield { op: 'changeHolder', change: decision.holder }
      if (changed !== true) continue // lost a race (holder changed, or the new name was taken)
    }
    write = decision.write
    records.push(decision.record)
  }
  throw last ?? new AccountConflict('username')
}

/** `name_N`, shortening the name (by code points) so the result stays within 64 characters. */
export function withSuffix(name: string, n: number): string {
  const suffix = `_${n}`
  const chars = [...name]
  return chars.length + suffix.length <= USERNAME_MAX
    ? name + suffix
    : chars.slice(0, USERNAME_MAX - suffix.length).join('') + suffix
}
