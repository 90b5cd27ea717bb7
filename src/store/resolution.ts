/**
 * @module store/resolution
 * One account write with the conflict rules applied, written once as a generator of database
 * steps so that both stores run the same logic: SQLite drives it synchronously inside its
 * transaction (no other request can slip statements in between), PostgreSQL drives it with
 * awaits on one transaction's client. The database's unique indexes stay the last word: every
 * decision is re-checked by the next upsert, and a lost race simply goes round again.
 *
 * Rules of the loop:
 * - try the upsert; on success, record the resolutions made on the way and finish;
 * - a conflict without a resolver, or on external_id, is final;
 * - the writer's own current name never counts as taken, so a suffixed account keeps its
 *   `name_2` across syncs instead of moving to `name_3`;
 * - otherwise read the holder, ask the resolver which candidates to check, check them, and ask
 *   for a decision (more candidate rounds for suffixes); no decision → refuse with the policy;
 * - a takeover first changes the holder (only if it still holds the contested value);
 * - at most MAX_ATTEMPTS upserts, so two writers trading a name cannot loop for ever.
 */
import type { ConflictResolver, HolderChange, ResolutionRecord } from '../accounts/conflicts.ts'
import type { Account } from '../accounts/types.ts'
import { AccountConflict } from '../errors/index.ts'
import type { AccountWrite, AccountWriteResult } from './ports.ts'

export const MAX_ATTEMPTS = 6
const CANDIDATE_ROUNDS = 3

export type Step =
  | { op: 'upsert'; write: AccountWrite }
  | { op: 'account'; id: string }
  /** Which of these username keys are held by an account other than `except_external_id`. */
  | { op: 'taken'; keys: string[]; except_external_id: string }
  | { op: 'changeHolder'; change: HolderChange }
  | { op: 'audit'; records: ResolutionRecord[] }

/** What each step gives back to the generator. */
export type StepResult = AccountWriteResult | AccountConflict | Account | null | Set<string> | boolean | undefined

export function* writeWithRules(
  initial: AccountWrite,
  resolver: ConflictResolver | undefined,
): Generator<Step, AccountWriteResult, StepResult> {
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
    if (!resolver || result.field === 'external_id') throw result
    const field = result.field
    const holder = result.existingId ? ((yield { op: 'account', id: result.existingId }) as Account | null) : null
    if (!holder) continue // the holder went away meanwhile: just try again

    let decision = null
    for (let round = 0; round < CANDIDATE_ROUNDS && decision === null; round++) {
      const candidates = resolver.candidates(field, write, round)
      const taken = candidates.size > 0 ? ((yield { op: 'taken', keys: [...candidates.keys()], except_external_id: write.external_id }) as Set<string>) : new Set<string>()
      decision = resolver.resolve({ field, write, holder, taken, candidates })
      if (candidates.size === 0) break
    }
    if (decision === null) {
      throw new AccountConflict(field, result.existingId, { cause: result, policy: resolver.policies[field] })
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
