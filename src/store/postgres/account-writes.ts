/**
 * @module store/postgres/account-writes
 * One account write on PostgreSQL: the upsert (decided by the unique indexes), its unique
 * violation as an AccountConflict naming the holder, and the conflict resolver's steps
 * (ports.ts `ConflictResolver`; the rules are in accounts/conflicts.ts) driven with awaits on a
 * transaction's client, every step that may hit a unique index under a SAVEPOINT. Used by
 * accounts.ts for single writes and by batch-writer.ts for the records a batch cannot write in bulk.
 */
import type { PoolClient } from 'pg'
import { AccountConflict, AccountDisabled } from '../../errors/index.ts'
import { columnKind } from '../account-fields.ts'
import { ACCOUNT_WRITE_COLUMNS, accountUpdateSet } from '../columns.ts'
import { newId } from '../ids.ts'
import type {
  AccountWrite,
  AccountWriteResult,
  ConflictResolver,
  WriteStep,
  WriteStepResult,
} from '../ports.ts'
import { uniqueColumnOf } from './constraints.ts'
import { type Db, isDbError, UNIQUE_VIOLATION } from './db.ts'
import { ACCOUNT_BY_ID, READ, toAccount } from './rows.ts'

/** How many times a conflict resolution is started again after losing a deadlock. */
export const DEADLOCK_TRIES = 3
/**
 * Key of the advisory lock every multi-statement write transaction takes first (before touching
 * any row): batches, and single writes resolving a conflict. They run one at a time, like
 * SQLite's `BEGIN IMMEDIATE`, so two of them can never wait on each other's keys or rows in a
 * cycle: two imports touching the same keys in different orders, two takeovers swapping names,
 * a takeover of a holder that is itself taking over, all queue instead of deadlocking. One lock
 * rather than a lock per contested key: the keys a resolution touches (the holder's current and
 * random names, the write's second field, its own account's row) are only known as it goes, so
 * per-key locks could not be taken up front in one order, and resolutions are rare enough to
 * queue. The one-statement fast path (a write without conflict) does not take it, so single
 * writes never wait behind an import; while it waits it holds only its own account's row and
 * the keys it already inserted, so a cycle needs crossing writes (two accounts swapping names,
 * which PostgreSQL's unique checks deadlock on with or without conflict rules, or two writes of
 * one account). The server's deadlock detector then aborts one statement: a fast-path victim
 * starts again inside the serialised path, a transaction victim is run again from the start
 * (DEADLOCK_TRIES); either way everything it did was rolled back first.
 */
export const WRITER_LOCK = 0x550b_71d6_e6

/** The columns an account write sets (shared with batch-writer.ts; internal to store/postgres). */
export const cols = ACCOUNT_WRITE_COLUMNS
/** The upsert's `SET` list: every written column but the key it conflicts on. */
export const UPDATE_SET = accountUpdateSet('EXCLUDED', 'IS NOT DISTINCT FROM')

/** Named statements: each pooled connection prepares them once and reuses the plan. */
const SQL = {
  upsert: {
    name: 'sso_account_upsert',
    text: `
  INSERT INTO accounts (id, ${cols.join(', ')}, password_hash, created_at, updated_at)
  VALUES ($1, ${cols.map((_, i) => `$${i + 2}`).join(', ')}, $${cols.length + 2}, $${cols.length + 3}, $${cols.length + 3})
  ON CONFLICT (external_id) DO UPDATE SET
    ${UPDATE_SET},
    password_hash = CASE WHEN $${cols.length + 4}::boolean THEN accounts.password_hash ELSE EXCLUDED.password_hash END,
    updated_at = EXCLUDED.updated_at
  WHERE NOT $${cols.length + 5}::boolean OR accounts.status = 'active'
  RETURNING ${READ}`,
  },
  writerLock: { name: 'sso_writer_lock', text: 'SELECT pg_advisory_xact_lock($1)' },
  holderUsername: {
    name: 'sso_holder_username',
    text: 'SELECT id FROM accounts WHERE username_key = $1',
  },
  holderEmail: { name: 'sso_holder_email', text: 'SELECT id FROM accounts WHERE email_key = $1' },
  /** Which candidate keys another account holds (the writer's own name is free to keep). */
  taken: {
    name: 'sso_usernames_taken',
    text: 'SELECT username_key FROM accounts WHERE username_key = ANY($1::text[]) AND external_id <> $2',
  },
  /** A takeover's change to the holder, only if it still holds the contested key. */
  changeHolderUsername: {
    name: 'sso_change_holder_username',
    text: `UPDATE accounts SET username = $1, username_key = $2, desired_username = $3, updated_at = $4
  WHERE id = $5 AND username_key = $6`,
  },
  changeHolderEmail: {
    name: 'sso_change_holder_email',
    text: `UPDATE accounts SET email = NULL, email_key = NULL, desired_email = $1, updated_at = $2
  WHERE id = $3 AND email_key = $4`,
  },
  insertAudit: {
    name: 'sso_audit_insert',
    text: `
  INSERT INTO audit_log (id, at, actor, action, policy, field, account_external_id, holder_id, holder_external_id,
    requested_value, assigned_value, holder_old_value, holder_new_value)
  SELECT t.id, $12::timestamptz, t.actor, 'conflict_resolved', t.policy, t.field, t.account_external_id, t.holder_id,
    t.holder_external_id, t.requested_value, t.assigned_value, t.holder_old_value, t.holder_new_value
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::text[], $11::text[])
    AS t(id, actor, policy, field, account_external_id, holder_id, holder_external_id, requested_value, assigned_value,
      holder_old_value, holder_new_value)`,
  },
} as const

/** Takes WRITER_LOCK: the first statement of every multi-statement write transaction. */
export async function takeWriterLock(client: PoolClient): Promise<void> {
  await client.query({ ...SQL.writerLock, values: [WRITER_LOCK] })
}

/** What {@link createAccountWrites} builds. */
export type AccountWrites = ReturnType<typeof createAccountWrites>

/**
 * Account writes under {@link WRITER_LOCK}, with the conflict resolution loop (internal to
 * store/postgres: the account methods and the batch writer share it).
 */
export function createAccountWrites({ q, run, changed }: Db) {
  function upsertValues(write: AccountWrite, id: string, now: string): unknown[] {
    return [
      id,
      ...cols.map((c) =>
        columnKind(c) === 'json' ? JSON.stringify(write[c] ?? {}) : (write[c] ?? null),
      ),
      write.password_hash ?? null,
      now,
      write.password_hash === undefined,
      write.only_if_active === true,
    ]
  }

  /** One upsert statement, errors as PostgreSQL raised them. */
  async function upsertRow(
    write: AccountWrite,
    id: string,
    now: string,
    client?: PoolClient,
  ): Promise<AccountWriteResult> {
    const [row] = await q(SQL.upsert, upsertValues(write, id, now), client)
    // No row: the account exists and is not active, and only_if_active kept it as it was.
    if (row === undefined) throw new AccountDisabled()
    return { account: toAccount(row), created: row.id === id, resolutions: [] }
  }

  /**
   * One upsert inside a transaction, under a savepoint: a unique violation rolls back just this
   * statement (the transaction stays usable) and comes back as the AccountConflict, not thrown.
   */
  async function tryUpsert(
    client: PoolClient,
    write: AccountWrite,
    id: string,
    now: string,
  ): Promise<AccountWriteResult | AccountConflict> {
    await client.query('SAVEPOINT attempt')
    try {
      const result = await upsertRow(write, id, now, client)
      await client.query('RELEASE SAVEPOINT attempt')
      return result
    } catch (err) {
      if (!isDbError(err, UNIQUE_VIOLATION)) throw err
      await client.query('ROLLBACK TO SAVEPOINT attempt; RELEASE SAVEPOINT attempt')
      return (await mapError(err, write, client)) as AccountConflict
    }
  }

  /**
   * A unique violation becomes AccountConflict naming the holder. The lookup runs on `client`
   * when given (inside a batch, after rolling back to the savepoint, so it sees the batch's own
   * earlier rows), else on the pool.
   */
  async function mapError(
    err: unknown,
    write: AccountWrite,
    client?: PoolClient,
  ): Promise<unknown> {
    if (!isDbError(err, UNIQUE_VIOLATION)) return err
    const column = uniqueColumnOf(err)
    if (column === 'username_key' || column === 'email_key') {
      const key = write[column]
      const holder =
        key === null
          ? undefined
          : (
              await q(
                column === 'username_key' ? SQL.holderUsername : SQL.holderEmail,
                [key],
                client,
              )
            )[0]
      return new AccountConflict(
        column === 'username_key' ? 'username' : 'email',
        holder?.id as string | undefined,
        { cause: err },
      )
    }
    return new AccountConflict('external_id', undefined, { cause: err })
  }

  /**
   * Drives the resolver's steps on `client`, inside a transaction that holds WRITER_LOCK
   * (without a resolver, a deadlock victim starting again: one plain upsert, see
   * refuseConflicts). Every upsert attempt proposes the same `id` (a failed attempt is rolled
   * back, so the id is free again). `first`, when given, answers the first upsert: the caller
   * has just tried it in this same transaction. A refusal is thrown (AccountConflict); the
   * caller rolls back whatever the attempts changed (transaction or record savepoint).
   */
  async function resolveWrite(
    client: PoolClient,
    write: AccountWrite,
    resolver: ConflictResolver | undefined,
    id: string,
    now: string,
    first?: AccountConflict,
  ): Promise<AccountWriteResult> {
    const steps = resolver ? resolver.resolve(write) : refuseConflicts(write)
    let known = first
    let next = steps.next()
    while (!next.done) {
      const step = next.value
      let result: WriteStepResult
      if (known !== undefined && step.op === 'upsert') {
        result = known
        known = undefined
      } else {
        result = await runStep(client, step, id, now)
      }
      next = steps.next(result)
    }
    return next.value
  }

  async function runStep(
    client: PoolClient,
    step: WriteStep,
    id: string,
    now: string,
  ): Promise<WriteStepResult> {
    switch (step.op) {
      case 'upsert':
        return tryUpsert(client, step.write, id, now)
      case 'account': {
        const [row] = await q(ACCOUNT_BY_ID, [step.id], client)
        return row ? toAccount(row) : null
      }
      case 'taken':
        return new Set(
          (await q(SQL.taken, [step.keys, step.except_external_id], client)).map(
            (r) => r.username_key as string,
          ),
        )
      case 'changeHolder': {
        const c = step.change
        if (c.field === 'email') {
          // Clears the key: cannot hit a unique index, so no savepoint.
          return changed(
            SQL.changeHolderEmail,
            [c.desired_email ?? null, now, c.id, c.expected_key],
            client,
          )
        }
        // The random name may have been taken meanwhile: only this UPDATE is undone, and the
        // generator goes round again.
        await client.query('SAVEPOINT holder')
        try {
          const done = await changed(
            SQL.changeHolderUsername,
            [c.username!, c.username_key!, c.desired_username ?? null, now, c.id, c.expected_key],
            client,
          )
          await client.query('RELEASE SAVEPOINT holder')
          return done
        } catch (err) {
          if (!isDbError(err, UNIQUE_VIOLATION)) throw err
          await client.query('ROLLBACK TO SAVEPOINT holder; RELEASE SAVEPOINT holder')
          return false
        }
      }
      case 'audit': {
        const rs = step.records
        await run(
          SQL.insertAudit,
          [
            rs.map(() => newId()),
            rs.map((r) => r.actor),
            rs.map((r) => r.policy),
            rs.map((r) => r.field),
            rs.map((r) => r.account_external_id),
            rs.map((r) => r.holder_id),
            rs.map((r) => r.holder_external_id),
            rs.map((r) => r.requested_value),
            rs.map((r) => r.assigned_value),
            rs.map((r) => r.holder_old_value),
            rs.map((r) => r.holder_new_value),
            now,
          ],
          client,
        )
        return undefined
      }
    }
  }

  return { upsertRow, tryUpsert, mapError, resolveWrite }
}

/**
 * The steps of a write without conflict rules, for a deadlock victim starting again when the
 * caller gave no resolver: one upsert, whose conflict is refused.
 */
function* refuseConflicts(
  write: AccountWrite,
): Generator<WriteStep, AccountWriteResult, WriteStepResult> {
  const result = yield { op: 'upsert', write }
  if (result instanceof AccountConflict) throw result
  return result as AccountWriteResult
}
