/**
 * @module tokens/platforms/jwt
 * A generic HS256 JWT platform, as data (tokens/definition.ts): claims from the mapping,
 * lifetime, query parameter and target URL from the integration.
 *
 * Claims: the mapped document (default: OIDC-style `sub`, `preferred_username`, `name`, `email`,
 * `email_verified`, `picture`, `rank`), `aud` when `audience` is set, then `iat` and `exp` = iat +
 * `token_ttl`. The door owns `iat`, `exp` and `aud`: a mapping cannot set them. With a
 * `target_url`, the output URL is that URL with `<query_param>=<token>`.
 */
import { z } from 'zod'
import { httpUrl, lifetime } from '../../integrations/schemas.ts'
import { jwtBuilder } from '../builders/jwt.ts'
import { definePlatform } from '../definition.ts'
import { apiKeySecret, browserSettings, hs256Secret } from '../settings.ts'

const settings = z.strictObject({
  target_url: httpUrl.optional(),
  query_param: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a query parameter name')
    .default('token'),
  token_ttl: lifetime(300, 86_400),
  audience: z.string().max(1024).optional(),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

/** The generic `jwt` integration type (HS256 JWT in a URL query parameter). */
export const genericJwt = definePlatform<Settings>({
  type: 'jwt',
  description: 'Generic HS256 JWT handed to a URL query parameter',
  docs: [
    'https://www.rfc-editor.org/rfc/rfc7519',
    'https://www.rfc-editor.org/rfc/rfc7518#section-3.2',
  ],
  guide: {
    title: 'HS256 JWT',
    platform: 'Generic',
    fields: {
      target_url: { label: 'Target URL', help: 'where tokens go, in the query parameter below' },
      query_param: { label: 'Query parameter' },
      audience: { label: 'Audience (aud)' },
      secret: { label: 'Shared secret', help: 'the HMAC key both sides hold, 32 bytes or more' },
    },
    connection: {
      start: 'On the platform, set JWT SSO to HS256 with the shared secret set here on both sides.',
      labels: { browser_token_url: 'Browser token URL', token_api: 'Token API' },
    },
  },
  settings,
  secrets: {
    secret: { description: 'shared HMAC secret', required: true, check: hs256Secret },
    api_key: apiKeySecret,
  },
  defaultMapping: {
    sub: 'external_id',
    preferred_username: 'username',
    name: 'nickname',
    email: 'email',
    email_verified: 'email_verified',
    picture: 'picture',
    rank: 'rank',
  },
  // No required claims: the platform at the other end decides what it needs.
  fields: {},
  builder: jwtBuilder<Settings>({
    alg: 'HS256',
    secret: 'secret',
    claims: (s): Record<string, string> => (s.audience !== undefined ? { aud: s.audience } : {}),
    // The configured audience or none: never one a mapping made up.
    reserved: ['aud'],
    ttl: (s) => s.token_ttl,
  }),
  delivery: {
    kind: 'url-parameter',
    url: (b, s) => {
      if (s.target_url === undefined) return null
      const u = new URL(s.target_url)
      u.searchParams.set(s.query_param, b.token)
      return u.href
    },
    // Redirects only with a target_url.
    redirect: true,
    noUrl: (id) => ({
      path: 'settings.target_url',
      message: `is not set on ${id}: there is no URL to redirect to`,
    }),
  },
  sheet: (integration) => {
    const s = integration.settings
    return {
      platform: 'generic HS256 JWT',
      paste_into_platform: [
        { setting: 'JWT algorithm', value: 'HS256' },
        {
          setting: 'shared secret',
          value: 'the value of secrets.secret (set it on both sides; sso-bridge never shows it)',
        },
        ...(s.audience ? [{ setting: 'expected audience (aud)', value: s.audience }] : []),
      ],
      copy_from_platform: [],
      notes: [
        s.target_url
          ? `Tokens go to ${s.target_url} in the "${s.query_param}" query parameter.`
          : 'No target_url: hand the "token" to the platform yourself.',
      ],
    }
  },
})

/** The generic `jwt` integration type: settings, secrets, default claims, connection sheet. */
export const genericJwtType = genericJwt.definition
