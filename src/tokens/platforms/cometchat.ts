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
 * As Dead Simple Chat's access token, this is data around the create-user builder
 * (builders/create-user.ts): the auth token is stored per member (namespace
 * `tokens:cometchat:<integration>`, key = account id), sealed, with a SHA-256 index for inspect;
 * it is forgotten when the account is deleted, and a member's first token is made once across
 * every instance on the store (the claim `tokens:cometchat-claims:<integration>`). The stored
 * token serves while the member's `uid` is the one it was made for; a member whose other mapped
 * fields changed keeps it, as the profile is not pushed (CometChat's user keeps the name it was
 * created with until an operator changes it).
 */
import { z } from 'zod'
import type { Account, JsonObject } from '../../accounts/types.ts'
import { AccountIncomplete, PlatformUnavailable } from '../../errors/index.ts'
import { httpUrl } from '../../integrations/schemas.ts'
import { createUserBuilder } from '../builders/create-user.ts'
import { defineCreateUserPlatform } from '../definition.ts'
import { isHttpUrl, optionalText, requireText } from '../fields.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'

/** How long one call to CometChat may take before the door gives up (502). */
export const COMETCHAT_TIMEOUT_MS = 10_000
/** A claim to create a member's token holds this long: two calls and the store write after. */
export const COMETCHAT_LEASE_MS = 25_000

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

/** The REST API's base URL of an integration (see `api_base_url`). */
export function apiBase(s: Settings): string {
  return (s.api_base_url ?? `https://${s.app_id}.api-${s.region}.cometchat.io/v3`).replace(
    /\/+$/,
    '',
  )
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
 * The authToken of an answer's `data` (users/create with `withAuthToken`, auth-tokens/create).
 * @throws {PlatformUnavailable} none, or not a printable token
 */
function authTokenOf(answer: unknown): string {
  const data = (answer as { data?: unknown } | undefined)?.data
  const t =
    typeof data === 'object' && data !== null
      ? (data as Record<string, unknown>).authToken
      : undefined
  if (typeof t !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(t))
    throw new PlatformUnavailable("CometChat's REST API answered without an authToken")
  return t
}

/** The `cometchat` integration type and its door: the user created once, its auth token kept. */
export const cometchat = defineCreateUserPlatform<Settings>({
  type: 'cometchat',
  description: 'CometChat auth token from its REST API (create user, then create auth token)',
  docs: [
    'cometchat.com/docs/rest-api/users/create',
    'cometchat.com/docs/rest-api/auth-tokens/create',
  ],
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
  sheet: (integration) => ({
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
  builder: createUserBuilder<Settings>({
    platform: 'CometChat',
    made: 'token',
    api: "CometChat's REST API",
    store: 'cometchat',
    secret: 'rest_api_key',
    timeoutMs: COMETCHAT_TIMEOUT_MS,
    leaseMs: COMETCHAT_LEASE_MS,
    shown: ['uid'],
    request: (doc, account, integration) => {
      const body = createUserBody(doc, account, integration.record.id)
      return { body, key: { uid: String(body.uid) } }
    },
    create: async ({ settings, secret, request, renew, post }) => {
      const base = apiBase(settings)
      const headers = { apikey: secret }
      // A user we made before whose token CometChat refused: a new token, no new user.
      if (!renew) {
        const created = await post({
          url: `${base}/users`,
          headers,
          body: { ...request.body, withAuthToken: true },
          // The user exists there (made by hand, or by an earlier install): ask for a token.
          tolerate: (status, answer) =>
            status < 500 &&
            (answer as { error?: { code?: unknown } } | undefined)?.error?.code ===
              'ERR_UID_ALREADY_EXISTS',
        })
        if (!created.tolerated) return { token: authTokenOf(created.answer) }
      }
      const uid = encodeURIComponent(String(request.body.uid))
      const made = await post({ url: `${base}/users/${uid}/auth_tokens`, headers, body: {} })
      return { token: authTokenOf(made.answer) }
    },
    deliver: (token) => ({
      token,
      url: null,
      html: null,
      expires_at: null,
      script: `CometChat.login(${JSON.stringify(token).replace(/</g, '\\u003c')})`,
    }),
    preview: (body, s) => ({
      call: `Create User API: POST ${apiBase(s)}/users (header apikey: <rest_api_key>)`,
      body: { ...body, withAuthToken: true },
      snippet: { url: null, html: null, script: 'CometChat.login(AUTH_TOKEN)' },
      notes: [
        'AUTH_TOKEN stands for the authToken CometChat returns; CometChat signs it itself.',
        'Dry run: CometChat was not called and nothing was stored. A real token request creates the user once (or asks …/users/{uid}/auth_tokens when it exists) and reuses the stored token.',
      ],
    }),
  }),
})

/** The `cometchat` integration type (settings, secrets, default Create User body, sheet). */
export const cometchatType = cometchat.definition
