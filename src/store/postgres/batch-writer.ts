/**
 * @module store/postgres/batch-writer
 * A batch of account writes inside one open transaction (which holds WRITER_LOCK), written many
 * rows per statement (`INSERT … SELECT FROM unnest(…)`), falling back to smaller windows and
 * finally one row at a time around a failing record, so the per-record results are exactly
 * those of writing the records one by one, in order. A failed statement aborts the whole
 * transaction in PostgreSQL, so whatever may fail runs under a SAVEPOINT.
 */
import type { DatabaseError, PoolClient } from 'pg'
import { AccountConflict } from '../../errors/index.ts'
import { columnKind } from '../account-fields.ts'
import { ACCOUNT_WRITE_COLUMNS } from '../columns.ts'
import { newId } from '../ids.ts'
import type { AccountWrite, BatchItemResult, ConflictResolver } from '../ports.ts'
import { type AccountWrites, cols, DEADLOCK_TRIES, UPDATE_SET } from './account-writes.ts'
import { type AccountKeyColumn, uniqueColumnOf } from './constraints.ts'
import {
  CARDINALITY_VIOLATION,
  type Db,
  DEADLOCK_DETECTED,
  isDbError,
  type Row,
  UNIQUE_VIOLATION,
} from './db.ts'

type WriteColumn = (typeof ACCOUNT_WRITE_COLUMNS)[number]

/** Rows per multi-row statement in a batch write. */
const CHUNK = 1000

const SQL = {
  touched: {
    name: 'sso_accounts_touched',
    text: `SELECT external_id, username_key, email_key FROM accounts
  WHERE external_id = ANY($1::text[]) OR username_key = ANY($2::text[]) OR email_key = ANY($3::text[])`,
  },
  /** Who holds which of these keys: where a failed multi-row statement may have clashed. */
  holdersUsername: {
    name: 'sso_holders_username',
    text: 'SELECT username_key AS key, external_id FROM accounts WHERE username_key = ANY($1::text[])',
  },
  holdersEmail: {
    name: 'sso_holders_email',
    text: 'SELECT email_key AS key, external_id FROM accounts WHERE email_key = ANY($1::text[])',
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
  // Arrays travel as text literals (see arrayLiteral); the field table says which are boolean
  // and which hold jsonb.
  const arrayType = (c: WriteColumn) => (columnKind(c) === 'boolean' ? 'boolean[]' : 'text[]')
  const source = (c: WriteColumn) => (columnKind(c) === 'json' ? `t.${c}::jsonb` : `t.${c}`)
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

/** What one batch is: the records, in order, and how to write them. */
export interface BatchJob {
  /** In a transaction that holds WRITER_LOCK. */
  client: PoolClient
  writes: readonly AccountWrite[]
  /** The batch's one timestamp (created_at, updated_at, audit). */
  now: string
  /** The conflict rules; without them a clashing record is refused. */
  resolver: ConflictResolver | undefined
}

/** Records [lo, hi) that one multi-row statement can carry, and their password mode (see manyStatement). */
interface Segment {
  lo: number
  hi: number
  mode: 'keep' | 'set'
}

/** Writes `job` and returns the per-record results in input order. */
export function writeBatch(
  db: Db,
  writer: AccountWrites,
  job: BatchJob,
): Promise<BatchItemResult[]> {
  return new BatchWriter(db, writer, job).run()
}

/** One batch's state: the job, the ids it proposes and the results filled so far. */
class BatchWriter {
  readonly client: PoolClient
  readonly writes: readonly AccountWrite[]
  readonly now: string
  readonly resolver: ConflictResolver | undefined
  /** Proposed ids in input order, so creation order (the listing order) is input order. */
  readonly ids: string[]
  /** Per record, in input order; every slot is filled when {@link run} returns. */
  readonly results: BatchItemResult[]
  private readonly q: Db['q']
  private readonly writer: AccountWrites

  constructor(db: Db, writer: AccountWrites, job: BatchJob) {
    this.q = db.q
    this.writer = writer
    this.client = job.client
    this.writes = job.writes
    this.now = job.now
    this.resolver = job.resolver
    this.ids = job.writes.map(() => newId())
    this.results = new Array(job.writes.length)
  }

  /**
   * Writes the batch, filling {@link BatchWriter.results} in input order. Records are cut into
   * segments that one multi-row statement can carry (distinct external_ids, one
   * password mode, at most CHUNK rows), then each segment is written by {@link BatchWriter.writeSegment}.
   */
  async run(): Promise<BatchItemResult[]> {
    const { writes } = this
    let start = 0
    let seen = new Set<string>()
    let mode: 'keep' | 'set' | null = null
    for (let i = 0; i <= writes.length; i++) {
      const w = writes[i]
      const wants =
        w === undefined
          ? null
          : w.password_hash === undefined
            ? 'keep'
            : w.password_hash === null
              ? 'set'
              : null
      const cut =
        w === undefined ||
        i - start === CHUNK ||
        seen.has(w.external_id) ||
        (wants !== null && mode !== null && wants !== mode)
      if (cut && i > start) {
        await this.writeSegment({ lo: start, hi: i, mode: mode ?? 'keep' })
        start = i
        seen = new Set()
        mode = null
      }
      if (w === undefined) break
      seen.add(w.external_id)
      mode ??= wants
    }
    return this.results
  }

  /**
   * Writes writes[lo, hi) (one segment) with as few statements as it can. A multi-row attempt
   * runs under a savepoint; when it hits a unique violation it is rolled back. The first time,
   * the segment's clashes are predicted (see {@link BatchWriter.predict}) and the rest is written in runs cut
   * around them, each predicted clash alone, so it gets its own error. Should the database still
   * disagree (a concurrent writer), the error's constraint names the clashing column, and the
   * holders of the window's keys on it point at the first record that may be the culprit
   * (see {@link culprit}): the records before it cannot clash there, so they go as one
   * statement, the suspect goes alone. Windows shrink on failure and grow back on success, so
   * dense surprises degrade to row-at-a-time, never worse.
   *
   * With a resolver, a record that clashes when written alone goes through the conflict rules
   * under its own savepoint (see {@link BatchWriter.resolveRecord}); records without a clash never do.
   */
  private async writeSegment(segment: Segment): Promise<void> {
    let { lo } = segment
    const { hi, mode } = segment
    // Predicted clashes, computed on the segment's first failure (a clean import never pays
    // for it). A prediction only decides where statements are cut: the database still checks
    // every row, and a wrong guess (another writer got in between) falls back to the hints.
    let clashes: Set<number> | null = null
    let size = CHUNK
    while (lo < hi) {
      let end = Math.min(hi, lo + size)
      if (clashes) {
        if (clashes.has(lo)) {
          await this.one(lo++)
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
        await this.one(lo++)
        continue
      }
      const err = await this.many(lo, end, mode)
      if (err === null) {
        lo = end
        size = Math.min(CHUNK, size * 2)
        continue
      }
      if (clashes === null) {
        clashes = await this.predict(lo, hi)
        continue
      }
      size = Math.max(1, size >> 1)
      const suspect = await this.suspectOf(err, lo, end)
      if (suspect === null) continue // no usable hint: just retry a smaller window
      if (suspect - lo === 1) await this.one(lo)
      else if (suspect - lo > 1 && (await this.many(lo, suspect, mode)) !== null) continue // raced by another writer
      await this.one(suspect)
      lo = suspect + 1
    }
  }

  /** The record alone, under a savepoint: a clash rolls back just this record. */
  private async one(i: number): Promise<void> {
    const { client, writes, ids, results, now, resolver } = this
    const w = writes[i]!
    const outcome = await this.writer.tryUpsert(client, w, ids[i]!, now)
    if (!(outcome instanceof AccountConflict)) {
      results[i] = {
        ok: true,
        created: outcome.created,
        external_id: w.external_id,
        resolutions: [],
      }
    } else {
      results[i] = resolver ? await this.resolveRecord(i, outcome) : { ok: false, error: outcome }
    }
  }

  /**
   * The conflict rules for record i, which just clashed, under a savepoint of its own: a record
   * that ends refused leaves no holder change and no audit entry behind. A deadlock the server
   * broke by aborting one of our statements undoes just this record, which starts again.
   */
  private async resolveRecord(i: number, conflict: AccountConflict): Promise<BatchItemResult> {
    const { client, writes, ids, now, resolver } = this
    const w = writes[i]!
    for (let attempt = 1; ; attempt++) {
      await client.query('SAVEPOINT record')
      try {
        const { created, resolutions } = await this.writer.resolveWrite(
          client,
          w,
          resolver,
          ids[i]!,
          now,
          attempt === 1 ? conflict : undefined,
        )
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
  private async many(
    from: number,
    to: number,
    mode: 'keep' | 'set',
  ): Promise<DatabaseError | null> {
    const { client, writes, ids, results, now } = this
    const values: string[] = [arrayLiteral(ids, from, to, (id) => id)]
    for (const c of cols) {
      const json = columnKind(c) === 'json'
      values.push(
        arrayLiteral(writes, from, to, (w) => {
          const v = w[c]
          // Objects live only in json columns (the type cannot tell which column `c` is).
          return json || (v !== null && typeof v === 'object') ? JSON.stringify(v ?? {}) : v
        }),
      )
    }
    values.push(
      arrayLiteral(writes, from, to, (w) => w.password_hash),
      now,
    )
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
      results[i] = {
        ok: true,
        created: written.has(ids[i]!),
        external_id: writes[i]!.external_id,
        resolutions: [],
      }
    }
    return null
  }

  /** The first record of [from, to) that may have raised `err` (see {@link culprit}). */
  private async suspectOf(err: DatabaseError, from: number, to: number): Promise<number | null> {
    const { client, writes } = this
    const column = uniqueColumnOf(err)
    if (column !== 'username_key' && column !== 'email_key') return null
    const keys = writes.slice(from, to).flatMap((w) => (w[column] === null ? [] : [w[column]]))
    const rows = await this.q(
      column === 'username_key' ? SQL.holdersUsername : SQL.holdersEmail,
      [keys],
      client,
    )
    return culprit(
      column,
      new Map(rows.map((r) => [r.key as string, r.external_id as string])),
      writes,
      from,
      to,
    )
  }

  /**
   * Which records of [from, to) would clash if written one by one from the current state:
   * reads the accounts those records touch (by external_id, username_key, email_key) and
   * replays the records over them in memory.
   */
  private async predict(from: number, to: number): Promise<Set<number>> {
    const { client, writes } = this
    const slice = writes.slice(from, to)
    const rows = await this.q(
      SQL.touched,
      [
        slice.map((w) => w.external_id),
        slice.flatMap((w) => (w.username_key === null ? [] : [w.username_key])),
        slice.flatMap((w) => (w.email_key === null ? [] : [w.email_key])),
      ],
      client,
    )
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
      if (
        (uHolder !== undefined && uHolder !== ext) ||
        (eHolder !== undefined && eHolder !== ext)
      ) {
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
}

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) of `pick(items[i])` for i in [from, to), sent as
 * one text parameter and cast in SQL (`$1::text[]`, `::boolean[]`). Same text as `pg` would
 * make of a JS array, without its per-element regex work on this hot path.
 */
function arrayLiteral<T>(
  items: readonly T[],
  from: number,
  to: number,
  pick: (item: T) => string | boolean | null | undefined,
): string {
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
