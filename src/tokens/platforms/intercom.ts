/**
 * @module tokens/platforms/intercom
 * Intercom Messenger security, as data (tokens/definition.ts): the current JWT and the legacy
 * identity verification `user_hash`, two integration types.
 *
 * - `intercom-jwt` (https://developers.intercom.com/installing-intercom/web/identity-verification):
 *   an HS256 JWT "based on the user's user_id, a payload of data about the user (optional)",
 *   signed with the Messenger API secret key (Settings → Messenger → Security); `user_id` is
 *   required ("tokens without it are rejected"), `exp` recommended. Given to the Messenger as
 *   `window.intercomSettings = { app_id, intercom_user_jwt }`.
 * - `intercom-user-hash` (the legacy identity verification the same page's migration guide
 *   replaces, https://www.intercom.com/help/en/articles/10807823-migrating-from-identity-verification-to-messenger-security-with-jwts):
 *   `user_hash` = hex HMAC-SHA256 of the `user_id` under the identity verification secret, given
 *   as `window.intercomSettings = { app_id, user_id, user_hash }`.
 */
import { z } from 'zod'
import { hmacBuilder } from '../builders/hmac.ts'
import { jwtBuilder } from '../builders/jwt.ts'
import { definePlatform } from '../definition.ts'
import type { FieldRules } from '../field-rules.ts'
import { lifetime } from '../../integrations/schemas.ts'
import { scriptString } from '../html.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'

/** Intercom's workspace id ("app_id"), e.g. `abc12345`. */
const appId = z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'must be the workspace (app) id')

const jwtSettings = z.strictObject({
  app_id: appId,
  /** Seconds a JWT stays valid; Intercom: match it to the site's session. */
  token_ttl: lifetime(3600, 86_400),
  ...browserSettings,
})
type JwtSettings = z.infer<typeof jwtSettings>

const hashSettings = z.strictObject({ app_id: appId, ...browserSettings })
type HashSettings = z.infer<typeof hashSettings>

const guideFields = {
  app_id: {
    label: 'Workspace ID (app_id)',
    help: 'Settings → Installation → Web, or the code after /apps/ in the Intercom URL',
  },
}

/** What both Intercom types send of a member: the same user, by either security scheme. */
const defaultMapping = { user_id: 'external_id', email: 'email', name: 'nickname' }
const fields: FieldRules = {
  user_id: { kind: 'id', required: true, max: 255 },
  email: { kind: 'email' },
  name: { kind: 'text', max: 255, cut: true },
}

/** `window.intercomSettings = {…}` with every value a safe script string. */
function intercomSettings(values: Record<string, unknown>): string {
  let fields = ''
  for (const k in values) {
    const v = values[k]
    if (typeof v === 'string') fields += `${fields ? ', ' : ''}${k}: ${scriptString(v)}`
  }
  return `window.intercomSettings = { ${fields} };`
}

/** The `intercom-jwt` integration type (Messenger security, HS256 JWT). */
export const intercomJwt = definePlatform<JwtSettings>({
  type: 'intercom-jwt',
  description: 'Intercom Messenger security JWT (HS256, intercom_user_jwt)',
  docs: ['https://developers.intercom.com/installing-intercom/web/identity-verification'],
  guide: {
    title: 'Intercom — Messenger security (JWT)',
    platform: 'Intercom',
    fields: {
      ...guideFields,
      messenger_secret: {
        label: 'Messenger API secret key',
        help: 'Settings → Workspace → Security → Messenger (Messenger security) → secret key',
      },
    },
  },
  settings: jwtSettings,
  secrets: {
    messenger_secret: {
      description: "the Messenger API secret key from Intercom's Messenger security settings",
      required: true,
      check: printable,
    },
    api_key: apiKeySecret,
  },
  defaultMapping,
  fields,
  builder: jwtBuilder<JwtSettings>({
    alg: 'HS256',
    secret: 'messenger_secret',
    ttl: (s) => s.token_ttl,
  }),
  delivery: {
    kind: 'js-call',
    script: (b, s) => intercomSettings({ app_id: s.app_id, intercom_user_jwt: b.token }),
  },
  sheet: (integration) => ({
    platform: 'Intercom Messenger (Messenger security, JWT)',
    paste_into_platform: [],
    copy_from_platform: [
      { setting: 'Settings → Security → Messenger → secret key', secret: 'messenger_secret' },
    ],
    notes: [
      `Set the token's "script" before the Messenger boots (window.intercomSettings with intercom_user_jwt, app_id ${integration.settings.app_id}).`,
      `Tokens expire after ${integration.settings.token_ttl} s: fetch a fresh one from the browser token URL on each page load.`,
      'Turn on "Enforce messenger security" once this works.',
    ],
  }),
})

/** The `intercom-user-hash` integration type (legacy identity verification, HMAC-SHA256 of user_id). */
export const intercomUserHash = definePlatform<HashSettings>({
  type: 'intercom-user-hash',
  description: 'Intercom legacy identity verification user_hash (HMAC-SHA256 of user_id)',
  docs: [
    'https://www.intercom.com/help/en/articles/10807823-migrating-from-identity-verification-to-messenger-security-with-jwts',
  ],
  guide: {
    title: 'Intercom — identity verification (legacy user_hash)',
    platform: 'Intercom',
    fields: {
      ...guideFields,
      verification_secret: {
        label: 'Identity verification secret',
        help: 'Settings → Security → Messenger → identity verification secret (web)',
      },
    },
  },
  settings: hashSettings,
  secrets: {
    verification_secret: {
      description: "the identity verification secret from Intercom's Messenger security settings",
      required: true,
      check: printable,
    },
    api_key: apiKeySecret,
  },
  defaultMapping,
  fields,
  builder: hmacBuilder<HashSettings>({
    digest: 'sha256',
    encoding: 'hex',
    secret: 'verification_secret',
    message: (p) => String(p.user_id),
  }),
  delivery: {
    kind: 'js-call',
    script: (b, s) =>
      intercomSettings({
        app_id: s.app_id,
        user_id: b.payload.user_id,
        email: b.payload.email,
        name: b.payload.name,
        user_hash: b.token,
      }),
  },
  sheet: () => ({
    platform: 'Intercom Messenger (identity verification, user_hash)',
    paste_into_platform: [],
    copy_from_platform: [
      {
        setting: 'Settings → Security → Messenger → identity verification secret',
        secret: 'verification_secret',
      },
    ],
    notes: [
      'Set the token\'s "script" before the Messenger boots (window.intercomSettings with user_id and user_hash).',
      'Intercom recommends moving to Messenger security with JWTs (the intercom-jwt type).',
    ],
  }),
})
