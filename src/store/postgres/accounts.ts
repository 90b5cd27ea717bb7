/**
 * @module store/postgres/accounts
 * The account and audit half of the PostgreSQL store: reads, single writes (one statement, or
 * under WRITER_LOCK when a conflict must be resolved, see account-writes.ts) and batches
 * (batch-writer.ts).
 */
import { AccountConflict } from '../../errors/index.ts'
import type { Account } from '../account.ts'
import { decodeCursor, encodeCursor, newId } from '../ids.ts'
import { searchCondition } from '../account-search.ts'
import type { AuditEntry, Credentials, Page, Store } from '../ports.ts'
import { createAccountWrites, DEADLOCK_TRIES, takeWriterLock } from './account-writes.ts'
import { writeBatch } from './batch-writer.ts'
import { type Db, DEADLOCK_DETECTED, isDbError } from './db.ts'
import { ACCOUNT_BY_ID, READ, toAccount } from './rows.ts'

/** Named statements: each pooled connection prepares them once and reuses the plan. */
const SQL = {
  byExternalId: {
    name: 'sso_account_by_external_id',
    text: `SELECT ${READ} FROM accounts WHERE external_id = $1`,
  },
  credsByUsername: {
    name: 'sso_creds_by_username',
    text: `SELECT ${READ}, password_hash AS hash FROM accounts WHERE username_key = $1`,
  },
  credsByEmail: {
    name: 'sso_creds_by_email',
    text: `SELECT ${READ}, password_hash AS hash FROM accounts WHERE email_key = $1`,
  },
  replaceHash: {
    name: 'sso_replace_hash',
    text: 'UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4',
  },
  del: { name: 'sso_account_delete', text: 'DELETE FROM accounts WHERE external_id = $1' },
  page: {
    name: 'sso_account_page',
    text: `SELECT ${READ} FROM accounts WHERE id > $1 ORDER BY id LIMIT $2`,
  },
  count: { name: 'sso_account_count', text: 'SELECT count(*) AS n FROM accounts' },
} as const

type AccountMethods = Pick<
  Store,
  | 'upsertAccount'
  | 'upsertAccounts'
  | 'getAccountByExternalId'
  | 'getAccountById'
  | 'findCredentials'
  | 'replacePasswordHash'
  | 'deleteAccount'
  | 'listAccounts'
  | 'countAccounts'
  | 'searchAccounts'
  | 'listAudit'
>

/** The account methods of the PostgreSQL store (internal to store/postgres: use `createStore`). */
export function createPostgresAccounts(db: Db): AccountMethods {
  const { q, changed, transaction } = db
  const writer = createAccountWrites(db)
  return {
    async upsertAccount(write, options = {}) {
      const { resolver } = options
      const id = newId()
      const now = new Date().toISOString()
      try {
        // The common case needs no transaction: one statement, decided by the unique indexes.
        return await writer.upsertRow(write, id, now)
      } catch (err) {
        // A deadlock victim (see WRITER_LOCK) starts again below, serialised with the others.
        if (!isDbError(err, DEADLOCK_DETECTED)) {
          const mapped = await writer.mapError(err, write)
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
              await takeWriterLock(client)
              return writer.resolveWrite(client, write, resolver, id, now)
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
          await takeWriterLock(client)
          return writeBatch(db, writer, { client, writes, now, resolver })
        },
        (results) => !atomic || results.every((r) => r.ok),
      )
    },

    async getAccountByExternalId(externalId) {
      const [row] = await q(SQL.byExternalId, [externalId])
      return row ? toAccount(row) : null
    },

    async getAccountById(id) {
      const [row] = await q(ACCOUNT_BY_ID, [id])
      return row ? toAccount(row) : null
    },

    async findCredentials({ username_key, email_key }): Promise<Credentials | null> {
      const rows =
        username_key !== undefined
          ? await q(SQL.credsByUsername, [username_key])
          : email_key !== undefined
            ? await q(SQL.credsByEmail, [email_key])
            : []
      const row = rows[0]
      return row
        ? { account: toAccount(row), password_hash: (row.hash as string | null) ?? null }
        : null
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

    async searchAccounts(search) {
      const { where, params } = searchCondition(search, (n) => `$${n}`)
      const rows = await q(
        {
          text: `SELECT ${READ}, ${search.field} AS search_key FROM accounts WHERE ${where} ORDER BY ${search.field} LIMIT $${params.length + 1}`,
        },
        [...params, search.limit + 1],
      )
      const items = rows.slice(0, search.limit).map(toAccount)
      const last = rows[search.limit - 1]
      return { items, next: rows.length > search.limit && last ? String(last.search_key) : null }
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
      if (query.external_id !== undefined)
        filter('(account_external_id = $n OR holder_external_id = $n)', query.external_id)
      for (const key of ['field', 'policy', 'actor'] as const) {
        if (query[key] !== undefined) filter(`${key} = $n`, query[key])
      }
      if (query.since !== undefined) filter('at >= $n::timestamptz', query.since)
      if (query.until !== undefined) filter('at <= $n::timestamptz', query.until)
      values.push(query.limit + 1)
      const rows = await q(
        {
          text: `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${values.length}`,
        },
        values,
      )
      const items = rows
        .slice(0, query.limit)
        .map((r) => ({ ...r, at: (r.at as Date).toISOString() }) as AuditEntry)
      return { items, next: rows.length > query.limit ? encodeCursor(items.at(-1)!.id) : null }
    },
  }
}
