/**
 * @module oidc/adapter
 * oidc-provider's storage `adapter` over our KvStore (store/ports.ts): sessions, grants,
 * interactions, codes and tokens live in the store (SQLite or PostgreSQL today, any KvStore,
 * e.g. Redis, later), with expiry.
 *
 * One adapter per model (oidc-provider asks the factory once per model name), each in its own
 * namespace `oidc:<Model>`, the record's id as key. A payload's `uid`, `userCode`, `grantId`
 * and `accountId` are stored as secondary indexes: `findByUid`, `findByUserCode` and
 * `revokeByGrantId` look them up within the model's namespace (oidc-provider calls
 * `revokeByGrantId` on each token model in turn); `accountId` serves account deletion
 * (oidc/revoke-account.ts).
 *
 * The `Client` model is not stored: clients come from the integrations registry, read through
 * the optional `findClient` hook; writing one (dynamic registration) throws.
 *
 * Secrets at rest (issue #13): an opaque access token, refresh token, authorization code or
 * client-credentials token IS its record's id, a bearer value. Those records are stored under the
 * SHA-256 of the id (`sha256:<base64url>`, {@link oidcRecordKey}) without their `jti`, which
 * `find` puts back from the id it was asked for, so a copy of the database holds no usable token.
 * (The ids are 256-bit random values: an unsalted hash cannot be reversed.) Records written
 * before are still found under their plain id. Sessions and interactions stay under their ids:
 * their cookies are signed with the cookie secret in KEYS_DIR, so an id alone opens nothing.
 */
import { createHash } from 'node:crypto'
import { errors, type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider'
import type { KvSetOptions, KvStore } from '../store/ports.ts'
import { guardAdapter } from './unavailable.ts'

/** What the store-backed oidc-provider adapter takes besides the KV store. */
export interface OidcAdapterOptions {
  /**
   * Serves `Client.find(id)` (and so every client lookup oidc-provider makes beyond the
   * `clients` of its configuration): the client's metadata as oidc-provider takes it
   * (`client_id`, `redirect_uris`, … in snake_case), or undefined when there is no such client.
   * Without it, only configured static clients exist.
   */
  findClient?: (id: string) => Promise<AdapterPayload | undefined>
  /**
   * Seconds a record is kept past its `expiresIn`, as oidc-provider's own memory adapter does
   * with the provider's `clockTolerance` (it still accepts a token that much past `exp`).
   * Default 0.
   */
  clockTolerance?: number
}

/** The KV namespace of an oidc-provider model's records. */
export const oidcNamespace = (model: string): string => `oidc:${model}`

/** Models whose record id is the token itself: stored under its hash (see the module doc). */
const HASHED_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'ClientCredentials',
])

/**
 * The KV key of an oidc-provider record: `sha256:<base64url>` of the id for the models whose id
 * is a bearer token (access and refresh tokens, codes), the id itself otherwise.
 * @example await kv.kvGet(oidcNamespace('AccessToken'), oidcRecordKey('AccessToken', token))
 */
export function oidcRecordKey(model: string, id: string): string {
  return HASHED_MODELS.has(model)
    ? `sha256:${createHash('sha256').update(id).digest('base64url')}`
    : id
}

/** Payload fields stored as secondary indexes, when they are non-empty strings. */
const INDEXED = ['uid', 'userCode', 'grantId', 'accountId'] as const

/**
 * The value for oidc-provider's `adapter` option: a factory (not a class) that oidc-provider
 * calls with each model's name.
 */
export function createOidcAdapter(kv: KvStore, options: OidcAdapterOptions = {}): AdapterFactory {
  const toleranceMs = (options.clockTolerance ?? 0) * 1000
  if (!Number.isFinite(toleranceMs) || toleranceMs < 0)
    throw new TypeError('clockTolerance must be a non-negative number of seconds')
  // A store outage reaches oidc-provider as 503 temporarily_unavailable, not server_error (unavailable.ts).
  return (model: string): Adapter =>
    guardAdapter(
      model === 'Client'
        ? new RegistryClientAdapter(options.findClient)
        : new KvAdapter(kv, model, toleranceMs),
    )
}

/** One model's records in the namespace `oidc:<model>`. */
class KvAdapter implements Adapter {
  readonly #kv: KvStore
  readonly #namespace: string
  readonly #toleranceMs: number
  readonly #model: string
  readonly #hashed: boolean

  constructor(kv: KvStore, model: string, toleranceMs: number) {
    this.#kv = kv
    this.#namespace = oidcNamespace(model)
    this.#toleranceMs = toleranceMs
    this.#model = model
    this.#hashed = HASHED_MODELS.has(model)
  }

  #key(id: string): string {
    return oidcRecordKey(this.#model, id)
  }

  /** Stores (or replaces) the record, expiring `expiresIn` seconds from now when given. */
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const indexes: Record<string, string> = {}
    for (const name of INDEXED) {
      const value = payload[name]
      if (typeof value === 'string' && value !== '') indexes[name] = value
    }
    const options: KvSetOptions = { indexes }
    if (typeof expiresIn === 'number') options.ttlMs = expiresIn * 1000 + this.#toleranceMs
    let value = payload as Record<string, unknown>
    if (this.#hashed) {
      // The jti is the token: it is not stored (find puts it back).
      const { jti: _jti, ...rest } = value
      value = rest
    }
    await this.#kv.kvSet(this.#namespace, this.#key(id), value, options)
  }

  /** The stored payload, or undefined when absent or expired. */
  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.#hashed) {
      const found = await this.#kv.kvGet(this.#namespace, this.#key(id))
      if (found) return { ...(found.value as AdapterPayload), jti: id }
    }
    // Not a hashed model, or a record written before ids were hashed.
    return (
      ((await this.#kv.kvGet(this.#namespace, id))?.value as AdapterPayload | undefined) ??
      undefined
    )
  }

  /** A DeviceCode by its user code. */
  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return (
      ((await this.#kv.kvFindBy(this.#namespace, 'userCode', userCode))?.entry.value as
        AdapterPayload | undefined) ?? undefined
    )
  }

  /** A Session by its uid. */
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return (
      ((await this.#kv.kvFindBy(this.#namespace, 'uid', uid))?.entry.value as
        AdapterPayload | undefined) ?? undefined
    )
  }

  /**
   * Marks the record consumed (`consumed`: epoch seconds); a record consumed already keeps its
   * first mark. oidc-provider reads a code (or refresh token), sees it unconsumed, then consumes
   * it: two exchanges at once could both pass the read. The store's consume is atomic, so the
   * one that did not consume it is refused here (`invalid_grant`): at most one exchange wins.
   * @throws {errors.InvalidGrant} when the record was consumed already
   */
  async consume(id: string): Promise<void> {
    const key = this.#key(id)
    if (await this.#kv.kvConsume(this.#namespace, key)) return
    if (key !== id && (await this.#kv.kvConsume(this.#namespace, id))) return
    const current =
      (await this.#kv.kvGet(this.#namespace, key)) ??
      (key !== id ? await this.#kv.kvGet(this.#namespace, id) : null)
    if (current && current.value.consumed !== undefined)
      throw new errors.InvalidGrant('grant already consumed')
  }

  async destroy(id: string): Promise<void> {
    const key = this.#key(id)
    await this.#kv.kvDelete(this.#namespace, key)
    if (key !== id) await this.#kv.kvDelete(this.#namespace, id) // one written before hashing
  }

  /** Removes every record of this model issued under the grant. */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#kv.kvDeleteBy(this.#namespace, 'grantId', grantId)
  }
}

/** The `Client` model: read from the integrations registry, never written. */
class RegistryClientAdapter implements Adapter {
  readonly #findClient: OidcAdapterOptions['findClient']

  constructor(findClient: OidcAdapterOptions['findClient']) {
    this.#findClient = findClient
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.#findClient ? await this.#findClient(id) : undefined
  }

  async findByUserCode(): Promise<undefined> {
    return undefined
  }

  async findByUid(): Promise<undefined> {
    return undefined
  }

  async upsert(id: string): Promise<never> {
    throw readOnly('store', id)
  }

  async destroy(id: string): Promise<never> {
    throw readOnly('delete', id)
  }

  async consume(id: string): Promise<never> {
    throw readOnly('consume', id)
  }

  async revokeByGrantId(): Promise<never> {
    throw readOnly('revoke grants of', undefined)
  }
}

function readOnly(what: string, id: string | undefined): Error {
  return new Error(
    `cannot ${what} OIDC client${id === undefined ? 's' : ` ${JSON.stringify(id)}`} through the oidc-provider adapter: ` +
      'clients come from the integrations registry (manage them as integrations; dynamic client registration is not supported)',
  )
}
