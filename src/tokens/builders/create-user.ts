/**
 * @module tokens/builders/create-user
 * The create-user builder of a platform definition (issue #15): the platform makes the token
 * itself, over its REST API, and sso-bridge keeps it per member. Dead Simple Chat (Create User →
 * accessToken) and CometChat (create user, or create auth token → authToken) are two sets of
 * data around it: each gives its request (the body and what a stored token must match to be
 * reused), the call that turns a request into a token, and the token's delivery; the builder
 * holds everything else.
 *
 * Stored per member: the KV namespace `tokens:<store>:<integration>`, key = account id, no
 * expiry. The value is the fields the platform's answer gives (`userId`), the request fields
 * (`request`, `uid`), `external_id`, `created_at`, and the token sealed (`sealedToken`,
 * secrets/box.ts, bound to the integration and account so it opens in its own entry only); an
 * index `token` holds a SHA-256 of the token, for inspect: it reveals no token. A platform whose
 * entries predate secrets at rest names their plain-text field (`plaintextField`): such an entry
 * is read as it is and sealed by `secrets rekey` ({@link CreateUserBuilder.hooks}.resealStored).
 *
 * The stored token serves unless its request fields differ from the member's request now (a
 * demoted Dead Simple Chat moderator must not keep a moderator token) or the caller reports that
 * the platform refused it (`rejectedToken` equal to it; a stale report for an already replaced
 * token changes nothing). Otherwise a new one is made.
 *
 * Exactly one call per needed token, across every instance on the database: a platform's API
 * that can delete no user leaves a duplicate user behind on a second call and hands the member
 * two different tokens. Concurrent logins in one process share one call; across processes the
 * creation is claimed through the store (set-if-absent on `tokens:<store>-claims:<integration>`
 * / <account id>, a lease of `leaseMs`). The winner calls the platform, stores the token, then
 * releases the claim; the others poll the stored token until it appears. A winner that dies or
 * fails mid-call releases nothing or its claim respectively: when the claim is gone (released,
 * or its lease ran out), one waiter takes it over and calls the platform itself. The lease
 * outlives the calls' own timeouts, so a live winner is never overtaken.
 */
import { createHash, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Account, JsonObject } from '../../accounts/types.ts'
import { ConfigInvalid, PlatformUnavailable, TokenInvalid } from '../../errors/index.ts'
import type {
  IntegrationTypeDefinition,
  LoadedIntegration,
  StoredResealCount,
} from '../../integrations/types.ts'
import { isSealed, type SecretBox } from '../../secrets/index.ts'
import type { KvStore } from '../../store/ports.ts'
import type { DryRun, Inspected, IssueOptions, IssuedToken, TokenDeps } from '../types.ts'

/** Pauses between looks at the stored token while another instance makes it (the last repeats). */
const CLAIM_POLL_MS = [25, 50, 100, 200, 250] as const

/** A member's request to the platform, from the mapped document. */
export interface CreateUserRequest {
  /** The JSON body the platform's create call takes. */
  body: JsonObject
  /**
   * What a stored token must have been made from to be handed out again, stored beside it
   * (Dead Simple Chat: `request`, a hash of the whole request; CometChat: `uid`).
   */
  key: Record<string, string>
}

/** What one call of {@link postJson} is for and where it goes. */
export interface JsonCall {
  url: string | URL
  /** Besides `Content-Type` and `Accept` (CometChat's `apikey`). */
  headers?: Record<string, string>
  body: JsonObject
  /**
   * A refusal that is an answer, not a failure (CometChat's `ERR_UID_ALREADY_EXISTS`): then
   * {@link postJson} gives `{ tolerated: true }` instead of throwing.
   */
  tolerate?: (status: number, answer: unknown) => boolean
}

/** What the platform's create step is given. */
export interface CreateContext<S extends object> {
  settings: S
  /** The integration's secret named by {@link CreateUserOptions.secret}. */
  secret: string
  request: CreateUserRequest
  /**
   * The stored token was made from this same request and the platform refused it: a platform
   * that can renew a token without making the user again does so (CometChat's auth_tokens).
   */
  renew: boolean
  /** One POST to the platform, with the builder's timeout and error mapping. */
  post: (call: JsonCall) => Promise<{ answer?: unknown; tolerated?: true }>
}

/** How a platform's token is made and handed out. `S` is the platform's settings. */
export interface CreateUserOptions<S extends object> {
  /** The platform's name in logs and errors: `Dead Simple Chat`. */
  platform: string
  /** What is being made, in logs and errors: `user` (Dead Simple Chat), `token` (CometChat). */
  made: string
  /** The API's name in errors: `Dead Simple Chat's Create User API`. */
  api: string
  /** The KV namespaces' and seal context's stem: `deadsimplechat`. */
  store: string
  /** The name of the integration secret the calls use. */
  secret: string
  /** How long one call may take before the door gives up (502). */
  timeoutMs: number
  /** How long a claim holds: longer than every call of one creation and the store write after. */
  leaseMs: number
  /** The entries' plain-text token field from before secrets at rest, if there were any. */
  plaintextField?: string
  /** Fields of the stored entry inspect shows besides `external_id` and `created_at`. */
  shown: readonly string[]
  /** @throws {AccountIncomplete} a required field missing or unusable */
  request: (
    doc: JsonObject,
    account: Account,
    integration: LoadedIntegration<S>,
  ) => CreateUserRequest
  /**
   * Calls the platform: the new token and the answer's fields to store beside it.
   * @throws {PlatformUnavailable} an answer without a usable token
   */
  create: (ctx: CreateContext<S>) => Promise<{ token: string; fields?: Record<string, string> }>
  /** The issued token around the platform's token (its URL, HTML or script). */
  deliver: (token: string, settings: S) => IssuedToken
  /** What the dry run shows instead of calling: the call in words, the body, the snippet, notes. */
  preview: (
    body: JsonObject,
    settings: S,
  ) => { call: string; body: JsonObject; snippet: DryRun['snippet']; notes: string[] }
}

/** A member's token as the builder uses it: opened, with what is stored beside it. */
interface Stored {
  token: string
  /** The entry without its token: request fields, answer fields, external_id, created_at. */
  values: Record<string, unknown>
}

/** The create-user builder: the door's `issue`, `inspect`, `dryRun` and the type's hooks. */
export interface CreateUserBuilder<S extends object> {
  readonly kind: 'create-user'
  /**
   * The member's token: the stored one, or a new one made once across instances.
   * @throws {ConfigInvalid} the secret is not set where the server runs
   * @throws {AccountIncomplete} as the platform's request
   * @throws {PlatformUnavailable} the platform failed (nothing is stored then), or another instance held the claim too long
   */
  issue(
    account: Account,
    integration: LoadedIntegration<S>,
    deps: TokenDeps,
    options?: IssueOptions,
  ): Promise<IssuedToken>
  /**
   * The platform signs its tokens with its own key: inspect says which member a stored token
   * belongs to.
   * @throws {TokenInvalid} not a token this integration handed out (or since replaced)
   */
  inspect(token: string, integration: LoadedIntegration<S>, deps: TokenDeps): Promise<Inspected>
  /**
   * The request that would be sent (no secret in it); the platform is not called and nothing
   * is stored.
   * @throws {AccountIncomplete} as `issue`
   */
  dryRun(account: Account, integration: LoadedIntegration<S>): DryRun
  /** The stored tokens are forgotten with their account and resealed by `secrets rekey`. */
  hooks: Required<Pick<IntegrationTypeDefinition<S>, 'onAccountRemoved' | 'resealStored'>>
}

const tokenIndex = (token: string) => createHash('sha256').update(token).digest('base64url')

/**
 * One POST of JSON to a platform; its parsed answer. The URL may carry a secret (Dead Simple
 * Chat's `?auth=`), so fetch's own message never reaches ours.
 * @throws {PlatformUnavailable} unreachable, timed out, not 2xx (and not tolerated), or not JSON
 */
export async function postJson(
  deps: TokenDeps,
  api: string,
  timeoutMs: number,
  call: JsonCall,
): Promise<{ answer?: unknown; tolerated?: true }> {
  let res: Response
  try {
    res = await deps.fetch(call.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        ...call.headers,
      },
      body: JSON.stringify(call.body),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    throw new PlatformUnavailable(`${api} could not be reached`, { cause: err })
  }
  if (!res.ok) {
    if (call.tolerate) {
      const answer: unknown = await res.json().catch(() => undefined)
      if (call.tolerate(res.status, answer)) return { tolerated: true }
    } else await res.body?.cancel().catch(() => {})
    throw new PlatformUnavailable(`${api} answered HTTP ${res.status}`)
  }
  try {
    return { answer: (await res.json()) as unknown }
  } catch (err) {
    throw new PlatformUnavailable(`${api} answered something other than JSON`, { cause: err })
  }
}

/**
 * A create-user builder.
 * @example createUserBuilder<Settings>({ platform: 'CometChat', made: 'token', api: "CometChat's REST API", store: 'cometchat', secret: 'rest_api_key', timeoutMs: 10_000, leaseMs: 25_000, shown: ['uid'], request, create, deliver, preview })
 */
export function createUserBuilder<S extends object>(o: CreateUserOptions<S>): CreateUserBuilder<S> {
  const namespace = (integrationId: string) => `tokens:${o.store}:${integrationId}`
  const claimNamespace = (integrationId: string) => `tokens:${o.store}-claims:${integrationId}`
  // A waiter gives up after two leases (the winner's, and a taker-over's) and one more call.
  const claimWaitMs = 2 * o.leaseMs + o.timeoutMs
  const inFlight = new Map<string, Promise<Stored>>()

  /** The AAD context of a member's sealed token: it opens only in its own entry. */
  const tokenContext = (integrationId: string, accountId: string) =>
    `${o.store}:${integrationId}:${accountId}`

  const toEntry = (u: Stored, box: SecretBox, integrationId: string, accountId: string) => ({
    ...u.values,
    sealedToken: box.seal(u.token, tokenContext(integrationId, accountId)),
  })

  /**
   * The token of a KV value, opened; undefined for a value of no known shape.
   * @throws {SecretsKeyMissing} sealed under a key not configured here
   * @throws {SecretUnreadable} altered, or copied from another member's entry
   */
  function fromEntry(
    value: Record<string, unknown> | undefined,
    box: SecretBox,
    integrationId: string,
    accountId: string,
  ): Stored | undefined {
    if (!value) return undefined
    const { sealedToken, ...values } = value
    let token: unknown
    if (isSealed(sealedToken)) token = box.open(sealedToken, tokenContext(integrationId, accountId))
    else if (o.plaintextField !== undefined) token = value[o.plaintextField]
    if (typeof token !== 'string') return undefined
    if (o.plaintextField !== undefined) delete values[o.plaintextField]
    return { token, values }
  }

  /**
   * Seals the stored tokens of `accountIds` under the first key. Each is rewritten as itself
   * with its index, so a member's token stays the same.
   */
  async function resealStored(ctx: {
    kv: KvStore
    integrationId: string
    accountIds: readonly string[]
    secrets: SecretBox
    onlyPlaintext: boolean
  }): Promise<StoredResealCount> {
    const count: StoredResealCount = { sealed: 0, resealed: 0, current: 0 }
    const ns = namespace(ctx.integrationId)
    for (const accountId of ctx.accountIds) {
      const found = await ctx.kv.kvGet(ns, accountId)
      if (!found) continue
      const sealed = found.value.sealedToken
      const plain = !isSealed(sealed)
      if (!plain && (ctx.onlyPlaintext || !ctx.secrets.isStale(sealed))) {
        count.current++
        continue
      }
      const u = fromEntry(found.value, ctx.secrets, ctx.integrationId, accountId)
      if (!u) continue
      await ctx.kv.kvSet(ns, accountId, toEntry(u, ctx.secrets, ctx.integrationId, accountId), {
        indexes: { token: tokenIndex(u.token) },
      })
      if (plain) count.sealed++
      else count.resealed++
    }
    return count
  }

  /**
   * Makes the member's token once across instances (see the module doc), or waits for the
   * instance that is doing it.
   * @throws {PlatformUnavailable} the platform failed, or another instance held the claim for longer than claimWaitMs
   */
  async function claimAndCreate(
    deps: TokenDeps,
    integrationId: string,
    account: Account,
    key: Record<string, string>,
    usable: (u: Stored | undefined) => u is Stored,
    read: () => Promise<Stored | undefined>,
    make: () => Promise<Stored>,
  ): Promise<Stored> {
    const claims = claimNamespace(integrationId)
    const giveUpAt = performance.now() + claimWaitMs
    for (let round = 0; ; round++) {
      if (
        await deps.kv.kvSetIfAbsent(
          claims,
          account.id,
          { owner: randomUUID(), ...key },
          { ttlMs: o.leaseMs },
        )
      ) {
        try {
          // The previous holder may have stored the token and released the claim between our
          // last look and our claim: then it is there now, and no second user is made.
          const done = await read()
          if (usable(done)) return done
          const made = await make()
          await deps.kv.kvSet(
            namespace(integrationId),
            account.id,
            toEntry(made, deps.secrets, integrationId, account.id),
            { indexes: { token: tokenIndex(made.token) } },
          )
          return made
        } finally {
          await deps.kv.kvDelete(claims, account.id).catch(() => {}) // else the lease runs out
        }
      }
      if (round === 0)
        deps.log?.info(
          { integration: integrationId, account: account.id },
          `${o.platform}: another instance is creating this member's ${o.made}; waiting for it`,
        )
      if (performance.now() > giveUpAt)
        throw new PlatformUnavailable(
          `another instance is still creating this member's ${o.platform} ${o.made}; try again`,
        )
      await sleep(CLAIM_POLL_MS[Math.min(round, CLAIM_POLL_MS.length - 1)])
      const done = await read()
      if (usable(done)) return done
    }
  }

  return {
    kind: 'create-user',
    async issue(account, integration, deps, options = {}) {
      const id = integration.record.id
      const secret = integration.secret(o.secret)
      if (secret === undefined)
        throw new ConfigInvalid([
          {
            path: `integrations.${id}.secrets.${o.secret}`,
            message: 'is not set where the server runs',
          },
        ])
      const request = o.request(integration.mapping.apply(account), account, integration)
      const ns = namespace(id)
      const read = async () =>
        fromEntry((await deps.kv.kvGet(ns, account.id))?.value, deps.secrets, id, account.id)
      const sameRequest = (u: Stored) =>
        Object.entries(request.key).every(([k, v]) => u.values[k] === v)
      // The stored token serves unless it came from another request or the platform refused it.
      const usable = (u: Stored | undefined): u is Stored =>
        u !== undefined &&
        sameRequest(u) &&
        (options.rejectedToken === undefined || u.token !== options.rejectedToken)

      let stored = await read()
      if (!usable(stored)) {
        const renew = stored !== undefined && sameRequest(stored)
        const flight = `${id}\u0000${account.id}`
        let pending = inFlight.get(flight)
        if (!pending) {
          const make = async (): Promise<Stored> => {
            const made = await o.create({
              settings: integration.settings,
              secret,
              request,
              renew,
              post: (call) => postJson(deps, o.api, o.timeoutMs, call),
            })
            return {
              token: made.token,
              values: {
                ...made.fields,
                ...request.key,
                external_id: account.external_id,
                created_at: new Date(deps.now()).toISOString(),
              },
            }
          }
          pending = claimAndCreate(deps, id, account, request.key, usable, read, make).finally(() =>
            inFlight.delete(flight),
          )
          inFlight.set(flight, pending)
        }
        stored = await pending
      }
      return o.deliver(stored.token, integration.settings)
    },
    async inspect(token, integration, deps) {
      const id = integration.record.id
      const found = await deps.kv.kvFindBy(namespace(id), 'token', tokenIndex(token.trim()))
      const u = found ? fromEntry(found.entry.value, deps.secrets, id, found.key) : undefined
      if (!u || u.token !== token.trim()) throw new TokenInvalid()
      const payload: JsonObject = {}
      for (const f of [...o.shown, 'external_id', 'created_at'])
        payload[f] = u.values[f] as JsonObject[string]
      return { payload, expires_at: null, expired: false }
    },
    dryRun(account, integration) {
      const { body } = o.request(integration.mapping.apply(account), account, integration)
      const shown = o.preview(body, integration.settings)
      return {
        algorithm: shown.call,
        payload: shown.body,
        signed: null,
        signature: null,
        parts: { request_body: JSON.stringify(shown.body) },
        token: null,
        snippet: shown.snippet,
        expires_at: null,
        notes: shown.notes,
      }
    },
    hooks: {
      // The user on the platform's side stays (neither documents a deletion); ours is forgotten.
      onAccountRemoved: async ({ kv, integrationId, account }) => {
        await kv.kvDelete(namespace(integrationId), account.id)
      },
      resealStored,
    },
  }
}
