/**
 * @module store/ports
 * What sso-bridge needs from a database: types only. `store/sqlite` and `store/postgres`
 * implement it; one contract suite (test/contract/store.contract.ts) runs against both.
 * Every module except `store/index.ts` and `main.ts` depends on these types alone.
 */
import type { ConflictResolver, ResolutionRecord } from '../accounts/conflicts.ts'
import type { Account, AccountFields } from '../accounts/types.ts'
import type { BridgeError } from '../errors/index.ts'

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
}

export interface AccountWriteResult {
  account: Account
  created: boolean
  /** Conflicts resolved on the way (each also written to the audit log, same transaction). */
  resolutions: ResolutionRecord[]
}

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

export interface Page<T> {
  items: T[]
  /** Opaque cursor for the next page, or null at the end. */
  next: string | null
}

export interface Credentials {
  account: Account
  password_hash: string | null
}

export interface IntegrationRecord {
  id: string
  type: string
  /** Type-specific settings, already validated by the type's schema. */
  settings: Record<string, unknown>
  /** Secret sources by name: `{ value }` inline or `{ env }` naming an environment variable. */
  secrets: Record<string, SecretSource>
  /** Output key → source; null uses the type's default mapping. */
  mapping: Record<string, unknown> | null
  created_at: string
  updated_at: string
}

export type SecretSource = { value: string } | { env: string }

export type IntegrationWrite = Omit<IntegrationRecord, 'created_at' | 'updated_at'>

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
  upsertAccounts(writes: AccountWrite[], options: WriteOptions & { atomic: boolean }): Promise<BatchItemResult[]>
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
  /** Audit entries, oldest first. */
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>>
}

export interface IntegrationStore {
  putIntegration(write: IntegrationWrite): Promise<{ record: IntegrationRecord; created: boolean }>
  getIntegration(id: string): Promise<IntegrationRecord | null>
  listIntegrations(): Promise<IntegrationRecord[]>
  deleteIntegration(id: string): Promise<boolean>
}

export interface Store extends AccountStore, IntegrationStore {
  readonly kind: 'sqlite' | 'postgres'
  /** Cheap round trip to the database, for /readyz. @throws {StoreUnavailable} */
  ping(): Promise<void>
  close(): Promise<void>
}
