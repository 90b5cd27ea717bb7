/**
 * @module store/sqlite/store
 * The embedded store: one SQLite file through node:sqlite (synchronous, in-process). WAL mode
 * lets the CLI work on the same file while the server runs; `busy_timeout` makes the two wait
 * for each other instead of failing.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { DatabaseSync, type SQLInputValue } from 'node:sqlite'
import {
  AccountConflict,
  AccountDisabled,
  BridgeError,
  SchemaTooNew,
  StoreUnavailable,
} from '../../errors/index.ts'
import type { Account } from '../account.ts'
import { ACCOUNT_READ_COLUMNS, ACCOUNT_WRITE_COLUMNS, accountUpdateSet } from '../columns.ts'
import {
  ACCOUNT_FIELD_NAMES,
  columnKind,
  fieldSpec,
  type AccountData,
  type ColumnKind,
} from '../account-fields.ts'
import { decodeCursor, encodeCursor, newId } from '../ids.ts'
import { searchCondition } from '../account-search.ts'
import { assertSchemaNotNewer } from '../migrations/index.ts'
import { startCheckpointer, type Checkpointer } from './checkpointer.ts'
import { createGroupCommit, flushAllBatches } from './group-commit.ts'
import { createSqliteAuditTrail } from './audit-trail.ts'
import { createSqliteEvents } from './events.ts'
import { createSqliteKv } from './kv.ts'
import { migrate, schemaVersion } from './migrate.ts'
import { createSqliteOperators } from './operators.ts'
import { createWriter } from './writer.ts'
import type {
  AuditEntry,
  ChangeStamp,
  AccountWrite,
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

type Row = Record<string, SQLInputValue>

/**
 * An `integrations` row as SQLite returns it (migrations/sqlite): settings, secrets and mapping
 * are JSON text the store does not look into; their shapes belong to integrations/.
 */
type IntegrationRow = {
  id: string
  type: string
  settings: string
  secrets: string
  mapping: string | null
  created_at: string
  updated_at: string
}

const SQLITE_CONSTRAINT_UNIQUE = 2067
const READ = ACCOUNT_READ_COLUMNS.join(', ')

/**
 * The SQLite store in `file` (`:memory:` for a throwaway one): opens it in WAL mode, applies
 * pending migrations and starts the checkpointer. Only store/index.ts calls it, which adds the
 * server lock when a server opens it.
 * @throws {StoreUnavailable} the file cannot be opened or migrated
 * @throws {SchemaTooNew} a newer sso-bridge migrated the file
 */
export function createSqliteStore(file: string): Store {
  let db: DatabaseSync
  let checkpointer: Checkpointer | undefined
  // A KV batch of another store in this thread may hold this file's write lock (group-commit.ts).
  flushAllBatches()
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true })
    db = new DatabaseSync(file)
    // busy_timeout first: switching to WAL needs a lock that another process opening the same
    // file (the CLI beside the server, a second worker) may hold for a moment.
    db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;')
    migrate(db)
  } catch (cause) {
    // A newer build's database is not unavailable: retrying will not help, and the operator
    // must read which versions differ.
    if (cause instanceof SchemaTooNew) {
      db!.close()
      throw cause
    }
    throw new StoreUnavailable(`cannot open SQLite database at ${file}`, { cause })
  }
  // WAL checkpoints (two fsyncs each) on a worker thread, not inside a request's commit.
  if (file !== ':memory:') checkpointer = startCheckpointer(db, file)

  // Every write outside the KV group commit goes through `writer` (writer.ts), which commits any
  // open KV batch first; `db.prepare` is for reads only (test/store/sqlite.test.ts holds this).
  const writer = createWriter(db)
  const cols = ACCOUNT_WRITE_COLUMNS
  const upsert = writer.prepare(`
    INSERT INTO accounts (id, ${cols.join(', ')}, password_hash, created_at, updated_at)
    VALUES (:id, ${cols.map((c) => `:${c}`).join(', ')}, :password_hash, :now, :now)
    ON CONFLICT (external_id) DO UPDATE SET
      ${accountUpdateSet('excluded', 'IS')},
      password_hash = CASE WHEN :keep_password THEN accounts.password_hash ELSE excluded.password_hash END,
      updated_at = excluded.updated_at
    WHERE NOT :only_if_active OR accounts.status = 'active'
    RETURNING ${READ}, password_hash IS NOT NULL AS has_password`)
  // Batches need only "created or updated": positional parameters and RETURNING id save the
  // named-parameter object and the row mapping, which were most of an import's store time.
  const upsertLean = writer.prepare(`
    INSERT INTO accounts (id, ${cols.join(', ')}, password_hash, created_at, updated_at)
    VALUES (?, ${cols.map(() => '?').join(', ')}, ?, ?, ?)
    ON CONFLICT (external_id) DO UPDATE SET
      ${accountUpdateSet('excluded', 'IS')},
      password_hash = CASE WHEN ? THEN accounts.password_hash ELSE excluded.password_hash END,
      updated_at = excluded.updated_at
    RETURNING id`)
  const byExternalId = db.prepare(
    `SELECT ${READ}, password_hash IS NOT NULL AS has_password FROM accounts WHERE external_id = ?`,
  )
  const byId = db.prepare(
    `SELECT ${READ}, password_hash IS NOT NULL AS has_password FROM accounts WHERE id = ?`,
  )
  const credsByUsername = db.prepare(
    `SELECT ${READ}, password_hash IS NOT NULL AS has_password, password_hash AS hash FROM accounts WHERE username_key = ?`,
  )
  const credsByEmail = db.prepare(
    `SELECT ${READ}, password_hash IS NOT NULL AS has_password, password_hash AS hash FROM accounts WHERE email_key = ?`,
  )
  const holderOf = {
    username: db.prepare('SELECT id FROM accounts WHERE username_key = ?'),
    email: db.prepare('SELECT id FROM accounts WHERE email_key = ?'),
  }
  const replaceHash = writer.prepare(
    'UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?',
  )
  const del = writer.prepare('DELETE FROM accounts WHERE external_id = ?')
  const page = db.prepare(
    `SELECT ${READ}, password_hash IS NOT NULL AS has_password FROM accounts WHERE id > ? ORDER BY id LIMIT ?`,
  )
  const count = db.prepare('SELECT count(*) AS n FROM accounts')
  const putIntegration = writer.prepare(`
    INSERT INTO integrations (id, type, settings, secrets, mapping, created_at, updated_at)
    VALUES (:id, :type, :settings, :secrets, :mapping, :now, :now)
    ON CONFLICT (id) DO UPDATE SET type = excluded.type, settings = excluded.settings,
      secrets = excluded.secrets, mapping = excluded.mapping, updated_at = excluded.updated_at
    RETURNING *, created_at = updated_at AND :now = created_at AS created`)
  const getIntegration = db.prepare('SELECT * FROM integrations WHERE id = ?')
  const listIntegrations = db.prepare('SELECT * FROM integrations ORDER BY id')
  const delIntegration = writer.prepare('DELETE FROM integrations WHERE id = ?')
  const insertConfigAudit = writer.prepare(
    'INSERT INTO config_audit (id, at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)',
  )
  /** The change's `config_audit` entry (inside the change's transaction). */
  const stampChange = (stamp: ChangeStamp, at: string, action: string, id: string) =>
    insertConfigAudit.run(
      newId(),
      at,
      stamp.actor,
      action,
      `integration:${id}`,
      stamp.detail == null ? null : JSON.stringify(stamp.detail),
    )

  const changeHolderUsername = writer.prepare(
    'UPDATE accounts SET username = ?, username_key = ?, desired_username = ?, updated_at = ? WHERE id = ? AND username_key = ?',
  )
  const changeHolderEmail = writer.prepare(
    'UPDATE accounts SET email = NULL, email_key = NULL, desired_email = ?, updated_at = ? WHERE id = ? AND email_key = ?',
  )
  const insertAudit = writer.prepare(`
    INSERT INTO audit_log (id, at, actor, action, policy, field, account_external_id, holder_id, holder_external_id,
      requested_value, assigned_value, holder_old_value, holder_new_value)
    VALUES (?, ?, ?, 'conflict_resolved', ?, ?, ?, ?, ?, ?, ?, ?, ?)`)

  /** Runs one upsert; a unique violation becomes AccountConflict naming the holder. */
  function upsertOne(write: AccountWrite, now: string): AccountWriteResult {
    const id = newId()
    const params: Row = {
      id,
      now,
      password_hash: write.password_hash ?? null,
      keep_password: write.password_hash === undefined ? 1 : 0,
      only_if_active: write.only_if_active === true ? 1 : 0,
    }
    for (const c of cols) params[c] = toSql(c, write[c])
    try {
      const row = upsert.get(params) as Row | undefined
      // No row: the account exists and is not active, and only_if_active kept it as it was.
      if (row === undefined) throw new AccountDisabled()
      return { account: toAccount(row), created: row.id === id, resolutions: [] }
    } catch (err) {
      throw mapError(err, write)
    }
  }

  /** A batch row: like upsertOne, but only says whether it created the account. */
  function upsertLeanOne(write: AccountWrite, now: string): boolean {
    const id = newId()
    const params: SQLInputValue[] = [id]
    for (const c of cols) params.push(toSql(c, write[c]))
    params.push(write.password_hash ?? null, now, now, write.password_hash === undefined ? 1 : 0)
    try {
      return (upsertLean.get(...params) as { id: string }).id === id
    } catch (err) {
      throw mapError(err, write)
    }
  }

  /** One batch record: the lean statement first; the conflict rules only when it conflicts. */
  function batchOne(
    write: AccountWrite,
    resolver: ConflictResolver | undefined,
    now: string,
  ): BatchItemResult {
    try {
      return {
        ok: true,
        created: upsertLeanOne(write, now),
        external_id: write.external_id,
        resolutions: [],
      }
    } catch (err) {
      if (!(err instanceof AccountConflict) || !resolver) throw err
    }
    const { created, resolutions } = savepoint(() => writeResolved(write, resolver, now))
    return { ok: true, created, external_id: write.external_id, resolutions }
  }

  function mapError(err: unknown, write: AccountWrite): unknown {
    if (!isUniqueViolation(err)) return err
    const msg = (err as Error).message
    for (const field of ['username', 'email'] as const) {
      if (msg.includes(`accounts.${field}_key`)) {
        const key = write[`${field}_key`]
        const holder =
          key === null ? undefined : (holderOf[field].get(key) as { id: string } | undefined)
        return new AccountConflict(field, holder?.id, { cause: err })
      }
    }
    return new AccountConflict('external_id', undefined, { cause: err })
  }

  /**
   * Runs the resolver's steps (accounts/conflicts.ts holds the rules) synchronously: nothing
   * else can run on this connection until it is done. The caller provides the transaction or
   * savepoint.
   */
  function writeResolved(
    write: AccountWrite,
    resolver: ConflictResolver,
    now: string,
  ): AccountWriteResult {
    const steps = resolver.resolve(write)
    let next = steps.next()
    while (!next.done) {
      next = steps.next(runStep(next.value, now))
    }
    return next.value
  }

  function runStep(step: WriteStep, now: string): WriteStepResult {
    switch (step.op) {
      case 'upsert':
        try {
          return upsertOne(step.write, now)
        } catch (err) {
          if (err instanceof AccountConflict) return err
          throw err
        }
      case 'account': {
        const row = byId.get(step.id) as Row | undefined
        return row ? toAccount(row) : null
      }
      case 'taken': {
        const placeholders = step.keys.map(() => '?').join(', ')
        const rows = db
          .prepare(
            `SELECT username_key FROM accounts WHERE username_key IN (${placeholders}) AND external_id <> ?`,
          )
          .all(...step.keys, step.except_external_id) as { username_key: string }[]
        return new Set(rows.map((r) => r.username_key))
      }
      case 'changeHolder': {
        const c = step.change
        try {
          const result =
            c.field === 'username'
              ? changeHolderUsername.run(
                  c.username!,
                  c.username_key!,
                  c.desired_username ?? null,
                  now,
                  c.id,
                  c.expected_key,
                )
              : changeHolderEmail.run(c.desired_email ?? null, now, c.id, c.expected_key)
          return Number(result.changes) === 1
        } catch (err) {
          if (isUniqueViolation(err)) return false
          throw err
        }
      }
      case 'audit':
        for (const r of step.records) {
          insertAudit.run(
            newId(),
            now,
            r.actor,
            r.policy,
            r.field,
            r.account_external_id,
            r.holder_id,
            r.holder_external_id,
            r.requested_value,
            r.assigned_value,
            r.holder_old_value,
            r.holder_new_value,
          )
        }
        return undefined
    }
  }

  /** Runs `fn` inside a savepoint: its writes are undone if it throws. */
  function savepoint<T>(fn: () => T): T {
    db.exec('SAVEPOINT record')
    try {
      const result = fn()
      db.exec('RELEASE record')
      return result
    } catch (err) {
      db.exec('ROLLBACK TO record')
      db.exec('RELEASE record')
      throw err
    }
  }

  const transaction = writer.transaction

  // KV writes share a commit per event-loop turn (group-commit.ts); every other write commits any
  // open batch first, through `writer`, so it runs on its own and is durable when it settles.
  const group = createGroupCommit(db)

  return {
    kind: 'sqlite',
    ...createSqliteOperators(db, writer),
    ...createSqliteKv(db, group),
    ...createSqliteEvents(db, group, writer),
    ...createSqliteAuditTrail(db),

    async upsertAccount(write, { resolver } = {}) {
      const now = new Date().toISOString()
      try {
        // The common case needs no transaction: one statement, decided by the unique indexes.
        return upsertOne(write, now)
      } catch (err) {
        if (!(err instanceof AccountConflict) || !resolver) throw err
      }
      // A conflict to resolve: the holder's change, the write and the audit entry commit together.
      return transaction(() => writeResolved(write, resolver, now))
    },

    async upsertAccounts(writes, { atomic, resolver }) {
      const now = new Date().toISOString()
      // SQLite undoes only the failing statement on a constraint error (ON CONFLICT ABORT),
      // so one transaction serves both modes: non-atomic keeps the good rows, atomic drops all.
      return transaction(
        () =>
          writes.map((w): BatchItemResult => {
            try {
              return batchOne(w, resolver, now)
            } catch (error) {
              if (error instanceof BridgeError) return { ok: false, error }
              throw error
            }
          }),
        (results) => !atomic || results.every((r) => r.ok),
      )
    },

    async getAccountByExternalId(externalId) {
      const row = byExternalId.get(externalId) as Row | undefined
      return row ? toAccount(row) : null
    },

    async getAccountById(id) {
      const row = byId.get(id) as Row | undefined
      return row ? toAccount(row) : null
    },

    async findCredentials({ username_key, email_key }): Promise<Credentials | null> {
      const row = (
        username_key !== undefined
          ? credsByUsername.get(username_key)
          : email_key !== undefined
            ? credsByEmail.get(email_key)
            : undefined
      ) as Row | undefined
      return row
        ? { account: toAccount(row), password_hash: (row.hash as string | null) ?? null }
        : null
    },

    async replacePasswordHash(id, expected, next) {
      return Number(replaceHash.run(next, new Date().toISOString(), id, expected).changes) === 1
    },

    async deleteAccount(externalId) {
      return Number(del.run(externalId).changes) === 1
    },

    async listAccounts({ after, limit }): Promise<Page<Account>> {
      const from = after ? decodeCursor(after) : ''
      if (from === null) return { items: [], next: null }
      const rows = page.all(from, limit + 1) as Row[]
      const items = rows.slice(0, limit).map(toAccount)
      return { items, next: rows.length > limit ? encodeCursor(items.at(-1)!.id) : null }
    },

    async listAudit(query) {
      const where: string[] = []
      const params: SQLInputValue[] = []
      const from = query.after ? decodeCursor(query.after) : ''
      if (from === null) return { items: [], next: null }
      where.push('id > ?')
      params.push(from)
      if (query.external_id !== undefined) {
        where.push('(account_external_id = ? OR holder_external_id = ?)')
        params.push(query.external_id, query.external_id)
      }
      for (const key of ['field', 'policy', 'actor'] as const) {
        if (query[key] !== undefined) {
          where.push(`${key} = ?`)
          params.push(query[key]!)
        }
      }
      if (query.since !== undefined) {
        where.push('at >= ?')
        params.push(query.since)
      }
      if (query.until !== undefined) {
        where.push('at <= ?')
        params.push(query.until)
      }
      params.push(query.limit + 1)
      const rows = db
        .prepare(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`)
        .all(...params) as Row[]
      const items = rows.slice(0, query.limit).map((r) => ({ ...r }) as unknown as AuditEntry)
      return { items, next: rows.length > query.limit ? encodeCursor(items.at(-1)!.id) : null }
    },

    async countAccounts() {
      return Number((count.get() as { n: number }).n)
    },

    async searchAccounts(search) {
      const { where, params } = searchCondition(search, () => '?')
      const rows = db
        .prepare(
          `SELECT ${READ}, password_hash IS NOT NULL AS has_password, ${search.field} AS search_key FROM accounts WHERE ${where} ORDER BY ${search.field} LIMIT ?`,
        )
        .all(...params, search.limit + 1) as Row[]
      const items = rows.slice(0, search.limit).map(toAccount)
      const last = rows[search.limit - 1]
      return { items, next: rows.length > search.limit && last ? String(last.search_key) : null }
    },

    async putIntegration(write: IntegrationWrite, stamp?: ChangeStamp) {
      const now = new Date().toISOString()
      const put = () => {
        const row = putIntegration.get({
          id: write.id,
          type: write.type,
          settings: JSON.stringify(write.settings),
          secrets: JSON.stringify(write.secrets),
          mapping: write.mapping === null ? null : JSON.stringify(write.mapping),
          now,
        }) as IntegrationRow & { created: number }
        const created = row.created === 1
        if (stamp)
          stampChange(
            stamp,
            now,
            stamp.action ?? (created ? 'integration_created' : 'integration_updated'),
            write.id,
          )
        return { record: toIntegration(row), created }
      }
      return stamp ? transaction(put) : put()
    },

    async getIntegration(id) {
      const row = getIntegration.get(id) as IntegrationRow | undefined
      return row ? toIntegration(row) : null
    },

    async listIntegrations() {
      return (listIntegrations.all() as IntegrationRow[]).map(toIntegration)
    },

    async deleteIntegration(id, stamp?: ChangeStamp) {
      const now = new Date().toISOString()
      const del = () => {
        const gone = Number(delIntegration.run(id).changes) === 1
        if (gone && stamp) stampChange(stamp, now, 'integration_deleted', id)
        return gone
      }
      return stamp ? transaction(del) : del()
    },

    async ping() {
      let version: number
      try {
        version = schemaVersion(db)
      } catch (cause) {
        throw new StoreUnavailable('SQLite database is not readable', { cause })
      }
      assertSchemaNotNewer(version, 'sqlite')
    },

    async close() {
      group.flush()
      await checkpointer?.stop()
      if (db.isOpen) db.close()
    },
  }
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { errcode?: number } | null)?.errcode === SQLITE_CONSTRAINT_UNIQUE
}

/** A write's value as SQLite stores it, by the column's kind in the field table. */
function toSql(column: string, value: unknown): SQLInputValue {
  switch (columnKind(column)) {
    case 'json':
      return JSON.stringify(value ?? {})
    case 'boolean':
      return value === null || value === undefined ? null : value ? 1 : 0
    case 'text':
      return (value ?? null) as SQLInputValue
  }
}

/** A column's value read back, by its kind: SQLite has no boolean or JSON type of its own. */
function fromSql(kind: ColumnKind, value: SQLInputValue): unknown {
  if (value === null) return null
  switch (kind) {
    case 'json':
      return JSON.parse(String(value))
    case 'boolean':
      return value === 1
    case 'text':
      return value
  }
}

/** Each data field with its column kind, looked up once rather than per row. */
const FIELD_COLUMNS = ACCOUNT_FIELD_NAMES.map((name) => [name, fieldSpec(name).column] as const)

function toAccount(row: Row): Account {
  const data: Record<string, unknown> = {}
  for (const [name, kind] of FIELD_COLUMNS) data[name] = fromSql(kind, row[name] ?? null)
  return {
    ...(data as AccountData),
    id: row.id as string,
    external_id: row.external_id as string,
    desired_username: row.desired_username as string | null,
    desired_email: row.desired_email as string | null,
    stale: row.desired_username !== null || row.desired_email !== null,
    has_password: row.has_password === 1,
    created_at: row.created_at as string,
    updated_at: row.updated_at as string,
  }
}

function toIntegration(row: IntegrationRow): IntegrationRecord {
  return {
    id: row.id,
    type: row.type,
    settings: JSON.parse(row.settings),
    secrets: JSON.parse(row.secrets),
    mapping: row.mapping === null ? null : JSON.parse(row.mapping),
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}
