/**
 * @module store/postgres/store
 * The server store: PostgreSQL through a `pg` pool. Same semantics as `store/sqlite` (one
 * contract suite runs against both); the differences are PostgreSQL's:
 * - A failed statement aborts the whole transaction, so batch writes put a SAVEPOINT around
 *   whatever may fail and roll back to it.
 * - Batches are written many rows per statement (`INSERT … SELECT FROM unnest(…)`), falling back
 *   to smaller windows and finally one row at a time around a failing record, so the per-record
 *   results are exactly those of writing the records one by one, in order.
 * - Every multi-statement write transaction (a batch, or a single write resolving a conflict)
 *   takes one transaction-level advisory lock, so they run one at a time as under SQLite's single
 *   writer: two of them can never deadlock on each other's keys or rows (see WRITER_LOCK).
 * - The conflict resolver's steps (ports.ts `ConflictResolver`; the rules are in
 *   accounts/conflicts.ts) run with awaits on the transaction's client; every step that may
 *   hit a unique index runs under a SAVEPOINT.
 * - Migrations may race between processes starting at once: another advisory lock serialises
 *   them.
 * - Integration writes notify every instance in the same statement (LISTEN/NOTIFY,
 *   changes.ts), exposed as `integrationChanges`.
 */
import pg, { type DatabaseError, type Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg'
import { AccountConflict, AccountDisabled, BridgeError, StoreUnavailable } from '../../errors/index.ts'
import type { Account } from '../account.ts'
import { ACCOUNT_READ_COLUMNS, ACCOUNT_WRITE_COLUMNS } from '../columns.ts'
import { decodeCursor, encodeCursor, newId } from '../ids.ts'
import { listMigrations } from '../migrations/index.ts'
import { createPostgresChangeFeed, notifyIntegrationSql } from './changes.ts'
import { type AccountKeyColumn, uniqueColumnOf } from './constraints.ts'
import { createPostgresKv } from './kv.ts'
import type {
  AccountWrite,
  AuditEntry,
  AccountWriteResult,
  BatchItemResult,
  ConflictResolver,
  Credentials,
  IntegrationRecord,
  IntegrationWrite,
  Page,
  Store,
  WriteStep,
  WriteStepResult,
} from '../ports.ts'

type Row = QueryResultRow
/** A statement; named ones are prepared once per pooled connection. */
type Query = { name?: string; text: string }
type WriteColumn = (typeof ACCOUNT_WRITE_COLUMNS)[number]

const UNIQUE_VIOLATION = '23505'
/** "ON CONFLICT DO UPDATE command cannot affect row a second time": a batch-internal repeat. */
const CARDINALITY_VIOLATION = '21000'
/** The server broke a lock cycle by aborting this statement. */
const DEADLOCK_DETECTED = '40P01'
/** How many times a conflict resolution is started again after losing a deadlock. */
const DEADLOCK_TRIES = 3
/** Key of the advisory lock serialising migrations across processes (any fixed bigint). */
const MIGRATION_LOCK = 0x550b_71d6_e5
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
const WRITER_LOCK = 0x550b_71d6_e6
/** Rows per multi-row statement in a batch write. */
const CHUNK = 1000

const cols = ACCOUNT_WRITE_COLUMNS
const READ = `${ACCOUNT_READ_COLUMNS.join(', ')}, password_hash IS NOT NULL AS has_password`
const UPDATE_SET = cols
  .filter((c) => c !== 'external_id')
  .map((c) => `${c} = EXCLUDED.${c}`)
  .join(',\n    ')

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
  byExternalId: { name: 'sso_account_by_external_id', text: `SELECT ${READ} FROM accounts WHERE external_id = $1` },
  byId: { name: 'sso_account_by_id', text: `SELECT ${READ} FROM accounts WHERE id = $1` },
  credsByUsername: {
    name: 'sso_creds_by_username',
    text: `SELECT ${READ}, password_hash AS hash FROM accounts WHERE username_key = $1`,
  },
  credsByEmail: { name: 'sso_creds_by_email', text: `SELECT ${READ}, password_hash AS hash FROM accounts WHERE email_key = $1` },
  writerLock: { name: 'sso_writer_lock', text: 'SELECT pg_advisory_xact_lock($1)' },
  touched: {
    name: 'sso_accounts_touched',
    text: `SELECT external_id, username_key, email_key FROM accounts
  WHERE external_id = ANY($1::text[]) OR username_key = ANY($2::text[]) OR email_key = ANY($3::text[])`,
  },
  holderUsername: { name: 'sso_holder_username', text: 'SELECT id FROM accounts WHERE username_key = $1' },
  holderEmail: { name: 'sso_holder_email', text: 'SELECT id FROM accounts WHERE email_key = $1' },
  /** Who holds which of these keys: where a failed multi-row statement may have clashed. */
  holdersUsername: {
    name: 'sso_holders_username',
    text: 'SELECT username_key AS key, external_id FROM accounts WHERE username_key = ANY($1::text[])',
  },
  holdersEmail: { name: 'sso_holders_email', text: 'SELECT email_key AS key, external_id FROM accounts WHERE email_key = ANY($1::text[])' },
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
  replaceHash: {
    name: 'sso_replace_hash',
    text: 'UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4',
  },
  del: { name: 'sso_account_delete', text: 'DELETE FROM accounts WHERE external_id = $1' },
  page: { name: 'sso_account_page', text: `SELECT ${READ} FROM accounts WHERE id > $1 ORDER BY id LIMIT $2` },
  count: { name: 'sso_account_count', text: 'SELECT count(*) AS n FROM accounts' },
  putIntegration: {
    name: 'sso_integration_put',
    text: `
  WITH up AS (
    INSERT INTO integrations (id, type, settings, secrets, mapping, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $6)
    ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, settings = EXCLUDED.settings,
      secrets = EXCLUDED.secrets, mapping = EXCLUDED.mapping, updated_at = EXCLUDED.updated_at
    RETURNING *, (xmax = 0) AS created
  )
  SELECT up.*, ${notifyIntegrationSql('up.id')} IS NULL AS notified FROM up`,
  },
  getIntegration: { name: 'sso_integration_get', text: 'SELECT * FROM integrations WHERE id = $1' },
  listIntegrations: { name: 'sso_integration_list', text: 'SELECT * FROM integrations ORDER BY id' },
  delIntegration: {
    name: 'sso_integration_delete',
    text: `WITH d AS (DELETE FROM integrations WHERE id = $1 RETURNING id) SELECT ${notifyIntegrationSql('d.id')} IS NULL AS notified FROM d`,
  },
} as const

/**
 * Many rows in one statement, one array parameter per column. Rows within one statement have
 * distinct external_ids, and PostgreSQL checks unique indexes row by row in input order, so a
 * statement that succeeds has the effect of the same upserts run one after another.
 *
 * `ON CONFLICT DO UPDATE` sees only the proposed row (EXCLUDED), not a per-row flag, so the
 * password rule is baked into two variants: `keep` (no record clears the hash: a NULL keeps
 * the stored one) and `set` (no record leaves it undefined: NULL clears). A string sets it in
 * both, so only records that say "keep" and records that say "clear" never share a statement.
 */
function manyStatement(mode: 'keep' | 'set'): { name: string; text: string } {
  const arrayType = (c: WriteColumn) => (c === 'email_verified' ? 'boolean[]' : 'text[]')
  const source = (c: WriteColumn) => (c === 'profile' ? 't.profile::jsonb' : `t.${c}`)
  const n = cols.length
  return {
    name: `sso_account_upsert_many_${mode}`,
    text: `
  INSERT INTO accounts (id, ${cols.join(', ')}, password_hash, created_at, updated_at)
  SELECT t.id, ${cols.map(source).join(', ')}, t.password_hash, $${n + 3}::timestamptz, $${n + 3}::timestamptz
  FROM unnest($1::text[], ${cols.map((c, i) => `$${i + 2}::${arrayType(c)}`).join(', ')}, $${n + 2}::text[])
    AS t(id, ${cols.join(', ')}, password_hash)
  ON CONFLICT (external_id) DO UPDATE SET
    ${UPDATE_SET},
    password_hash = ${mode === 'keep' ? 'COALESCE(EXCLUDED.password_hash, accounts.password_hash)' : 'EXCLUDED.password_hash'},
    updated_at = EXCLUDED.updated_at
  RETURNING id`,
  }
}
const MANY = { keep: manyStatement('keep'), set: manyStatement('set') }

/** Opens the pool, checks the connection and applies pending migrations. */
export async function createPostgresStore(url: string): Promise<Store> {
  const where = describeUrl(url)
  let pool: Pool
  try {
    pool = new pg.Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'sso-bridge',
    })
  } catch (cause) {
    throw new StoreUnavailable(`cannot open PostgreSQL database at ${where}: ${reasonOf(cause, url)}`, { cause })
  }
  // An idle pooled connection that dies (server restart, network) emits 'error' on the pool; the
  // pool already drops it and the next query reconnects. Without a listener Node would crash.
  pool.on('error', () => {})
  try {
    await migrate(pool)
  } catch (cause) {
    await pool.end().catch(() => {})
    throw new StoreUnavailable(`cannot open PostgreSQL database at ${where}: ${reasonOf(cause, url)}`, { cause })
  }

  /** Runs a query (on `client`, else the pool); a lost or refused connection becomes StoreUnavailable. */
  async function run(query: Query, values: unknown[] = [], client?: PoolClient): Promise<QueryResult> {
    try {
      return await (client ?? pool).query({ ...query, values })
    } catch (err) {
      throw unavailable(err, url) ?? err
    }
  }
  const q = async (query: Query, values: unknown[] = [], client?: PoolClient): Promise<Row[]> => (await run(query, values, client)).rows
  const changed = async (query: Query, values: unknown[], client?: PoolClient): Promise<boolean> =>
    (await run(query, values, client)).rowCount === 1

  function upsertValues(write: AccountWrite, id: string, now: string): unknown[] {
    return [
      id,
      ...cols.map((c) => (c === 'profile' ? JSON.stringify(write.profile ?? {}) : (write[c] ?? null))),
      write.password_hash ?? null,
      now,
      write.password_hash === undefined,
      write.only_if_active === true,
    ]
  }

  /** One upsert statement, errors as PostgreSQL raised them. */
  async function upsertRow(write: AccountWrite, id: string, now: string, client?: PoolClient): Promise<AccountWriteResult> {
    const [row] = await q(SQL.upsert, upsertValues(write, id, now), client)
    // No row: the account exists and is not active, and only_if_active kept it as it was.
    if (row === undefined) throw new AccountDisabled()
    return { account: toAccount(row), created: row.id === id, resolutions: [] }
  }

  /**
   * One upsert inside a transaction, under a savepoint: a unique violation rolls back just this
   * statement (the transaction stays usable) and comes back as the AccountConflict, not thrown.
   */
  async function tryUpsert(client: PoolClient, write: AccountWrite, id: string, now: string): Promise<AccountWriteResult | AccountConflict> {
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
  async function mapError(err: unknown, write: AccountWrite, client?: PoolClient): Promise<unknown> {
    if (!isDbError(err, UNIQUE_VIOLATION)) return err
    const column = uniqueColumnOf(err)
    if (column === 'username_key' || column === 'email_key') {
      const key = write[column]
      const holder = key === null ? undefined : (await q(column === 'username_key' ? SQL.holderUsername : SQL.holderEmail, [key], client))[0]
      return new AccountConflict(column === 'username_key' ? 'username' : 'email', holder?.id as string | undefined, { cause: err })
    }
    return new AccountConflict('external_id', undefined, { cause: err })
  }

  /** BEGIN … COMMIT (or ROLLBACK when `commit` says so, or on any error) on one pooled client. */
  async function transaction<T>(fn: (client: PoolClient) => Promise<T>, commit: (result: T) => boolean): Promise<T> {
    let client: PoolClient
    try {
      client = await pool.connect()
    } catch (err) {
      throw unavailable(err, url) ?? err
    }
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const result = await fn(client)
      await client.query(commit(result) ? 'COMMIT' : 'ROLLBACK')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e // the connection is unusable: let the pool discard it
      })
      throw unavailable(err, url) ?? err
    } finally {
      client.release(broken)
    }
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

  async function runStep(client: PoolClient, step: WriteStep, id: string, now: string): Promise<WriteStepResult> {
    switch (step.op) {
      case 'upsert':
        return tryUpsert(client, step.write, id, now)
      case 'account': {
        const [row] = await q(SQL.byId, [step.id], client)
        return row ? toAccount(row) : null
      }
      case 'taken':
        return new Set((await q(SQL.taken, [step.keys, step.except_external_id], client)).map((r) => r.username_key as string))
      case 'changeHolder': {
        const c = step.change
        if (c.field === 'email') {
          // Clears the key: cannot hit a unique index, so no savepoint.
          return changed(SQL.changeHolderEmail, [c.desired_email ?? null, now, c.id, c.expected_key], client)
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

  /**
   * Writes a batch inside an open transaction, filling `results` in input order. Records are
   * cut into segments that one multi-row statement can carry (distinct external_ids, one
   * password mode, at most CHUNK rows), then each segment is written by {@link writeSegment}.
   */
  async function writeBatch(
    client: PoolClient,
    writes: AccountWrite[],
    now: string,
    resolver: ConflictResolver | undefined,
  ): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = new Array(writes.length)
    // Proposed ids in input order, so creation order (the listing order) is input order.
    const ids = writes.map(() => newId())
    let start = 0
    let seen = new Set<string>()
    let mode: 'keep' | 'set' | null = null
    for (let i = 0; i <= writes.length; i++) {
      const w = writes[i]
      const wants = w === undefined ? null : w.password_hash === undefined ? 'keep' : w.password_hash === null ? 'set' : null
      const cut = w === undefined || i - start === CHUNK || seen.has(w.external_id) || (wants !== null && mode !== null && wants !== mode)
      if (cut && i > start) {
        await writeSegment(client, writes, ids, results, start, i, mode ?? 'keep', now, resolver)
        start = i
        seen = new Set()
        mode = null
      }
      if (w === undefined) break
      seen.add(w.external_id)
      mode ??= wants
    }
    return results
  }

  /**
   * Writes writes[lo, hi) (one segment) with as few statements as it can. A multi-row attempt
   * runs under a savepoint; when it hits a unique violation it is rolled back. The first time,
   * the segment's clashes are predicted (see `predict`) and the rest is written in runs cut
   * around them, each predicted clash alone, so it gets its own error. Should the database still
   * disagree (a concurrent writer), the error's constraint names the clashing column, and the
   * holders of the window's keys on it point at the first record that may be the culprit
   * (see {@link culprit}): the records before it cannot clash there, so they go as one
   * statement, the suspect goes alone. Windows shrink on failure and grow back on success, so
   * dense surprises degrade to row-at-a-time, never worse.
   *
   * With a resolver, a record that clashes when written alone goes through the conflict rules
   * under its own savepoint (see `resolveRecord`); records without a clash never do.
   */
  async function writeSegment(
    client: PoolClient,
    writes: AccountWrite[],
    ids: string[],
    results: BatchItemResult[],
    lo: number,
    hi: number,
    mode: 'keep' | 'set',
    now: string,
    resolver: ConflictResolver | undefined,
  ): Promise<void> {
    /** The record alone, under a savepoint: a clash rolls back just this record. */
    const one = async (i: number) => {
      const w = writes[i]!
      const outcome = await tryUpsert(client, w, ids[i]!, now)
      if (!(outcome instanceof AccountConflict)) {
        results[i] = { ok: true, created: outcome.created, external_id: w.external_id, resolutions: [] }
      } else {
        results[i] = resolver ? await resolveRecord(i, outcome) : { ok: false, error: outcome }
      }
    }
    /**
     * The conflict rules for record i, which just clashed, under a savepoint of its own: a record
     * that ends refused leaves no holder change and no audit entry behind. A deadlock the server
     * broke by aborting one of our statements undoes just this record, which starts again.
     */
    const resolveRecord = async (i: number, conflict: AccountConflict): Promise<BatchItemResult> => {
      const w = writes[i]!
      for (let attempt = 1; ; attempt++) {
        await client.query('SAVEPOINT record')
        try {
          const { created, resolutions } = await resolveWrite(client, w, resolver, ids[i]!, now, attempt === 1 ? conflict : undefined)
          await client.query('RELEASE SAVEPOINT record')
          return { ok: true, created, external_id: w.external_id, resolutions }
        } catch (err) {
          const refused = err instanceof AccountConflict
          if (!refused && !(isDbError(err, DEADLOCK_DETECTED) && attempt < DEADLOCK_TRIES)) throw err
          await client.query('ROLLBACK TO SAVEPOINT record; RELEASE SAVEPOINT record')
          if (refused) return { ok: false, error: err }
        }
      }
    }
    /** @returns null when all rows were written, else the unique violation (rolled back). */
    const many = async (from: number, to: number): Promise<DatabaseError | null> => {
      const values: string[] = [arrayLiteral(ids, from, to, (id) => id)]
      for (const c of cols) {
        values.push(
          c === 'profile'
            ? arrayLiteral(writes, from, to, (w) => JSON.stringify(w.profile ?? {}))
            : arrayLiteral(writes, from, to, (w) => w[c]),
        )
      }
      values.push(arrayLiteral(writes, from, to, (w) => w.password_hash), now)
      await client.query('SAVEPOINT many')
      let rows: Row[]
      try {
        rows = (await client.query({ ...MANY[mode], values })).rows
      } catch (err) {
        if (!isDbError(err, UNIQUE_VIOLATION) && !isDbError(err, CARDINALITY_VIOLATION)) throw err
        await client.query('ROLLBACK TO SAVEPOINT many; RELEASE SAVEPOINT many')
        return err
      }
      await client.query('RELEASE SAVEPOINT many')
      const written = new Set(rows.map((r) => r.id as string))
      for (let i = from; i < to; i++) {
        results[i] = { ok: true, created: written.has(ids[i]!), external_id: writes[i]!.external_id, resolutions: [] }
      }
      return null
    }

    /** The first record of [from, to) that may have raised `err` (see {@link culprit}). */
    const suspectOf = async (err: DatabaseError, from: number, to: number): Promise<number | null> => {
      const column = uniqueColumnOf(err)
      if (column !== 'username_key' && column !== 'email_key') return null
      const keys = writes.slice(from, to).flatMap((w) => (w[column] === null ? [] : [w[column]]))
      const rows = await q(column === 'username_key' ? SQL.holdersUsername : SQL.holdersEmail, [keys], client)
      return culprit(column, new Map(rows.map((r) => [r.key as string, r.external_id as string])), writes, from, to)
    }

    /**
     * Which records of [from, to) would clash if written one by one from the current state:
     * reads the accounts those records touch (by external_id, username_key, email_key) and
     * replays the records over them in memory.
     */
    const predict = async (from: number, to: number): Promise<Set<number>> => {
      const slice = writes.slice(from, to)
      const rows = await q(SQL.touched, [
        slice.map((w) => w.external_id),
        slice.flatMap((w) => (w.username_key === null ? [] : [w.username_key])),
        slice.flatMap((w) => (w.email_key === null ? [] : [w.email_key])),
      ], client)
      const byUsername = new Map<string, string>()
      const byEmail = new Map<string, string>()
      const keysOf = new Map<string, { u: string | null; e: string | null }>()
      for (const r of rows) {
        if (r.username_key !== null) byUsername.set(r.username_key, r.external_id)
        if (r.email_key !== null) byEmail.set(r.email_key, r.external_id)
        keysOf.set(r.external_id, { u: r.username_key, e: r.email_key })
      }
      const clashes = new Set<number>()
      for (let i = from; i < to; i++) {
        const { external_id: ext, username_key: u, email_key: e } = writes[i]!
        const uHolder = u === null ? undefined : byUsername.get(u)
        const eHolder = e === null ? undefined : byEmail.get(e)
        if ((uHolder !== undefined && uHolder !== ext) || (eHolder !== undefined && eHolder !== ext)) {
          clashes.add(i)
          continue
        }
        const old = keysOf.get(ext)
        if (old?.u != null && byUsername.get(old.u) === ext) byUsername.delete(old.u)
        if (old?.e != null && byEmail.get(old.e) === ext) byEmail.delete(old.e)
        if (u !== null) byUsername.set(u, ext)
        if (e !== null) byEmail.set(e, ext)
        keysOf.set(ext, { u, e })
      }
      return clashes
    }

    // Predicted clashes, computed on the segment's first failure (a clean import never pays
    // for it). A prediction only decides where statements are cut: the database still checks
    // every row, and a wrong guess (another writer got in between) falls back to the hints.
    let clashes: Set<number> | null = null
    let size = CHUNK
    while (lo < hi) {
      let end = Math.min(hi, lo + size)
      if (clashes) {
        if (clashes.has(lo)) {
          await one(lo++)
          continue
        }
        for (let i = lo + 1; i < end; i++) {
          if (clashes.has(i)) {
            end = i
            break
          }
        }
      }
      if (end - lo === 1) {
        await one(lo++)
        continue
      }
      const err = await many(lo, end)
      if (err === null) {
        lo = end
        size = Math.min(CHUNK, size * 2)
        continue
      }
      if (clashes === null) {
        clashes = await predict(lo, hi)
        continue
      }
      size = Math.max(1, size >> 1)
      const suspect = await suspectOf(err, lo, end)
      if (suspect === null) continue // no usable hint: just retry a smaller window
      if (suspect - lo === 1) await one(lo)
      else if (suspect - lo > 1 && (await many(lo, suspect)) !== null) continue // raced by another writer
      await one(suspect)
      lo = suspect + 1
    }
  }

  // Every instance hears every integration change as it commits (changes.ts).
  const integrationChanges = createPostgresChangeFeed(url)

  return {
    kind: 'postgres',
    ...createPostgresKv(run),
    integrationChanges,

    async upsertAccount(write, options = {}) {
      const { resolver } = options
      const id = newId()
      const now = new Date().toISOString()
      try {
        // The common case needs no transaction: one statement, decided by the unique indexes.
        return await upsertRow(write, id, now)
      } catch (err) {
        // A deadlock victim (see WRITER_LOCK) starts again below, serialised with the others.
        if (!isDbError(err, DEADLOCK_DETECTED)) {
          const mapped = await mapError(err, write)
          if (!(mapped instanceof AccountConflict) || !resolver) throw mapped
        }
      }
      // A conflict to resolve: the holder's change, the write and the audit entry commit together,
      // or not at all. The conflict seen above may be stale by the time the lock is ours, so the
      // loop starts with a fresh upsert.
      for (let attempt = 1; ; attempt++) {
        try {
          return await transaction(
            async (client) => {
              await client.query({ ...SQL.writerLock, values: [WRITER_LOCK] })
              return resolveWrite(client, write, resolver, id, now)
            },
            () => true,
          )
        } catch (err) {
          if (!isDbError(err, DEADLOCK_DETECTED) || attempt >= DEADLOCK_TRIES) throw err
        }
      }
    },

    async upsertAccounts(writes, { atomic, resolver }) {
      if (writes.length === 0) return []
      const now = new Date().toISOString()
      return transaction(
        async (client) => {
          await client.query({ ...SQL.writerLock, values: [WRITER_LOCK] })
          return writeBatch(client, writes, now, resolver)
        },
        (results) => !atomic || results.every((r) => r.ok),
      )
    },

    async getAccountByExternalId(externalId) {
      const [row] = await q(SQL.byExternalId, [externalId])
      return row ? toAccount(row) : null
    },

    async getAccountById(id) {
      const [row] = await q(SQL.byId, [id])
      return row ? toAccount(row) : null
    },

    async findCredentials({ username_key, email_key }): Promise<Credentials | null> {
      const rows =
        username_key !== undefined ? await q(SQL.credsByUsername, [username_key]) : email_key !== undefined ? await q(SQL.credsByEmail, [email_key]) : []
      const row = rows[0]
      return row ? { account: toAccount(row), password_hash: (row.hash as string | null) ?? null } : null
    },

    async replacePasswordHash(id, expected, next) {
      return changed(SQL.replaceHash, [next, new Date().toISOString(), id, expected])
    },

    async deleteAccount(externalId) {
      return changed(SQL.del, [externalId])
    },

    async listAccounts({ after, limit }): Promise<Page<Account>> {
      const from = after ? decodeCursor(after) : ''
      if (from === null) return { items: [], next: null }
      const rows = await q(SQL.page, [from, limit + 1])
      const items = rows.slice(0, limit).map(toAccount)
      return { items, next: rows.length > limit ? encodeCursor(items.at(-1)!.id) : null }
    },

    async countAccounts() {
      const [row] = await q(SQL.count)
      return Number(row!.n)
    },

    async listAudit(query): Promise<Page<AuditEntry>> {
      const from = query.after ? decodeCursor(query.after) : ''
      if (from === null) return { items: [], next: null }
      const values: unknown[] = [from]
      const where = ['id > $1']
      /** Adds a condition on the next parameter, `$n` standing for it. */
      const filter = (condition: string, value: unknown) => {
        values.push(value)
        where.push(condition.replaceAll('$n', `$${values.length}`))
      }
      if (query.external_id !== undefined) filter('(account_external_id = $n OR holder_external_id = $n)', query.external_id)
      for (const key of ['field', 'policy', 'actor'] as const) {
        if (query[key] !== undefined) filter(`${key} = $n`, query[key])
      }
      if (query.since !== undefined) filter('at >= $n::timestamptz', query.since)
      if (query.until !== undefined) filter('at <= $n::timestamptz', query.until)
      values.push(query.limit + 1)
      const rows = await q({ text: `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${values.length}` }, values)
      const items = rows.slice(0, query.limit).map((r) => ({ ...r, at: (r.at as Date).toISOString() }) as AuditEntry)
      return { items, next: rows.length > query.limit ? encodeCursor(items.at(-1)!.id) : null }
    },

    async putIntegration(write: IntegrationWrite) {
      const [row] = await q(SQL.putIntegration, [
        write.id,
        write.type,
        JSON.stringify(write.settings),
        JSON.stringify(write.secrets),
        write.mapping === null ? null : JSON.stringify(write.mapping),
        new Date().toISOString(),
      ])
      return { record: toIntegration(row!), created: row!.created === true }
    },

    async getIntegration(id) {
      const [row] = await q(SQL.getIntegration, [id])
      return row ? toIntegration(row) : null
    },

    async listIntegrations() {
      return (await q(SQL.listIntegrations)).map(toIntegration)
    },

    async deleteIntegration(id) {
      return changed(SQL.delIntegration, [id])
    },

    async ping() {
      try {
        await pool.query('SELECT 1')
      } catch (cause) {
        throw new StoreUnavailable(`PostgreSQL database at ${where} is not reachable: ${reasonOf(cause, url)}`, { cause })
      }
    },

    async close() {
      await integrationChanges.close()
      if (!pool.ended) await pool.end()
    },
  }
}

/**
 * Applies pending migrations, each in its own transaction. Every transaction first takes an
 * advisory lock, so processes starting together wait for each other, then re-reads what is
 * applied: the loser of the race finds the work done.
 */
async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    const exists = (await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS e")).rows[0]!.e as boolean
    const applied = new Set<number>(
      exists ? (await client.query('SELECT version FROM schema_migrations')).rows.map((r) => r.version as number) : [],
    )
    for (const m of listMigrations('postgres')) {
      if (applied.has(m.version)) continue
      await client.query('BEGIN')
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)',
        )
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version])
        if (done.rowCount === 0) {
          await client.query(m.sql)
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            new Date().toISOString(),
          ])
        }
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e
        })
        throw err
      }
    }
  } finally {
    client.release(broken)
  }
}

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) of `pick(items[i])` for i in [from, to), sent as
 * one text parameter and cast in SQL (`$1::text[]`, `::boolean[]`). Same text as `pg` would
 * make of a JS array, without its per-element regex work on this hot path.
 */
function arrayLiteral<T>(items: readonly T[], from: number, to: number, pick: (item: T) => string | boolean | null | undefined): string {
  let out = '{'
  for (let i = from; i < to; i++) {
    if (i > from) out += ','
    const v = pick(items[i]!)
    if (v === null || v === undefined) out += 'NULL'
    else if (typeof v === 'boolean') out += v ? 't' : 'f'
    else out += v.includes('"') || v.includes('\\') ? `"${v.replace(/["\\]/g, '\\$&')}"` : `"${v}"`
  }
  return out + '}'
}

/**
 * A hint for which record of writes[lo, hi) raised the unique violation `err`: the first one
 * whose key on the violated column (named by the constraint, constraints.ts) another account
 * holds, either in the database as this statement sees it (`held`: key → external_id) or as an
 * earlier record of the window sets it. No record before it can have clashed on that column;
 * it may itself be clean (an earlier record of the window may free the key), which only costs
 * the caller one single-row statement. Null when the violation is not on a username or email key.
 */
export function culprit(
  column: AccountKeyColumn | null,
  held: ReadonlyMap<string, string>,
  writes: readonly AccountWrite[],
  lo: number,
  hi: number,
): number | null {
  if (column !== 'username_key' && column !== 'email_key') return null
  const setBy = new Map<string, string>()
  for (let i = lo; i < hi; i++) {
    const { external_id: ext, [column]: key } = writes[i]!
    if (key === null) continue
    const holder = setBy.get(key) ?? held.get(key)
    if (holder !== undefined && holder !== ext) return i
    setBy.set(key, ext)
  }
  return null
}

/**
 * The steps of a write without conflict rules, for a deadlock victim starting again when the
 * caller gave no resolver: one upsert, whose conflict is refused.
 */
function* refuseConflicts(write: AccountWrite): Generator<WriteStep, AccountWriteResult, WriteStepResult> {
  const result = yield { op: 'upsert', write }
  if (result instanceof AccountConflict) throw result
  return result as AccountWriteResult
}

function isDbError(err: unknown, code: string): err is DatabaseError {
  return err instanceof pg.DatabaseError && err.code === code
}

/** Connection-level failures (refused, reset, server shutting down) → StoreUnavailable. */
function unavailable(err: unknown, url: string): StoreUnavailable | null {
  if (err instanceof BridgeError) return null
  const code = (err as { code?: unknown } | null)?.code
  const lost =
    err instanceof pg.DatabaseError
      ? typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')
      : typeof code === 'string'
        ? /^E[A-Z]+$/.test(code) // Node system errors: ECONNREFUSED, ECONNRESET, ETIMEDOUT, …
        : err instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(err.message)
  return lost ? new StoreUnavailable(`PostgreSQL database is not reachable: ${reasonOf(err, url)}`, { cause: err }) : null
}

/** `postgres://user@host:port/db`: enough to say which database, never the password. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url)
    const host = u.host || u.searchParams.get('host') || 'localhost'
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${host}${u.pathname}`
  } catch {
    return '(unparseable connection URL)'
  }
}

/** A one-line reason for an error, with the URL's password (if any) scrubbed out. */
function reasonOf(err: unknown, url: string): string {
  const e = err as { message?: string; code?: string; errors?: { message?: string }[] } | null
  let reason = e?.message || e?.errors?.map((x) => x.message).join('; ') || e?.code || String(err)
  let password = ''
  try {
    password = decodeURIComponent(new URL(url).password)
  } catch {
    // not a URL: nothing we can name to scrub
  }
  if (password) reason = reason.split(password).join('***')
  return reason.split(url).join(describeUrl(url))
}

function toAccount(row: Row): Account {
  return {
    id: row.id,
    external_id: row.external_id,
    username: row.username,
    email: row.email,
    email_verified: row.email_verified,
    nickname: row.nickname,
    given_name: row.given_name,
    family_name: row.family_name,
    picture: row.picture,
    rank: row.rank,
    title: row.title,
    locale: row.locale,
    timezone: row.timezone,
    profile: row.profile,
    status: row.status,
    desired_username: row.desired_username,
    desired_email: row.desired_email,
    stale: row.desired_username !== null || row.desired_email !== null,
    has_password: row.has_password,
    created_at: (row.created_at as Date).toISOString(),
    updated_at: (row.updated_at as Date).toISOString(),
  }
}

function toIntegration(row: Row): IntegrationRecord {
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
