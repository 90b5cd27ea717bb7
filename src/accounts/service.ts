/**
 * @module accounts/service
 * Every account write and sign-in check goes through here: validation, normalization of the
 * unique identifiers, password hashing, and translation of store conflicts. Depends only on the
 * store's types, never on a concrete database or on HTTP.
 */
import { randomUUID } from 'node:crypto'
import {
  AccountNotFound,
  BridgeError,
  JsonTooDeep,
  ValidationFailed,
  type FieldIssue,
} from '../errors/index.ts'
import { fromZod, zodIssues } from '../errors/zod.ts'
import { toWireError, type WireError } from '../errors/wire.ts'
import type {
  AccountStore,
  AccountWrite,
  Credentials,
  AccountWriteResult,
  AuditEntry,
  AuditQuery,
  AccountSearchField,
  Page,
} from '../store/ports.ts'
import {
  createConflictResolver,
  type ConflictPolicies,
  type ConflictResolver,
} from './conflicts.ts'
import { accountInputSchema, CONTROL, externalIdSchema, type AccountInput } from './input.ts'
import { jsonValueTooDeep, MAX_JSON_DEPTH } from './json-depth.ts'
import { emailKey, usernameKey } from './normalize.ts'
import { hashPassword, verifyPassword } from './passwords.ts'
import { accountSignInKey, unknownSignInKey } from './sign-in-key.ts'
import type { Account } from './types.ts'
import { withDefaults } from '../store/account-fields.ts'

/**
 * One record of a bulk import, as the parser read it: a value, a field that could not be read
 * (reported as `validation_failed`), or a record refused whole with its own code (a CSV syntax
 * error: `import_format_invalid`; JSON nested too deep: `json_too_deep`).
 */
export type ImportRecord =
  | { line: number; value: unknown }
  | { line: number; error: FieldIssue }
  | { line: number; rejected: BridgeError }

/** One refused import record: its line and the error as the wire shows it. */
export interface RejectedRecord extends WireError {
  line: number
  external_id?: string
}

/** What an import did, record by record. */
export interface ImportReport {
  received: number
  accepted: number
  created: number
  updated: number
  /** Username/email conflicts resolved by the configured rules (each is in the audit log). */
  resolved: number
  rejected: RejectedRecord[]
  atomic: boolean
  /** False when an atomic import was rolled back. */
  committed: boolean
}

/**
 * The outcome of a sign-in. A wrong login and a wrong password are the same
 * `invalid_credentials`, so the answer does not reveal which logins exist.
 */
export type LoginResult =
  | { ok: true; account: Account }
  | { ok: false; reason: 'invalid_credentials' | 'account_disabled' }
  /** The gate refused the attempt: nothing was verified. */
  | { ok: false; reason: 'throttled'; retryAfter: number }

/**
 * Called by {@link AccountService.authenticate} once the login is resolved and before the
 * password is verified, with the attempt's key ({@link SignInSubject.key}); a refusal (seconds
 * to wait) stops the attempt there. The sign-in throttle is wired in this way, so the account
 * service knows no throttle and the attempt is counted before any verification.
 */
export type SignInGate = (key: string) => Promise<{ retryAfter: number } | null>

/** What a login string resolves to. */
export interface SignInSubject {
  /** The throttle key: the account's (by internal id) or, for no account, the normalised login's. */
  key: string
  /** The account's internal id, or null when the login matches none. */
  accountId: string | null
}

/**
 * Records per import transaction. Bigger batches mean fewer commits: SQLite rewrites the unique
 * indexes' pages to the WAL at each one (measured: 1,000-row commits wrote 4× the bytes of
 * 10,000-row ones).
 */
export const IMPORT_BATCH_SIZE = 5000
const MAX_PAGE_SIZE = 500

// Verifying against a real hash of a random password when the login matches no account costs
// the same time as a real check, so response time does not reveal which logins exist.
let dummyHash: Promise<string> | undefined
const timingDecoy = () => (dummyHash ??= hashPassword(randomUUID()))

/** What {@link createAccountService} needs; services.ts wires it. */
export interface AccountServiceDeps {
  store: AccountStore
  /** Conflict rules per field (config CONFLICT_USERNAME / CONFLICT_EMAIL); default reject. */
  conflicts?: ConflictPolicies
  /**
   * Runs after an account is deleted, so what other parts keep for it (bridge sessions, a
   * platform's stored access token) goes with it. Wired in services.ts: this module knows no door.
   */
  onRemoved?: (account: Account) => Promise<void>
  /**
   * Runs after an account is created or replaced one by one (`put`: the admin API, the CLI, a
   * site ticket; not a bulk import), so platforms that keep a copy (Discourse's sync_sso) follow.
   * Wired in services.ts; it must not throw (the write has happened) and should not wait on a
   * platform (services.ts tells them in the background).
   */
  onChanged?: (account: Account) => Promise<void>
}

/** Who is writing, for the audit log. */
export type Actor = 'admin-api' | 'import' | 'cli' | 'site-ticket' | 'login' | (string & {})

/**
 * Accounts: create or replace, read, list, delete, import, the conflict audit, and password
 * sign-in. Input is validated here; the store's unique indexes have the last word on
 * conflicts, and the configured rules resolve them in the same transaction.
 * @throws {ValidationFailed} bad input, each field with its path
 * @throws {AccountConflict} a username or email held by another account, under `reject`
 * @throws {AccountNotFound} reading or deleting an unknown external id
 * @example
 * const accounts = createAccountService({ store, conflicts: { username: 'suffix', email: 'reject' } })
 * const { account, created } = await accounts.put('42', { username: 'ada', email: 'ada@example.org' })
 * const result = await accounts.authenticate('ada', password)
 */
export function createAccountService({
  store,
  conflicts = { username: 'reject', email: 'reject' },
  onRemoved,
  onChanged,
}: AccountServiceDeps) {
  const resolverFor = (actor: Actor): ConflictResolver | undefined =>
    conflicts.username === 'reject' && conflicts.email === 'reject'
      ? undefined
      : createConflictResolver(conflicts, actor)

  /**
   * Validates an input record and normalizes it into a store write.
   * @throws {JsonTooDeep} the record nests deeper than MAX_JSON_DEPTH
   * @throws {ValidationFailed} naming every bad field
   */
  async function prepare(input: unknown): Promise<AccountWrite> {
    // Before zod, whose z.json() recurses: a profile 10,000 levels deep overflowed the stack.
    if (jsonValueTooDeep(input)) throw new JsonTooDeep(MAX_JSON_DEPTH)
    const parsed = accountInputSchema.safeParse(input)
    if (!parsed.success) throw fromZod(parsed.error)
    return toWrite(parsed.data)
  }

  async function toWrite(a: AccountInput): Promise<AccountWrite> {
    const { external_id, password, password_hash, ...given } = a
    // Every data field of the table: the given value, else its default (store/account-fields.ts).
    const fields = withDefaults(given)
    const { username, email } = fields
    return {
      external_id,
      ...fields,
      username_key: username === null ? null : usernameKey(username),
      email_key: email === null ? null : emailKey(email),
      // A write carries the site's real values: anything pending from a conflict is settled.
      desired_username: null,
      desired_email: null,
      password_hash: password !== undefined ? await hashPassword(password) : password_hash,
    }
  }

  function checkExternalId(externalId: string): void {
    const r = externalIdSchema.safeParse(externalId)
    if (!r.success) throw new ValidationFailed(zodIssues(r.error, 'external_id'))
  }

  return {
    /**
     * Creates or replaces the account `externalId` (PUT semantics: absent fields take their
     * defaults; the password is kept unless `password` or `password_hash` is given).
     * @throws {ValidationFailed} bad fields, or a body `external_id` that differs from the path
     * @throws {AccountConflict} username or email held by another account
     * @throws {AccountDisabled} with `onlyIfActive`, the stored account is not active (then
     *   nothing changed: see AccountWrite.only_if_active)
     */
    async put(
      externalId: string,
      body: unknown,
      actor: Actor = 'admin-api',
      options: { onlyIfActive?: boolean } = {},
    ): Promise<AccountWriteResult> {
      checkExternalId(externalId)
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new ValidationFailed([{ path: '', message: 'must be a JSON object' }])
      }
      const given = (body as { external_id?: unknown }).external_id
      if (given !== undefined && given !== externalId) {
        throw new ValidationFailed([
          { path: 'external_id', message: 'must match the external_id in the URL' },
        ])
      }
      const write = await prepare({ ...body, external_id: externalId })
      if (options.onlyIfActive) write.only_if_active = true
      const result = await store.upsertAccount(write, { resolver: resolverFor(actor) })
      await onChanged?.(result.account)
      return result
    },

    /** @throws {AccountNotFound} */
    async get(externalId: string): Promise<Account> {
      const account = await store.getAccountByExternalId(externalId)
      if (!account) throw new AccountNotFound(externalId)
      return account
    },

    /** By internal id (sessions hold it); null when the account is gone. */
    async getById(id: string): Promise<Account | null> {
      return store.getAccountById(id)
    },

    /** Deletes the account, then what other parts keep for it (see {@link AccountServiceDeps.onRemoved}). @throws {AccountNotFound} */
    async remove(externalId: string): Promise<void> {
      const account = await store.getAccountByExternalId(externalId)
      if (!account || !(await store.deleteAccount(externalId)))
        throw new AccountNotFound(externalId)
      await onRemoved?.(account)
    },

    /** @throws {ValidationFailed} a limit outside 1..MAX_PAGE_SIZE */
    async list({
      cursor,
      limit = 100,
    }: {
      cursor?: string | null
      limit?: number
    }): Promise<Page<Account>> {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
        throw new ValidationFailed([
          { path: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` },
        ])
      }
      return store.listAccounts({ after: cursor ?? null, limit })
    },

    /**
     * Accounts whose username, email or external id starts with `query` (the username compared
     * folded, the email lower-cased, the external id as given), a page at a time. With `by`
     * `any`, username matches come first, then email, then external id, each account once.
     * Every step is a range scan of a unique index (store/account-search.ts).
     * @throws {ValidationFailed} an empty or over-long query, a bad `by`, limit or cursor
     */
    async search({
      query,
      by = 'any',
      cursor,
      limit = 50,
    }: {
      query: string
      by?: string
      cursor?: string | null
      limit?: number
    }): Promise<Page<Account>> {
      const q = query.trim()
      const issues: FieldIssue[] = []
      if (q === '' || q.length > 254 || CONTROL.test(q))
        issues.push({ path: 'q', message: 'must be 1 to 254 characters, no control characters' })
      if (!(SEARCH_BY as readonly string[]).includes(by))
        issues.push({ path: 'by', message: `must be one of ${SEARCH_BY.join(', ')}` })
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
        issues.push({ path: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` })
      const at = cursor ? readSearchCursor(cursor) : { stage: 0, after: null }
      if (!at) issues.push({ path: 'cursor', message: 'is not a cursor this server gave' })
      if (issues.length > 0 || !at) throw new ValidationFailed(issues)
      const all: { field: AccountSearchField; prefix: string }[] = [
        { field: 'username_key', prefix: usernameKey(q) },
        { field: 'email_key', prefix: emailKey(q) },
        { field: 'external_id', prefix: q },
      ]
      const stages = by === 'any' ? all : all.filter((s) => s.field.startsWith(by))
      const items: Account[] = []
      let { stage, after } = at
      while (stage < stages.length && items.length < limit) {
        const page = await store.searchAccounts({
          ...stages[stage]!,
          exclude: stages.slice(0, stage),
          after,
          limit: limit - items.length,
        })
        items.push(...page.items)
        if (page.next !== null) return { items, next: searchCursor(stage, page.next) }
        stage++
        after = null
      }
      // A full page that ends a stage: the next page starts the next stage (it may be empty).
      return { items, next: stage < stages.length ? searchCursor(stage, null) : null }
    },

    /**
     * Streams records into the store in batches. Each record is validated on its own; an invalid
     * or conflicting record is reported with its line and never half-written. With `atomic`, all
     * records are collected and written in one transaction that commits only if none failed.
     */
    async import(
      records: AsyncIterable<ImportRecord>,
      { atomic, actor = 'import' }: { atomic: boolean; actor?: Actor },
    ): Promise<ImportReport> {
      const resolver = resolverFor(actor)
      const report: ImportReport = {
        received: 0,
        accepted: 0,
        created: 0,
        updated: 0,
        resolved: 0,
        rejected: [],
        atomic,
        committed: true,
      }
      let batch: { line: number; write: AccountWrite }[] = []

      const flush = async () => {
        if (batch.length === 0) return
        const results = await store.upsertAccounts(
          batch.map((b) => b.write),
          { atomic, resolver },
        )
        results.forEach((r, i) => {
          const { line, write } = batch[i]!
          if (r.ok) {
            report.accepted++
            report.resolved += r.resolutions.length
            if (r.created) report.created++
            else report.updated++
          } else {
            report.rejected.push({ line, external_id: write.external_id, ...toWireError(r.error) })
          }
        })
        batch = []
      }

      for await (const record of records) {
        report.received++
        if ('error' in record) {
          report.rejected.push({
            line: record.line,
            error: 'validation_failed',
            message: `${record.error.path}: ${record.error.message}`,
            details: { issues: [record.error] },
          })
          continue
        }
        if ('rejected' in record) {
          report.rejected.push({ line: record.line, ...toWireError(record.rejected) })
          continue
        }
        try {
          batch.push({ line: record.line, write: await prepare(record.value) })
        } catch (err) {
          if (!(err instanceof BridgeError)) throw err
          const id = (record.value as { external_id?: unknown } | null)?.external_id
          report.rejected.push({
            line: record.line,
            ...(typeof id === 'string' ? { external_id: id } : {}),
            ...toWireError(err),
          })
        }
        if (!atomic && batch.length >= IMPORT_BATCH_SIZE) await flush()
      }
      if (atomic && report.rejected.length > 0) {
        // Invalid records were already found: writing the rest would only be rolled back.
        batch = []
      }
      await flush()
      if (atomic && report.rejected.length > 0) {
        report.committed = false
        report.accepted = report.created = report.updated = report.resolved = 0
      }
      return report
    },

    /**
     * The audit log of conflict resolutions, oldest first.
     * @throws {ValidationFailed} a bad limit, date or field filter
     */
    async audit(
      query: Partial<Omit<AuditQuery, 'limit'>> & { limit?: number },
    ): Promise<Page<AuditEntry>> {
      const limit = query.limit ?? 100
      const issues: FieldIssue[] = []
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
        issues.push({ path: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` })
      if (query.field !== undefined && query.field !== 'username' && query.field !== 'email')
        issues.push({ path: 'field', message: 'must be username or email' })
      for (const key of ['since', 'until'] as const) {
        const v = query[key]
        if (v !== undefined && Number.isNaN(Date.parse(v)))
          issues.push({ path: key, message: 'must be an ISO 8601 date-time' })
      }
      if (issues.length > 0) throw new ValidationFailed(issues)
      const iso = (v: string | undefined) =>
        v === undefined ? undefined : new Date(v).toISOString()
      return store.listAudit({ ...query, since: iso(query.since), until: iso(query.until), limit })
    },

    /**
     * Which account a login string names, by the same rules as {@link authenticate}, and the
     * key its sign-in attempts are counted under.
     */
    async resolveSignIn(login: string): Promise<SignInSubject> {
      return subjectOf(login, await findSignIn(login))
    },

    /**
     * Checks a username-or-email and password. A successful check of a legacy or weaker hash
     * upgrades it to argon2id (only if the hash was not changed meanwhile).
     *
     * Which account a login names (one at most, so that it has one throttle key):
     * 1. A login with an `@` is first an email: the account whose email it is (lower-cased).
     * 2. Otherwise, or when no account has that email, the account whose username it is
     *    (NFKC + case folding).
     * So an account whose username is spelled like another account's email never shadows that
     * account: the email's owner signs in with it, and the other one with its own username or
     * email.
     *
     * @param options.gate called with the attempt's key before the password is verified (see {@link SignInGate})
     */
    async authenticate(
      login: string,
      password: string,
      options: { gate?: SignInGate } = {},
    ): Promise<LoginResult> {
      const creds = await findSignIn(login)
      const refused = options.gate ? await options.gate(subjectOf(login, creds).key) : null
      if (refused) return { ok: false, reason: 'throttled', retryAfter: refused.retryAfter }
      if (!creds?.password_hash) {
        await verifyPassword(password, await timingDecoy())
        return { ok: false, reason: 'invalid_credentials' }
      }
      const { ok, needsRehash } = await verifyPassword(password, creds.password_hash)
      if (!ok) return { ok: false, reason: 'invalid_credentials' }
      if (creds.account.status !== 'active') return { ok: false, reason: 'account_disabled' }
      if (needsRehash)
        await store.replacePasswordHash(
          creds.account.id,
          creds.password_hash,
          await hashPassword(password),
        )
      return { ok: true, account: creds.account }
    },
  }

  /** The account a login names (rules at {@link authenticate}), with its password hash. */
  async function findSignIn(login: string): Promise<Credentials | null> {
    const trimmed = login.trim()
    // No username or email holds a control character (input.ts), so such a login names no
    // account; asking anyway would fail on PostgreSQL, which refuses NUL in a query (a 500).
    if (CONTROL.test(trimmed)) return null
    const byEmail = trimmed.includes('@')
      ? await store.findCredentials({ email_key: emailKey(trimmed) })
      : null
    return byEmail ?? (await store.findCredentials({ username_key: usernameKey(trimmed) }))
  }
}

/** What a member search may match on (`any`: all three). */
export const SEARCH_BY = ['any', 'username', 'email', 'external_id'] as const

// A search cursor names its stage and the last key seen; opaque to clients (base64url JSON).
function searchCursor(stage: number, after: string | null): string {
  return Buffer.from(JSON.stringify([stage, after])).toString('base64url')
}

function readSearchCursor(cursor: string): { stage: number; after: string | null } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString())
    if (!Array.isArray(v) || v.length !== 2) return null
    const [stage, after] = v as unknown[]
    if (!Number.isInteger(stage) || (stage as number) < 0 || (stage as number) > 2) return null
    if (after !== null && typeof after !== 'string') return null
    return { stage: stage as number, after }
  } catch {
    return null
  }
}

function subjectOf(login: string, creds: Credentials | null): SignInSubject {
  return creds
    ? { key: accountSignInKey(creds.account.id), accountId: creds.account.id }
    : { key: unknownSignInKey(login), accountId: null }
}

/** The account service {@link createAccountService} builds. */
export type AccountService = ReturnType<typeof createAccountService>
