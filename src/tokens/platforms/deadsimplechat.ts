/**
 * @module tokens/platforms/deadsimplechat
 * Dead Simple Chat's "SSO using Auth Token": the server calls Create User once per account and
 * keeps the returned accessToken (../shared/platforms/deadsimplechat-sso-auth-token.txt, and the
 * Create User reference it links to).
 *
 * Create User: `POST <api_base_url>/consumer/api/v1/user?auth=<private_key>`, JSON body — the
 * mapped document (default `username`, `isModerator` from the rank, `externalUserId`) plus
 * `chatRoom` when `room_id` is set — answered by `{"accessToken", "username", "userId"}`.
 *
 * The persistent session the doc describes: `accessToken` and `userId` are stored per account in
 * the KV store (namespace `tokens:deadsimplechat:<integration>`, key = account id, no expiry) and
 * handed out again on later logins. The accessToken is stored sealed (`sealedToken`, secrets/box.ts,
 * bound to the integration and account); an entry from before secrets at rest holds it in plain
 * text (`accessToken`), is read as it is, and is sealed by `secrets rekey` (resealStored below).
 * The `token` index is a SHA-256 of the accessToken, for inspect: it reveals no token. The user is created again when
 * - there is none yet, or the stored one was made from another request (a changed username,
 *   moderator flag, room or API base URL: a demoted moderator must not keep a moderator token);
 * - the caller reports that the chat refused the stored token (`rejectedToken` equal to it; a
 *   stale report for an already replaced token changes nothing).
 *
 * Exactly one Create User call per needed user, across every instance on the database: Dead
 * Simple Chat's API can delete no user, so a second call leaves a duplicate platform user behind
 * and hands the member two different tokens. Concurrent logins in one process share one call;
 * across processes the creation is claimed through the store (set-if-absent on
 * `tokens:deadsimplechat-claims:<integration>`/<account id>, a lease of CREATE_USER_LEASE_MS).
 * The winner calls Create User, stores the user, then releases the claim; the others poll the
 * stored user until it appears. A winner that dies or fails mid-call releases nothing or its
 * claim respectively: when the claim is gone (released, or its lease ran out), one waiter takes
 * it over and calls Create User itself. The lease outlives the call's own timeout, so a live
 * winner is never overtaken.
 */
import { createHash, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import type { Account, JsonObject } from '../../accounts/types.ts'
import { ConfigInvalid, PlatformUnavailable, TokenInvalid } from '../../errors/index.ts'
import type { LoadedIntegration } from '../../integrations/registry.ts'
import type { IntegrationTypeDefinition, StoredResealCount } from '../../integrations/types.ts'
import { isSealed, type SecretBox } from '../../secrets/index.ts'
import type { KvStore } from '../../store/ports.ts'
import { httpUrl } from '../../integrations/schemas.ts'
import { tokenSheet } from '../connection.ts'
import { requireText } from '../fields.ts'
import { escapeHtml } from '../html.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'
import type { Inspected, IssueOptions, IssuedToken, TokenDeps } from '../types.ts'

/** Create User's path under the API base URL. */
export const CREATE_USER_PATH = '/consumer/api/v1/user'
/** How long a Create User call may take before the door gives up (502). */
export const CREATE_USER_TIMEOUT_MS = 10_000
/**
 * How long a claim to create a member's user holds (see the module doc): longer than the call's
 * timeout plus the store write after it, so a live winner is never overtaken.
 */
export const CREATE_USER_LEASE_MS = 15_000
/** Pauses between looks at the stored user while another instance creates it (the last repeats). */
const CLAIM_POLL_MS = [25, 50, 100, 200, 250] as const
/** A waiter gives up after this long (two leases: the winner's, and a taker-over's). */
const CLAIM_WAIT_MS = 2 * CREATE_USER_LEASE_MS + CREATE_USER_TIMEOUT_MS

const settings = z.strictObject({
  api_base_url: httpUrl.default('https://api.deadsimplechat.com'),
  chat_room_url: httpUrl,
  /**
   * The chat room's id, sent as Create User's `chatRoom`: a moderator then moderates this room
   * only. Without it, Dead Simple Chat makes a moderator "the moderator of all the chatRooms".
   */
  room_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be the room id from the chat room URL')
    .optional(),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

/** The `deadsimplechat` integration type: settings, secrets, default Create User body, connection sheet. */
export const deadsimplechatType: IntegrationTypeDefinition<Settings> = {
  type: 'deadsimplechat',
  description: 'Dead Simple Chat access token from its Create User API',
  guide: {
    title: 'Dead Simple Chat — SSO using Auth Token',
    platform: 'Dead Simple Chat',
    fields: {
      chat_room_url: {
        label: 'Chat Room URL',
        help: 'Dashboard → Get Embed Code next to the room: the src of the iFrame code',
      },
      room_id: { label: 'Chat room id', help: 'makes moderators moderators of this room only' },
      api_base_url: { label: 'API base URL' },
      private_key: { label: 'API Private Key', help: 'Dashboard → Developer → API Private Key' },
    },
    connection: {
      start:
        "In Dead Simple Chat, Dashboard → Developer: copy the API Private Key into this integration's secrets; nothing is pasted into Dead Simple Chat.",
      labels: { browser_token_url: 'Browser token URL', token_api: 'Token API' },
    },
  },
  settings,
  // Create User API body (deadsimplechat-sso-auth-token.txt); moderators log in as moderators.
  defaultMapping: {
    username: 'username',
    isModerator: {
      path: 'rank',
      transforms: [{ map: { moderator: true, manager: true, owner: true }, fallback: false }],
    },
    externalUserId: 'external_id',
  },
  secrets: {
    private_key: {
      description: 'API Private Key from Dashboard → Developer',
      required: true,
      check: printable,
    },
    api_key: apiKeySecret,
  },
  connection: (integration, issuer) =>
    tokenSheet(integration, issuer, {
      platform: 'Dead Simple Chat (SSO using Auth Token)',
      paste_into_platform: [],
      copy_from_platform: [
        { setting: 'Dashboard → Developer → API Private Key', secret: 'private_key' },
      ],
      notes: [
        "Nothing secret leaves the server: sso-bridge calls Create User with the private key and hands out only each member's accessToken.",
        'Embed the "html" of a token (the chat room URL with accessToken=…); the same accessToken is reused on later logins.',
        ...(integration.settings.room_id
          ? []
          : [
              'Set settings.room_id to make moderators moderators of this room only (otherwise of all rooms).',
            ]),
      ],
    }),
  // The user on Dead Simple Chat's side stays (its API documents no deletion); ours is forgotten.
  onAccountRemoved: ({ kv, integrationId, account }) =>
    forgetStoredUser(kv, integrationId, account.id),
  resealStored: (ctx) => resealStoredUsers(ctx),
}

/** A member's user as the door uses it (the accessToken opened). */
interface StoredUser {
  accessToken: string
  userId: string
  /** Hash of the Create User request this user came from. */
  request: string
  external_id: string
  created_at: string
}

/**
 * The KV value: the accessToken sealed (`sealedToken`), or in plain text (`accessToken`) in an
 * entry written before secrets at rest.
 */
interface StoredEntry {
  sealedToken?: string
  accessToken?: string
  userId: string
  request: string
  external_id: string
  created_at: string
  [k: string]: unknown
}

/** The AAD context of a member's sealed accessToken: it opens only in its own entry. */
const tokenContext = (integrationId: string, accountId: string) =>
  `deadsimplechat:${integrationId}:${accountId}`

/** The KV value of `user`, its accessToken sealed. */
function toEntry(
  user: StoredUser,
  box: SecretBox,
  integrationId: string,
  accountId: string,
): StoredEntry {
  const { accessToken, ...rest } = user
  return { ...rest, sealedToken: box.seal(accessToken, tokenContext(integrationId, accountId)) }
}

/**
 * The user of a KV value, its accessToken opened; undefined for a value of no known shape.
 * @throws {SecretsKeyMissing} sealed under a key not configured here
 * @throws {SecretUnreadable} altered, or copied from another member's entry
 */
function fromEntry(
  value: Record<string, unknown> | undefined,
  box: SecretBox,
  integrationId: string,
  accountId: string,
): StoredUser | undefined {
  if (!value) return undefined
  const e = value as StoredEntry
  const accessToken = isSealed(e.sealedToken)
    ? box.open(e.sealedToken, tokenContext(integrationId, accountId))
    : e.accessToken
  if (typeof accessToken !== 'string') return undefined
  return {
    accessToken,
    userId: e.userId,
    request: e.request,
    external_id: e.external_id,
    created_at: e.created_at,
  }
}

/**
 * Seals the stored accessTokens of `accountIds` under the first key (see
 * IntegrationTypeDefinition.resealStored). Each is rewritten as itself with its index, so a
 * member's token stays the same.
 */
async function resealStoredUsers(ctx: {
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
    const e = found.value as StoredEntry
    const plain = !isSealed(e.sealedToken)
    if (!plain && (ctx.onlyPlaintext || !ctx.secrets.isStale(e.sealedToken!))) {
      count.current++
      continue
    }
    const user = fromEntry(found.value, ctx.secrets, ctx.integrationId, accountId)
    if (!user) continue
    await ctx.kv.kvSet(ns, accountId, toEntry(user, ctx.secrets, ctx.integrationId, accountId), {
      indexes: { token: tokenIndex(user.accessToken) },
    })
    if (plain) count.sealed++
    else count.resealed++
  }
  return count
}

const namespace = (integrationId: string) => `tokens:deadsimplechat:${integrationId}`
const claimNamespace = (integrationId: string) => `tokens:deadsimplechat-claims:${integrationId}`

/**
 * Forgets the user stored for an account (the internal id) under integration `integrationId`:
 * for a deleted account. The user on Dead Simple Chat's side stays: its API documents no deletion.
 */
async function forgetStoredUser(
  kv: KvStore,
  integrationId: string,
  accountId: string,
): Promise<void> {
  await kv.kvDelete(namespace(integrationId), accountId)
}
const tokenIndex = (accessToken: string) =>
  createHash('sha256').update(accessToken).digest('base64url')
const inFlight = new Map<string, Promise<StoredUser>>()

/** The Create User body for an account. @throws {AccountIncomplete} no username */
export function createUserBody(
  doc: JsonObject,
  integration: LoadedIntegration<Settings>,
): JsonObject {
  const s = integration.settings
  doc.username = requireText(doc, 'username', integration.record.id)
  doc.isModerator = doc.isModerator === true
  if (
    'externalUserId' in doc &&
    typeof doc.externalUserId !== 'string' &&
    typeof doc.externalUserId !== 'number'
  )
    delete doc.externalUserId
  delete doc.chatRoom
  if (s.room_id !== undefined) doc.chatRoom = s.room_id
  return doc
}

/** `chat_room_url` with `accessToken=<token>` (step 4 of the doc). */
export function chatRoomUrl(chatRoom: string, accessToken: string): string {
  const u = new URL(chatRoom)
  u.searchParams.set('accessToken', accessToken)
  return u.href
}

/** The doc's embed code around a URL. */
export const chatRoomHtml = (url: string): string =>
  `<iframe src="${escapeHtml(url)}" width="100%" height="600px"></iframe>`

/**
 * Calls Create User.
 * @throws {PlatformUnavailable} unreachable, timed out, not 2xx, or an answer without accessToken and userId
 */
async function createUser(
  s: Settings,
  privateKey: string,
  body: JsonObject,
  deps: TokenDeps,
): Promise<{ accessToken: string; userId: string }> {
  const url = new URL(`${s.api_base_url.replace(/\/+$/, '')}${CREATE_USER_PATH}`)
  url.searchParams.set('auth', privateKey)
  let res: Response
  try {
    res = await deps.fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(CREATE_USER_TIMEOUT_MS),
    })
  } catch (err) {
    // The URL carries the private key: never put it (or fetch's message) in ours.
    throw new PlatformUnavailable("Dead Simple Chat's Create User API could not be reached", {
      cause: err,
    })
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {})
    throw new PlatformUnavailable(`Dead Simple Chat's Create User API answered HTTP ${res.status}`)
  }
  let answer: unknown
  try {
    answer = await res.json()
  } catch (err) {
    throw new PlatformUnavailable(
      "Dead Simple Chat's Create User API answered something other than JSON",
      { cause: err },
    )
  }
  const { accessToken, userId } = (answer ?? {}) as { accessToken?: unknown; userId?: unknown }
  if (
    typeof accessToken !== 'string' ||
    !/^[\x21-\x7e]{1,8192}$/.test(accessToken) ||
    typeof userId !== 'string' ||
    userId === '' ||
    userId.length > 256
  ) {
    throw new PlatformUnavailable(
      "Dead Simple Chat's Create User API answered without an accessToken and userId",
    )
  }
  return { accessToken, userId }
}

interface Creation {
  settings: Settings
  privateKey: string
  body: JsonObject
  request: string
  usable: (u: StoredUser | undefined) => u is StoredUser
  read: () => Promise<StoredUser | undefined>
}

/**
 * Creates the member's user once across instances (see the module doc), or waits for the
 * instance that is doing it.
 * @throws {PlatformUnavailable} Create User failed, or another instance held the claim for longer than CLAIM_WAIT_MS
 */
async function claimAndCreate(
  account: Account,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
  c: Creation,
): Promise<StoredUser> {
  const ns = namespace(integration.record.id)
  const claims = claimNamespace(integration.record.id)
  const giveUpAt = performance.now() + CLAIM_WAIT_MS
  for (let round = 0; ; round++) {
    if (
      await deps.kv.kvSetIfAbsent(
        claims,
        account.id,
        { owner: randomUUID(), request: c.request },
        { ttlMs: CREATE_USER_LEASE_MS },
      )
    ) {
      try {
        // The previous holder may have stored the user and released the claim between our
        // last look and our claim: then it is there now, and no second user is made.
        const done = await c.read()
        if (c.usable(done)) return done
        const created = await createUser(c.settings, c.privateKey, c.body, deps)
        const stored: StoredUser = {
          ...created,
          request: c.request,
          external_id: account.external_id,
          created_at: new Date(deps.now()).toISOString(),
        }
        await deps.kv.kvSet(
          ns,
          account.id,
          toEntry(stored, deps.secrets, integration.record.id, account.id),
          { indexes: { token: tokenIndex(created.accessToken) } },
        )
        return stored
      } finally {
        await deps.kv.kvDelete(claims, account.id).catch(() => {}) // else the lease runs out
      }
    }
    if (round === 0)
      deps.log?.info(
        { integration: integration.record.id, account: account.id },
        "Dead Simple Chat: another instance is creating this member's user; waiting for it",
      )
    if (performance.now() > giveUpAt) {
      throw new PlatformUnavailable(
        "another instance is still creating this member's Dead Simple Chat user; try again",
      )
    }
    await sleep(CLAIM_POLL_MS[Math.min(round, CLAIM_POLL_MS.length - 1)])
    const done = await c.read()
    if (c.usable(done)) return done
  }
}

/**
 * The member's accessToken: the stored one, or a new user's (see the module doc).
 * @throws {AccountIncomplete} no username
 * @throws {PlatformUnavailable} Create User failed (nothing is stored then)
 */
export async function issue(
  account: Account,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
  options: IssueOptions = {},
): Promise<IssuedToken> {
  const privateKey = integration.secret('private_key')
  if (privateKey === undefined) {
    throw new ConfigInvalid([
      {
        path: `integrations.${integration.record.id}.secrets.private_key`,
        message: 'is not set where the server runs',
      },
    ])
  }
  const s = integration.settings
  const body = createUserBody(integration.mapping.apply(account), integration)
  const request = createHash('sha256')
    .update(JSON.stringify([s.api_base_url, body]))
    .digest('base64url')
  const ns = namespace(integration.record.id)

  // The stored user serves unless it came from another request or the chat refused it.
  const usable = (u: StoredUser | undefined): u is StoredUser =>
    u !== undefined &&
    u.request === request &&
    (options.rejectedToken === undefined || u.accessToken !== options.rejectedToken)
  const read = async () =>
    fromEntry(
      (await deps.kv.kvGet(ns, account.id))?.value,
      deps.secrets,
      integration.record.id,
      account.id,
    )

  let user = await read()
  if (!usable(user)) {
    const flight = `${integration.record.id}\u0000${account.id}`
    let pending = inFlight.get(flight)
    if (!pending) {
      pending = claimAndCreate(account, integration, deps, {
        settings: s,
        privateKey,
        body,
        request,
        usable,
        read,
      }).finally(() => inFlight.delete(flight))
      inFlight.set(flight, pending)
    }
    user = await pending
  }
  const url = chatRoomUrl(s.chat_room_url, user.accessToken)
  return { token: user.accessToken, url, html: chatRoomHtml(url), expires_at: null }
}

/**
 * Dead Simple Chat signs its tokens with its own key, so there is nothing to decrypt: inspect
 * says which member a stored accessToken belongs to.
 * @throws {TokenInvalid} not an accessToken this integration handed out (or since replaced)
 */
export async function inspect(
  token: string,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
): Promise<Inspected> {
  const found = await deps.kv.kvFindBy(
    namespace(integration.record.id),
    'token',
    tokenIndex(token.trim()),
  )
  const user = found
    ? fromEntry(found.entry.value, deps.secrets, integration.record.id, found.key)
    : undefined
  if (!user || user.accessToken !== token.trim()) throw new TokenInvalid()
  return {
    payload: { userId: user.userId, external_id: user.external_id, created_at: user.created_at },
    expires_at: null,
    expired: false,
  }
}
