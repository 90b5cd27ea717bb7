/**
 * @module tokens/platforms/deadsimplechat
 * Dead Simple Chat's "SSO using Auth Token", as data around the create-user builder
 * (builders/create-user.ts): the server calls Create User once per account and keeps the
 * returned accessToken (../shared/platforms/deadsimplechat-sso-auth-token.txt, and the Create
 * User reference it links to).
 *
 * Create User: `POST <api_base_url>/consumer/api/v1/user?auth=<private_key>`, JSON body — the
 * mapped document (default `username`, `isModerator` from the rank, `externalUserId`) plus
 * `chatRoom` when `room_id` is set — answered by `{"accessToken", "username", "userId"}`.
 *
 * The persistent session the doc describes: `accessToken` and `userId` are stored per account
 * (namespace `tokens:deadsimplechat:<integration>`, key = account id, no expiry; the
 * accessToken sealed) and handed out again on later logins. An entry from before secrets at
 * rest holds it in plain text (`accessToken`), is read as it is, and is sealed by `secrets
 * rekey`. The user is created again when
 * - there is none yet, or the stored one was made from another request (`request`, a hash of
 *   the API base URL and the body: a changed username, moderator flag, room or API base URL — a
 *   demoted moderator must not keep a moderator token);
 * - the caller reports that the chat refused the stored token (`rejectedToken` equal to it).
 *
 * Exactly one Create User call per needed user, across every instance on the database (the
 * builder's claim, `tokens:deadsimplechat-claims:<integration>`): Dead Simple Chat's API can
 * delete no user, so a second call leaves a duplicate platform user behind and hands the member
 * two different tokens.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { JsonObject } from '../../accounts/types.ts'
import { PlatformUnavailable } from '../../errors/index.ts'
import type { LoadedIntegration } from '../../integrations/registry.ts'
import { httpUrl } from '../../integrations/schemas.ts'
import { createUserBuilder } from '../builders/create-user.ts'
import { defineCreateUserPlatform } from '../definition.ts'
import { requireText } from '../fields.ts'
import { escapeHtml } from '../html.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'

/** Create User's path under the API base URL. */
export const CREATE_USER_PATH = '/consumer/api/v1/user'
/** How long a Create User call may take before the door gives up (502). */
export const CREATE_USER_TIMEOUT_MS = 10_000
/**
 * How long a claim to create a member's user holds: longer than the call's timeout plus the
 * store write after it, so a live winner is never overtaken.
 */
export const CREATE_USER_LEASE_MS = 15_000

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

/** Create User's URL under an integration's API base URL (without the private key). */
const createUserEndpoint = (s: Settings): string =>
  `${s.api_base_url.replace(/\/+$/, '')}${CREATE_USER_PATH}`

/** The `deadsimplechat` integration type and its door: Create User once, the accessToken kept. */
export const deadsimplechat = defineCreateUserPlatform<Settings>({
  type: 'deadsimplechat',
  description: 'Dead Simple Chat access token from its Create User API',
  // The page's own copy (it names no URL): SSO using Auth Token, and the Create User API it links.
  docs: ['shared/platforms/deadsimplechat-sso-auth-token.txt'],
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
  sheet: (integration) => ({
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
  redirect: true,
  builder: createUserBuilder<Settings>({
    platform: 'Dead Simple Chat',
    made: 'user',
    api: "Dead Simple Chat's Create User API",
    store: 'deadsimplechat',
    secret: 'private_key',
    timeoutMs: CREATE_USER_TIMEOUT_MS,
    leaseMs: CREATE_USER_LEASE_MS,
    plaintextField: 'accessToken',
    shown: ['userId'],
    request: (doc, _account, integration) => {
      const body = createUserBody(doc, integration)
      const request = createHash('sha256')
        .update(JSON.stringify([integration.settings.api_base_url, body]))
        .digest('base64url')
      return { body, key: { request } }
    },
    create: async ({ settings: s, secret, request, post }) => {
      const url = new URL(createUserEndpoint(s))
      url.searchParams.set('auth', secret)
      const { answer } = await post({ url, body: request.body })
      const { accessToken, userId } = (answer ?? {}) as { accessToken?: unknown; userId?: unknown }
      if (
        typeof accessToken !== 'string' ||
        !/^[\x21-\x7e]{1,8192}$/.test(accessToken) ||
        typeof userId !== 'string' ||
        userId === '' ||
        userId.length > 256
      )
        throw new PlatformUnavailable(
          "Dead Simple Chat's Create User API answered without an accessToken and userId",
        )
      return { token: accessToken, fields: { userId } }
    },
    deliver: (token, s) => {
      const url = chatRoomUrl(s.chat_room_url, token)
      return { token, url, html: chatRoomHtml(url), expires_at: null }
    },
    preview: (body, s) => ({
      call: `Create User API: POST ${createUserEndpoint(s)}?auth=<private_key>`,
      body,
      snippet: { url: chatRoomUrl(s.chat_room_url, 'ACCESS_TOKEN'), html: null, script: null },
      notes: [
        'ACCESS_TOKEN stands for the accessToken Create User returns.',
        'Dry run: Create User was not called and nothing was stored. Dead Simple Chat signs the accessToken itself; a real token request creates the user once and reuses its accessToken.',
      ],
    }),
  }),
})

/** The `deadsimplechat` integration type (settings, secrets, default Create User body, sheet). */
export const deadsimplechatType = deadsimplechat.definition
