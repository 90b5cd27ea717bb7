/**
 * @module store/ports
 * What sso-bridge needs from a database: types only. `store/sqlite` and `store/postgres`
 * implement it; one contract suite (test/contract/store.contract.ts) runs against both.
 * Every module except `store/index.ts` and `main.ts` depends on these types alone.
 */
import type { EmailPolicy, UsernamePolicy } from '../config/index.ts'
import type { AccountConflict, BridgeError } from '../errors/index.ts'
import type { Account, AccountFields } from './account.ts'

/** A normalized account write, keyed by `external_id` (upsert). */
export interface AccountWrite extends AccountFields {
  /** NFKC + case-folded username, or null. Unique. */
  username_key: string | null
  /** Lower-cased email, or null. Unique. */
  email_key: string | null
  /**
   * `undefined` keeps the stored hash (or none on insert); `null` clears it; a string sets it.
   */
  password_hash?: string | null | undefined
  /**
   * Update the stored account only while it is active: otherwise the write is refused with
   * AccountDisabled and nothing changes (a new account is created as usual). Decided inside the
   * write statement, so an account disabled after the caller read it is neither changed nor
   * re-enabled (site tickets).
   */
  only_if_active?: boolean
}

/** What an account upsert did. */
export interface AccountWriteResult {
  account: Account
  created: boolean
  /** Conflicts resolved on the way (each also written to the audit log, same transaction). */
  resolutions: ResolutionRecord[]
}

/** The fields the conflict rules resolve (an `external_id` collision is an update, not a conflict). */
export type ContestedField = 'username' | 'email'

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

/**
 * One database step a {@link ConflictResolver} asks for. The store runs it inside the write's
 * transaction and sends back what it gives:
 * - `upsert`: the {@link AccountWriteResult}, or the {@link AccountConflict} the unique indexes raised;
 * - `account`: the account with this id, or null;
 * - `taken`: which of these username keys are held by an account other than `except_external_id`;
 * - `changeHolder`: true when the holder still held `expected_key` and was changed, false otherwise
 *   (also when its new username was taken meanwhile);
 * - `audit`: the records are written to the audit log; undefined.
 */
export type WriteStep =
  | { op: 'upsert'; write: AccountWrite }
  | { op: 'account'; id: string }
  | { op: 'taken'; keys: string[]; except_external_id: string }
  | { op: 'changeHolder'; change: HolderChange }
  | { op: 'audit'; records: ResolutionRecord[] }

/** What each {@link WriteStep} gives back. */
export type WriteStepResult =
  AccountWriteResult | AccountConflict | Account | null | Set<string> | boolean | undefined

/**
 * Resolves username/email conflicts for one account write (accounts/conflicts.ts builds one from
 * the configured policies). The store owns the transaction; the resolver owns the decisions.
 */
export interface ConflictResolver {
  /**
   * The write as a sequence of database steps. The store drives the generator inside one
   * transaction (SQLite synchronously, PostgreSQL on one client), answering each step with its
   * result; the generator returns the final result, or throws to refuse (the store rolls back).
   * The store calls it only after the plain upsert of `write` hit a username/email conflict.
   * @throws {AccountConflict} the conflict is refused
   */
  resolve(write: AccountWrite): Generator<WriteStep, AccountWriteResult, WriteStepResult>
}

/** Options of {@link AccountStore.upsertAccount} and the batch writes. */
export interface WriteOptions {
  /**
   * Applies the conflict rules when a username/email is held by another account. Without one,
   * every conflict is refused.
   */
  resolver?: ConflictResolver
}

/** One entry of the audit log. */
export interface AuditEntry extends ResolutionRecord {
  id: string
  at: string
  action: 'conflict_resolved'
}

/** Filters of {@link AccountStore.listAudit}; all optional, combined with AND. */
export interface AuditQuery {
  /** Entries where this account is the incoming one or the holder. */
  external_id?: string
  field?: 'username' | 'email'
  policy?: string
  actor?: string
  /** ISO timestamps, inclusive. */
  since?: string
  until?: string
  after?: string | null
  limit: number
}

/** Outcome of one record in a batch write, in input order. */
export type BatchItemResult =
  | { ok: true; created: boolean; external_id: string; resolutions: ResolutionRecord[] }
  | { ok: false; error: BridgeError }

/** One page of a keyset-paginated listing. */
export interface Page<T> {
  items: T[]
  /** Opaque cursor for the next page, or null at the end. */
  next: string | null
}

/** A unique account column a search walks (its unique index, in byte order). */
export type AccountSearchField = 'username_key' | 'email_key' | 'external_id'

/** A prefix search of {@link AccountStore.searchAccounts}. */
export interface AccountSearch {
  field: AccountSearchField
  /** The prefix in the column's own form (a folded username key, a lower-cased email key). */
  prefix: string
  /** Leaves out accounts whose column starts with the prefix given (listed by an earlier search). */
  exclude?: { field: AccountSearchField; prefix: string }[]
  /** The column value of the previous page's last account: the page continues after it. */
  after?: string | null
  limit: number
}

/** An account with its password hash, for sign-in only: nothing else reads the hash. */
export interface Credentials {
  account: Account
  password_hash: string | null
}

/** An integration as stored: validated by integrations/ before it gets here. */
export interface IntegrationRecord {
  id: string
  type: string
  /** Type-specific settings as saved (a JSON object the store does not look into). */
  settings: Record<string, unknown>
  /**
   * Secret sources by name: `{ sealed }` inline, encrypted (secrets/box.ts), or `{ env }` naming
   * an environment variable; `{ value }` is an inline secret in plain text, as databases from
   * before secrets at rest hold them (read, and sealed by the next start or `secrets rekey`).
   */
  secrets: Record<string, SecretSource>
  /** Output key → source; null uses the type's default mapping. */
  mapping: Record<string, unknown> | null
  created_at: string
  updated_at: string
}

/**
 * Where an integration secret comes from: inline (`sealed`: encrypted at rest; `value`: plain
 * text, only as written before encryption at rest or on its way to being sealed), or the
 * environment variable it names (so a secret can stay out of the database).
 */
export type SecretSource = { value: string } | { sealed: string } | { env: string }

/**
 * What a save writes. The store keeps `settings` as an opaque JSON object: its shape is the
 * integration type's business (integrations/), never the store's.
 */
export type IntegrationWrite = Omit<IntegrationRecord, 'created_at' | 'updated_at' | 'settings'> & {
  settings: object
}

/**
 * Accounts, their credentials and the conflict audit log. Every implementation runs the
 * same contract suite (test/contract), so SQLite and PostgreSQL answer alike.
 */
export interface AccountStore {
  /**
   * Inserts or replaces the account with this `external_id` in one statement. Unique
   * username/email are enforced by the database itself (the last word under concurrency).
   * With a resolver, a conflict is resolved in one transaction with the holder's change and its
   * audit entry; the unique indexes still decide every race.
   * @throws {AccountConflict} field `username` or `email`, with the holder's id
   */
  upsertAccount(write: AccountWrite, options?: WriteOptions): Promise<AccountWriteResult>
  /**
   * Writes many accounts. Non-atomic: each record commits or fails alone, a failing record
   * leaves nothing behind. Atomic: all commit, or none do (the results still say which failed).
   */
  upsertAccounts(
    writes: AccountWrite[],
    options: WriteOptions & { atomic: boolean },
  ): Promise<BatchItemResult[]>
  getAccountByExternalId(externalId: string): Promise<Account | null>
  getAccountById(id: string): Promise<Account | null>
  /** Finds an account by its folded username or lower-cased email, with its password hash. */
  findCredentials(login: { username_key?: string; email_key?: string }): Promise<Credentials | null>
  /**
   * Replaces the hash only if it still equals `expected` (a rehash racing a password change
   * must lose). Returns whether it changed.
   */
  replacePasswordHash(id: string, expected: string, next: string): Promise<boolean>
  deleteAccount(externalId: string): Promise<boolean>
  /** Accounts in creation order; `after` is a cursor from a previous page. */
  listAccounts(options: { after?: string | null; limit: number }): Promise<Page<Account>>
  countAccounts(): Promise<number>
  /**
   * Accounts whose `field` starts with `prefix`, in that column's byte order: a range scan of its
   * unique index, never a table scan. `next` is the last account's column value (raw, for
   * {@link AccountSearch.after}) when there may be more, else null.
   */
  searchAccounts(search: AccountSearch): Promise<Page<Account>>
  /** Audit entries, oldest first. */
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>>
}

/**
 * Integration writes and removals by every process on the database, pushed as they commit
 * (PostgreSQL's LISTEN/NOTIFY: store/postgres/changes.ts), so caches can drop a changed record
 * at once.
 */
export interface ChangeFeed {
  /**
   * Calls `listener` with the id of each integration written or removed by any process (this
   * one included), and with `null` when changes may have been missed (the feed lost its
   * connection, or has just (re)connected). Starts listening on first use.
   */
  subscribe(listener: (id: string | null) => void): () => void
  /**
   * Resolves true once every change committed before this call has been passed to the
   * listeners; false when the feed is not listening right now (then no cache may be trusted).
   */
  sync(): Promise<boolean>
}

/** Integration records, opaque to the store (integrations/ owns their shape). */
export interface IntegrationStore {
  /** Present where other processes' writes are pushed (PostgreSQL); absent on SQLite. */
  readonly integrationChanges?: ChangeFeed
  /**
   * Creates or replaces the integration; with `stamp`, its `config_audit` entry
   * (`integration_created` or `integration_updated`) commits with it.
   */
  putIntegration(
    write: IntegrationWrite,
    stamp?: ChangeStamp,
  ): Promise<{ record: IntegrationRecord; created: boolean }>
  getIntegration(id: string): Promise<IntegrationRecord | null>
  listIntegrations(): Promise<IntegrationRecord[]>
  /** Removes it; with `stamp`, its `integration_deleted` entry commits with it (only if it existed). */
  deleteIntegration(id: string, stamp?: ChangeStamp): Promise<boolean>
}

/** One live entry of the key-value store. */
export interface KvEntry<T extends Record<string, unknown> = Record<string, unknown>> {
  /** The JSON object stored (a fresh copy: changing it changes nothing stored). */
  value: T
  /** When it expires, epoch milliseconds; null when it never does. */
  expiresAt: number | null
}

/** A live entry found through a secondary index, with its primary key. */
export interface KvFound<T extends Record<string, unknown> = Record<string, unknown>> {
  key: string
  entry: KvEntry<T>
}

/** Options of {@link KvStore.kvSet}. */
export interface KvSetOptions {
  /** Lifetime in milliseconds from now (a finite number; zero or less is born expired). Absent: never expires. */
  ttlMs?: number
  /**
   * Secondary lookup keys of this entry, name → value (e.g. `{ uid, userCode, grantId }`),
   * for {@link KvStore.kvFindBy} and {@link KvStore.kvDeleteBy}. They replace the entry's
   * previous ones. Several entries of a namespace may share an index value.
   */
  indexes?: Record<string, string>
}

/**
 * Short-lived server state, shaped so that Redis (or any key-value server) can implement it:
 * oidc-provider's sessions, grants, codes and tokens (see oidc/adapter.ts), the bridge's own
 * login sessions, single-use ticket `jti`s, SAML request-id replay caches and login-throttle
 * counters.
 *
 * Entries live in namespaces (e.g. `oidc:Session`, `saml:replay`); a key is unique within its
 * namespace, and namespaces never see each other's entries. A value is a JSON object: what
 * JSON cannot carry (undefined, functions, class instances) is dropped or flattened as
 * `JSON.stringify` does, and PostgreSQL refuses the NUL character (`\u0000`) in strings.
 *
 * Expiry: an entry whose `expiresAt` is at or before now is absent for every method (reads
 * return null, conditional writes treat the key as free); its row is removed by
 * {@link KvStore.kvPurgeExpired}, which stores also run on their own every so many writes. "Now" is
 * the server process's clock (`Date.now()`).
 *
 * Every method is one atomic step, also between processes sharing the database.
 */
export interface KvStore {
  /**
   * Sets (creates or replaces) `namespace`/`key`: value, lifetime and indexes are all replaced
   * (no option, no TTL, no index).
   * @throws {TypeError} value not a plain JSON object, bad TTL or index value
   */
  kvSet(
    namespace: string,
    key: string,
    value: Record<string, unknown>,
    options?: KvSetOptions,
  ): Promise<void>
  /** The live entry, or null when absent or expired. */
  kvGet(namespace: string, key: string): Promise<KvEntry | null>
  /**
   * A live entry whose index `index` has `indexValue` (see {@link KvSetOptions.indexes}), or null.
   * When several match, the one set most recently.
   */
  kvFindBy(namespace: string, index: string, indexValue: string): Promise<KvFound | null>
  /** How many live entries of `namespace` have index `index` = `indexValue` (a member's sessions). */
  kvCountBy(namespace: string, index: string, indexValue: string): Promise<number>
  /** Removes `namespace`/`key`; true when a live entry was removed (an expired one goes too, quietly). */
  kvDelete(namespace: string, key: string): Promise<boolean>
  /**
   * Removes every entry of `namespace` whose index `index` has `indexValue` (e.g. all tokens of
   * one grant: `kvDeleteBy('oidc:AccessToken', 'grantId', id)`); returns how many live ones.
   */
  kvDeleteBy(namespace: string, index: string, indexValue: string): Promise<number>
  /**
   * Creates `namespace`/`key` only if absent or expired (then without indexes). True when this
   * call created it: of concurrent calls for one key, exactly one wins, across processes too.
   * For single-use `jti`s and replay caches: `if (!(await kv.kvSetIfAbsent('jti', jti, {}, { ttlMs }))) reject()`.
   */
  kvSetIfAbsent(
    namespace: string,
    key: string,
    value: Record<string, unknown>,
    options?: { ttlMs?: number },
  ): Promise<boolean>
  /**
   * Adds `by` to the counter `value.count` of `namespace`/`key` and returns the new count. An
   * absent or expired entry starts again at `{ count: 0 }` with lifetime `ttlMs` (no indexes);
   * a live one keeps its lifetime (a fixed window, for rate limits), its other fields and
   * indexes; a missing or non-numeric `count` counts as 0. Concurrent increments all count.
   */
  kvIncrement(namespace: string, key: string, by: number, ttlMs: number): Promise<number>
  /**
   * Marks a live entry consumed (oidc-provider's `consume`): sets `value.consumed` to now in
   * epoch seconds, keeping lifetime and indexes. True when this call consumed it; false when it
   * is absent, expired or already consumed (the first mark stays), so it also serves as an
   * atomic "use once".
   */
  kvConsume(namespace: string, key: string): Promise<boolean>
  /** Removes every expired entry, in all namespaces; returns how many. */
  kvPurgeExpired(): Promise<number>
}

/** An operator account (issue #14): who may sign in to /console. Never a member. */
export interface OperatorRecord {
  id: string
  /** As given at creation; unique ignoring case. */
  name: string
  /** argon2id (accounts/passwords.ts). */
  password_hash: string
  /** The TOTP seed sealed at rest (secrets/totp.ts); null when no second factor is set up. */
  totp_seed: string | null
  disabled: boolean
  created_at: string
  updated_at: string
}

/** What may change on an operator; absent fields stay as they are. */
export interface OperatorPatch {
  password_hash?: string
  totp_seed?: string | null
  disabled?: boolean
}

/** One entry of the operator audit log. */
export interface OperatorAuditEntry {
  id: string
  at: string
  /** Who acted: `operator:<name>` (the console) or `cli`. */
  actor: string
  /** e.g. `operator_added`, `console_sign_in`. */
  action: string
  /**
   * Whom or what it concerned: `operator:<name>`, `member:<external_id>` (the console's member
   * actions), `keys:<kids>` (a rotation, from the console or the CLI), `secrets:<key id>` (the CLI's
   * `secrets rekey`: the key everything is now sealed under), `integration:<id>` (a change to an
   * integration made with an actor: integrations/registry.ts).
   */
  target: string
}

/** Operator accounts and their audit log (migrations 004_operators). */
export interface OperatorStore {
  /**
   * Creates an operator; false when the name (ignoring case) is taken, nothing written then.
   */
  insertOperator(record: Omit<OperatorRecord, 'created_at' | 'updated_at'>): Promise<boolean>
  /** The operator with this name (ignoring case), or null. */
  getOperatorByName(name: string): Promise<OperatorRecord | null>
  getOperatorById(id: string): Promise<OperatorRecord | null>
  /** Every operator, by name. */
  listOperators(): Promise<OperatorRecord[]>
  /** Applies `patch`; false when there is no such operator. */
  updateOperator(id: string, patch: OperatorPatch): Promise<boolean>
  deleteOperator(id: string): Promise<boolean>
  appendOperatorAudit(entry: Omit<OperatorAuditEntry, 'id' | 'at'>): Promise<void>
  /** The operator audit log, oldest first (at most `limit` entries). */
  listOperatorAudit(limit: number): Promise<OperatorAuditEntry[]>
}

/**
 * One event as stored (issue #14): what happened at which door, for which integration and
 * member, with its result code. It carries no secret, token, password or cookie.
 */
export interface EventRecord {
  /** UUIDv7: time order; the page cursor. */
  id: string
  /** ISO 8601 UTC. */
  at: string
  /** Which door: `oidc`, `saml`, `tokens`, `ticket`, `login`. */
  door: string
  /** What: `sign_in`, `ticket_redeemed`, `oidc_token`, `saml_response`, `platform_token`, `logout`, `refused`. */
  kind: string
  /** `ok`, or the refusal's stable code (`ERR_*`, errors/codes.ts). */
  result: string
  integration_id: string | null
  /** The member's external_id, when known. */
  member_id: string | null
  /** The request's X-Request-Id. */
  request_id: string | null
}

/** Filters of {@link EventStore.listEvents}; all optional, combined with AND. */
export interface EventQuery {
  integration_id?: string
  member_id?: string
  door?: string
  /** What happened (`sign_in`, `refused`, … see {@link EventRecord.kind}). */
  kind?: string
  result?: string
  /** ISO timestamps, inclusive. */
  since?: string
  until?: string
  /** A cursor from a previous page: the events older than its last. */
  after?: string | null
  limit: number
}

/** The events table: appended in batches, listed newest first, pruned by age. */
export interface EventStore {
  /** Appends the events (one write for the batch). */
  appendEvents(events: EventRecord[]): Promise<void>
  /** Events newest first; `next` continues with older ones. */
  listEvents(query: EventQuery): Promise<Page<EventRecord>>
  /**
   * Removes at most `limit` events older than `before` (ISO); returns how many. Safe to run
   * from several instances at once (each removes rows no other is removing).
   */
  pruneEvents(before: string, limit: number): Promise<number>
  /**
   * How many sign-ins, tokens issued and failures each integration had per hour or day in
   * `[since, until)`: one grouped query over the `at` index (store/event-categories.ts says which
   * kinds count as what). Only non-zero groups are returned.
   */
  countEvents(query: EventCountQuery): Promise<EventCount[]>
}

/** What the Overview counts: sign-ins (password or ticket), tokens issued, refusals. */
export type EventCategory = 'sign_in' | 'token' | 'failure'

/** The window and bucket size of {@link EventStore.countEvents}. */
export interface EventCountQuery {
  /** ISO 8601, inclusive. */
  since: string
  /** ISO 8601, exclusive. */
  until: string
  /** Hourly or daily buckets, in UTC. */
  bucket: 'hour' | 'day'
}

/** One group of {@link EventStore.countEvents}. */
export interface EventCount {
  /** The bucket's start, ISO 8601 UTC (`2026-12-05T13:00:00.000Z`, `2026-12-05T00:00:00.000Z`). */
  bucket: string
  /** An existing integration; null for the rest (none, made-up ids of refused requests, deleted). */
  integration_id: string | null
  category: EventCategory
  count: number
}

/**
 * Who made a configuration change and what it changed, written in the same transaction as the
 * change (table `config_audit`). `detail` names what changed, never a value.
 */
export interface ChangeStamp {
  /** `admin-api` (the admin token), `cli`, or `operator:<name>` (the console). */
  actor: string
  /**
   * A save's action instead of `integration_created` / `integration_updated`: what the console
   * did (`integration_secret_regenerated`, `integration_mapping_saved`). Not for a deletion.
   */
  action?: string
  detail?: Record<string, unknown> | null
}

/** Which audit log an entry of the merged trail comes from. */
export type AuditSource = 'conflict' | 'config' | 'operator'

/**
 * One entry of the audit trail: the conflict resolutions (`audit_log`), the configuration
 * changes (`config_audit`) and the operator log (`operator_audit`) in one shape.
 */
export interface AuditTrailEntry {
  /** UUIDv7 of its own log: the three logs' ids sort together by time. */
  id: string
  at: string
  source: AuditSource
  actor: string
  /** `conflict_resolved`, `integration_updated`, `console_sign_in`, … */
  action: string
  /** Whom it concerned: `account:<external_id>`, `integration:<id>`, `operator:<name>`. */
  target: string
  /** The rest of the entry (a conflict's field, policy and values; what a change changed). */
  detail: Record<string, unknown> | null
}

/** Filters of {@link AuditTrailStore.listAuditTrail}; all optional, combined with AND. */
export interface AuditTrailQuery {
  source?: AuditSource
  actor?: string
  /** Exactly this target (`integration:chat`); a conflict also matches its holder's account. */
  target?: string
  action?: string
  /** ISO timestamps, inclusive. */
  since?: string
  until?: string
  /** A cursor from a previous page: the entries older than its last. */
  after?: string | null
  limit: number
}

/** The three audit logs read as one, newest first. */
export interface AuditTrailStore {
  /** Entries of every log merged by time, newest first; `next` continues with older ones. */
  listAuditTrail(query: AuditTrailQuery): Promise<Page<AuditTrailEntry>>
}

/**
 * The whole store one database offers; made by `createStore(config.store)`, the only place that
 * names an implementation.
 */
export interface Store
  extends AccountStore, IntegrationStore, KvStore, OperatorStore, EventStore, AuditTrailStore {
  readonly kind: 'sqlite' | 'postgres'
  /**
   * Cheap round trip to the database, for /readyz: also reads its schema version, so an
   * instance left running after a newer one migrated the shared database stops being ready.
   * @throws {StoreUnavailable} @throws {SchemaTooNew}
   */
  ping(): Promise<void>
  close(): Promise<void>
}
