/**
 * @module tokens/platforms/cometchat
 * CometChat: the server creates the member's CometChat user once and hands out an auth token for
 * the client SDK's `CometChat.login(authToken)` (CometChat's REST API v3,
 * cometchat.com/docs/rest-api/users/create and cometchat.com/docs/rest-api/auth-tokens/create):
 *
 * - Create user: `POST https://{appId}.api-{region}.cometchat.io/v3/users`, header `apikey` (a
 *   REST API key with fullAccess scope), JSON `uid` (required; "alphanumeric with underscore and
 *   hyphen", at most 100, lower-cased by CometChat), `name` (required, at most 100), `avatar`,
 *   `link`, `role`, `metadata`, `tags`, and `withAuthToken: true`, answered by
 *   `{"data": {…, "authToken"}}`;
 * - Create auth token: `POST …/v3/users/{uid}/auth_tokens`, answered by
 *   `{"data": {"uid", "authToken", "createdAt"}}` — used when the user already exists there
 *   (`ERR_UID_ALREADY_EXISTS`: made by hand, or by an earlier install) and when the client
 *   reports that CometChat refused the stored token (`rejected_token`).
 *
 * As Dead Simple Chat's access token (deadsimplechat.ts): the auth token is stored per member in
 * the KV store (namespace `tokens:cometchat:<integration>`, key = account id), sealed
 * (secrets/box.ts, bound to the integration and account), with a SHA-256 index for inspect; it
 * is forgotten when the account is deleted. The first token of a member is made once across every
 * instance on the store: concurrent logins in one process share one call, and across processes a
 * claim (set-if-absent with a lease) lets one instance call CometChat while the others wait for
 * the stored token. A member whose mapped profile changed keeps the token; the profile is not
 * pushed (CometChat's user keeps the name it was created with until an operator changes it).
 */
import { createHash, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import type { Account, JsonObject } from '../../accounts/types.ts'
import {
  AccountIncomplete,
  ConfigInvalid,
  PlatformUnavailable,
  TokenInvalid,
} from '../../errors/index.ts'
import type { LoadedIntegration } from '../../integrations/registry.ts'
import type { IntegrationTypeDefinition, StoredResealCount } from '../../integrations/types.ts'
import { httpUrl } from '../../integrations/schemas.ts'
import { isSealed, type SecretBox } from '../../secrets/index.ts'
import type { KvStore } from '../../store/ports.ts'
import { tokenSheet } from '../connection.ts'
import { isHttpUrl, optionalText, requireText } from '../fields.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'
import type { DryRun, Inspected, IssueOptions, IssuedToken, TokenDeps } from '../types.ts'

/** How long one call to CometChat may take before the door gives up (502). */
export const COMETCHAT_TIMEOUT_MS = 10_000
/** A claim to create a member's token holds this long: two calls and the store write after. */
export const COMETCHAT_LEASE_MS = 25_000
const CLAIM_POLL_MS = [25, 50, 100, 200, 250] as const
const CLAIM_WAIT_MS = 2 * COMETCHAT_LEASE_MS + COMETCHAT_TIMEOUT_MS

const settings = z.strictObject({
  /** The app's App ID (Dashboard → your app → Credentials). */
  app_id: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'must be the App ID from the dashboard'),
  /** The app's region, part of the API host. */
  region: z
    .string()
    .regex(/^[a-z]{2,8}$/, 'must be the region code (us, eu, in)')
    .default('us'),
  /**
   * The REST API's base URL; default `https://{app_id}.api-{region}.cometchat.io/v3` (CometChat's
   * servers entry). Set only for a proxy or a test stand-in.
   */
  api_base_url: httpUrl.optional(),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

/** The `cometchat` integration type: settings, secrets, default Create User body, connection sheet. */
export const cometchatType: IntegrationTypeDefinition<Settings> = {
  type: 'cometchat',
  description: 'CometChat auth token from its REST API (create user, then create auth token)',
  guide: {
    title: 'CometChat — auth token',
    platform: 'CometChat',
    fields: {
      app_id: { label: 'App ID', help: 'Dashboard → your app → Credentials → App ID' },
      region: { label: 'Region', help: 'Dashboard → your app → Credentials → Region (us, eu, in)' },
      rest_api_key: {
        label: 'REST API Key',
        help: 'Dashboard → your app → Credentials → REST API Keys (scope fullAccess)',
      },
    },
  },
  settings,
  // Create User's body (users/create): the member's id as uid, a display name, the picture.
  defaultMapping: {
    uid: 'external_id',
    name: 'nickname',
    avatar: 'picture',
  },
  secrets: {
    rest_api_key: {
      description: 'REST API Key with fullAccess scope (Dashboard → Credentials)',
      required: true,
      check: printable,
    },
    api_key: apiKeySecret,
  },
  connection: (integration, issuer) =>
    tokenSheet(integration, issuer, {
      platform: 'CometChat (auth token)',
      paste_into_platform: [],
      copy_from_platform: [
        { setting: 'Dashboard → Credentials → REST API Keys (fullAccess)', secret: 'rest_api_key' },
      ],
      notes: [
        "Nothing secret leaves the server: sso-bridge calls CometChat with the REST API key and hands out only each member's auth token.",
        'In the page: CometChat.init(appID, …) then CometChat.login(token) with the "token" of the browser token URL.',
        `API: ${apiBase(integration.settings)}`,
      ],
    }),
  onAccountRemoved: ({ kv, integrationId, account }) =>
    kv.kvDelete(namespace(integrationId), account.id).then(() => {}),
  resealStored: (ctx) => resealStoredTokens(ctx),
}

/** The REST API's base URL of an integration (see `api_base_url`). */
export function apiBase(s: Settings): string {
  return (s.api_base_url ?? `https://${s.app_id}.api-${s.region}.cometchat.io/v3`).replace(
    /\/+$/,
    '',
  )
}

const namespace = (integrationId: string) => `tokens:cometchat:${integrationId}`
const claimNamespace = (integrationId: string) => `tokens:cometchat-claims:${integrationId}`
const tokenIndex = (t: string) => createHash('sha256').update(t).digest('base64url')
const tokenContext = (integrationId: string, accountId: string) =>
  `cometchat:${integrationId}:${accountId}`
const inFlight = new Map<string, Promise<Stored>>()

/** A member's token as the door uses it (opened). */
interface Stored {
  authToken: string
  uid: string
  external_id: string
  created_at: string
}

function toEntry(u: Stored, box: SecretBox, integrationId: string, accountId: string) {
  const { authToken, ...rest } = u
  return { ...rest, sealedToken: box.seal(authToken, tokenContext(integrationId, accountId)) }
}

function fromEntry(
  value: Record<string, unknown> | undefined,
  box: SecretBox,
  integrationId: string,
  accountId: string,
): Stored | undefined {
  if (!value || !isSealed(value.sealedToken)) return undefined
  return {
    authToken: box.open(value.sealedToken, tokenContext(integrationId, accountId)),
    uid: String(value.uid),
    external_id: String(value.external_id),
    created_at: String(value.created_at),
  }
}

async function resealStoredTokens(ctx: {
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
    const sealed = found?.value.sealedToken
    if (!found || !isSealed(sealed)) continue
    // Stored sealed from the start: only a key rotation has anything to do.
    if (ctx.onlyPlaintext || !ctx.secrets.isStale(sealed)) {
      count.current++
      continue
    }
    const u = fromEntry(found.value, ctx.secrets, ctx.integrationId, accountId)!
    await ctx.kv.kvSet(ns, accountId, toEntry(u, ctx.secrets, ctx.integrationId, accountId), {
      indexes: { token: tokenIndex(u.authToken) },
    })
    count.resealed++
  }
  return count
}

/**
 * The Create User body of an account: `uid` (alpha-dash, at most 100, lower-cased as CometChat
 * stores it) and `name` (at most 100; the username when the mapping gives none) are required;
 * `avatar` and `link` only as http(s) URLs of at most 3000 characters.
 * @throws {AccountIncomplete}
 */
export function createUserBody(
  doc: JsonObject,
  account: Account,
  integrationId: string,
): JsonObject {
  const uid = requireText(doc, 'uid', integrationId, 100)
  if (!/^[A-Za-z0-9_-]+$/.test(uid))
    throw new AccountIncomplete(
      integrationId,
      'uid',
      'invalid',
      'must be letters, digits, "_" and "-" only (CometChat uid)',
    )
  doc.uid = uid.toLowerCase()
  if (optionalText(doc, 'name') === undefined && account.username) doc.name = account.username
  doc.name = requireText(doc, 'name', integrationId, 100)
  for (const f of ['avatar', 'link'])
    if (f in doc && !(typeof doc[f] === 'string' && isHttpUrl(doc[f]) && doc[f].length <= 3000))
      delete doc[f]
  delete doc.withAuthToken
  return doc
}

/**
 * One call to CometChat; its `data` object.
 * @throws {PlatformUnavailable} unreachable, timed out, not 2xx (but `tolerate`), or not JSON
 */
async function call(
  deps: TokenDeps,
  key: string,
  url: string,
  body: JsonObject,
  tolerate?: (status: number, answer: unknown) => boolean,
): Promise<{ data?: Record<string, unknown>; tolerated?: true }> {
  let res: Response
  try {
    res = await deps.fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', apikey: key },
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(COMETCHAT_TIMEOUT_MS),
    })
  } catch (err) {
    throw new PlatformUnavailable("CometChat's REST API could not be reached", { cause: err })
  }
  const answer: unknown = await res.json().catch(() => undefined)
  if (!res.ok) {
    if (tolerate?.(res.status, answer)) return { tolerated: true }
    throw new PlatformUnavailable(`CometChat's REST API answered HTTP ${res.status}`)
  }
  const data = (answer as { data?: unknown } | undefined)?.data
  return typeof data === 'object' && data !== null ? { data: data as Record<string, unknown> } : {}
}

const authTokenOf = (data: Record<string, unknown> | undefined): string => {
  const t = data?.authToken
  if (typeof t !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(t))
    throw new PlatformUnavailable("CometChat's REST API answered without an authToken")
  return t
}

/**
 * A new auth token of the member: Create User with `withAuthToken`, or, when the user exists
 * (or `fresh` asks for a new token of a user we made), Create Auth Token.
 */
async function newToken(
  s: Settings,
  key: string,
  body: JsonObject,
  deps: TokenDeps,
  fresh: boolean,
): Promise<string> {
  const base = apiBase(s)
  const uid = String(body.uid)
  if (!fresh) {
    const created = await call(
      deps,
      key,
      `${base}/users`,
      { ...body, withAuthToken: true },
      (status, answer) =>
        status < 500 &&
        (answer as { error?: { code?: unknown } } | undefined)?.error?.code ===
          'ERR_UID_ALREADY_EXISTS',
    )
    if (!created.tolerated) return authTokenOf(created.data)
  }
  const made = await call(deps, key, `${base}/users/${encodeURIComponent(uid)}/auth_tokens`, {})
  return authTokenOf(made.data)
}

/**
 * The member's auth token: the stored one, or a new one (see the module doc).
 * @throws {AccountIncomplete} no usable uid or name
 * @throws {PlatformUnavailable} CometChat failed (nothing is stored then)
 */
export async function issue(
  account: Account,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
  options: IssueOptions = {},
): Promise<IssuedToken> {
  const key = integration.secret('rest_api_key')
  if (key === undefined)
    throw new ConfigInvalid([
      {
        path: `integrations.${integration.record.id}.secrets.rest_api_key`,
        message: 'is not set where the server runs',
      },
    ])
  const id = integration.record.id
  const body = createUserBody(integration.mapping.apply(account), account, id)
  const ns = namespace(id)
  const read = async () =>
    fromEntry((await deps.kv.kvGet(ns, account.id))?.value, deps.secrets, id, account.id)
  const usable = (u: Stored | undefined): u is Stored =>
    u !== undefined &&
    u.uid === body.uid &&
    (options.rejectedToken === undefined || u.authToken !== options.rejectedToken)

  let stored = await read()
  // A token we made for this uid before (refused by CometChat now): a new one, no new user.
  const renew = stored !== undefined && stored.uid === body.uid
  if (!usable(stored)) {
    const flight = `${id}\u0000${account.id}`
    let pending = inFlight.get(flight)
    if (!pending) {
      pending = claimAndCreate(deps, id, account, usable, read, async () => {
        const authToken = await newToken(integration.settings, key, body, deps, renew)
        return {
          authToken,
          uid: String(body.uid),
          external_id: account.external_id,
          created_at: new Date(deps.now()).toISOString(),
        }
      }).finally(() => inFlight.delete(flight))
      inFlight.set(flight, pending)
    }
    stored = await pending
  }
  const t = stored.authToken
  return {
    token: t,
    url: null,
    html: null,
    expires_at: null,
    script: `CometChat.login(${JSON.stringify(t).replace(/</g, '\\u003c')})`,
  }
}

/**
 * Makes the member's token once across instances: the claim's winner calls CometChat and stores
 * the token; the others wait for it, and take over when the claim is released or its lease ends.
 * @throws {PlatformUnavailable} CometChat failed, or another instance held the claim too long
 */
async function claimAndCreate(
  deps: TokenDeps,
  integrationId: string,
  account: Account,
  usable: (u: Stored | undefined) => u is Stored,
  read: () => Promise<Stored | undefined>,
  make: () => Promise<Stored>,
): Promise<Stored> {
  const claims = claimNamespace(integrationId)
  const giveUpAt = performance.now() + CLAIM_WAIT_MS
  for (let round = 0; ; round++) {
    if (
      await deps.kv.kvSetIfAbsent(
        claims,
        account.id,
        { owner: randomUUID() },
        { ttlMs: COMETCHAT_LEASE_MS },
      )
    ) {
      try {
        // The previous holder may have stored it between our last look and our claim.
        const done = await read()
        if (usable(done)) return done
        const made = await make()
        await deps.kv.kvSet(
          namespace(integrationId),
          account.id,
          toEntry(made, deps.secrets, integrationId, account.id),
          { indexes: { token: tokenIndex(made.authToken) } },
        )
        return made
      } finally {
        await deps.kv.kvDelete(claims, account.id).catch(() => {})
      }
    }
    if (round === 0)
      deps.log?.info(
        { integration: integrationId, account: account.id },
        "CometChat: another instance is creating this member's token; waiting for it",
      )
    if (performance.now() > giveUpAt)
      throw new PlatformUnavailable(
        "another instance is still creating this member's CometChat token; try again",
      )
    await sleep(CLAIM_POLL_MS[Math.min(round, CLAIM_POLL_MS.length - 1)])
    const done = await read()
    if (usable(done)) return done
  }
}

/**
 * CometChat's tokens are its own: inspect says which member a stored auth token belongs to.
 * @throws {TokenInvalid} not a token this integration handed out (or since replaced)
 */
export async function inspect(
  token: string,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
): Promise<Inspected> {
  const id = integration.record.id
  const found = await deps.kv.kvFindBy(namespace(id), 'token', tokenIndex(token.trim()))
  const u = found ? fromEntry(found.entry.value, deps.secrets, id, found.key) : undefined
  if (!u || u.authToken !== token.trim()) throw new TokenInvalid()
  return {
    payload: { uid: u.uid, external_id: u.external_id, created_at: u.created_at },
    expires_at: null,
    expired: false,
  }
}

/**
 * The dry run: the Create User request sso-bridge would send (the REST API key left out), and
 * the script the token goes into. CometChat is not called and nothing is stored.
 * @throws {AccountIncomplete} as `issue`
 */
export function dryRun(account: Account, integration: LoadedIntegration<Settings>): DryRun {
  const body = {
    ...createUserBody(integration.mapping.apply(account), account, integration.record.id),
    withAuthToken: true,
  }
  return {
    algorithm: `Create User API: POST ${apiBase(integration.settings)}/users (header apikey: <rest_api_key>)`,
    payload: body,
    signed: null,
    signature: null,
    parts: { request_body: JSON.stringify(body) },
    token: null,
    snippet: { url: null, html: null, script: 'CometChat.login(AUTH_TOKEN)' },
    expires_at: null,
    notes: [
      'AUTH_TOKEN stands for the authToken CometChat returns; CometChat signs it itself.',
      'Dry run: CometChat was not called and nothing was stored. A real token request creates the user once (or asks …/users/{uid}/auth_tokens when it exists) and reuses the stored token.',
    ],
  }
}
