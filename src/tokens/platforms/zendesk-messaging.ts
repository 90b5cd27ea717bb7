/**
 * @module tokens/platforms/zendesk-messaging
 * Zendesk messaging's end-user authentication for the Web Widget, as data
 * (tokens/definition.ts).
 *
 * Contract (https://developer.zendesk.com/documentation/zendesk-web-widget-sdks/sdks/web/enabling_auth_visitors,
 * https://developer.zendesk.com/api-reference/widget-messaging/web/authentication,
 * https://support.zendesk.com/hc/en-us/articles/4411666638746): an HS256 JWT signed with the
 * signing key's shared secret, its key id in the header's `kid`; claims `scope: "user"`,
 * `external_id` (required: "the primary identification"), optionally `name`, `email` and
 * `email_verified`; `exp` is honoured ("a JWT which has an exp that is in the past is
 * rejected"). Given to the widget as
 * `zE("messenger", "loginUser", function (callback) { callback(jwt) })`.
 */
import { z } from 'zod'
import { jwtBuilder } from '../builders/jwt.ts'
import { definePlatform } from '../definition.ts'
import { lifetime } from '../../integrations/schemas.ts'
import { scriptString } from '../html.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'

const settings = z.strictObject({
  /** The signing key's ID as Admin Center lists it (e.g. `app_64e8…`): the JWT header's `kid`. */
  key_id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be the key ID Admin Center shows'),
  /** Seconds a JWT stays valid (`exp`). */
  token_ttl: lifetime(600, 86_400),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

/** The `zendesk-messaging` integration type (messaging authentication JWT with `kid`). */
export const zendeskMessaging = definePlatform<Settings>({
  type: 'zendesk-messaging',
  description: 'Zendesk messaging Web Widget end-user authentication (HS256 JWT with kid)',
  docs: [
    'https://developer.zendesk.com/documentation/zendesk-web-widget-sdks/sdks/web/enabling_auth_visitors',
    'https://developer.zendesk.com/api-reference/widget-messaging/web/authentication',
  ],
  guide: {
    title: 'Zendesk — messaging authentication',
    platform: 'Zendesk',
    fields: {
      key_id: {
        label: 'Key ID',
        help: 'Admin Center → Account → Security → End user authentication → Messaging → the key’s ID',
      },
      shared_secret: {
        label: 'Shared secret',
        help: 'Shown once when the signing key is created (Admin Center → … → Messaging → Create key)',
      },
    },
  },
  settings,
  secrets: {
    shared_secret: {
      description: "the messaging signing key's shared secret (Admin Center, shown once)",
      required: true,
      check: printable,
    },
    api_key: apiKeySecret,
  },
  defaultMapping: {
    external_id: 'external_id',
    name: 'nickname',
    email: 'email',
    email_verified: 'email_verified',
  },
  fields: {
    external_id: { kind: 'id', required: true, max: 255 },
    name: { kind: 'text', max: 255, cut: true },
    email: { kind: 'email' },
    email_verified: { kind: 'boolean' },
  },
  builder: jwtBuilder<Settings>({
    alg: 'HS256',
    secret: 'shared_secret',
    header: (s) => ({ kid: s.key_id }),
    claims: () => ({ scope: 'user' }),
    ttl: (s) => s.token_ttl,
  }),
  delivery: {
    kind: 'js-call',
    script: (b) =>
      `zE("messenger", "loginUser", function (callback) { callback(${scriptString(b.token)}); });`,
  },
  sheet: (integration) => ({
    platform: 'Zendesk messaging (Web Widget authentication)',
    paste_into_platform: [],
    copy_from_platform: [
      {
        setting:
          'Admin Center → Account → Security → End user authentication → Messaging → Create key → shared secret',
        secret: 'shared_secret',
      },
    ],
    notes: [
      `settings.key_id is the key's ID from the same list (now ${integration.settings.key_id}); it goes into the JWT header as kid.`,
      'Call zE("messenger", "loginUser", cb) as soon as the member is signed in; cb gets a fresh token from the browser token URL (tokens expire).',
      'Call zE("messenger", "logoutUser") when the member signs out.',
    ],
  }),
})
