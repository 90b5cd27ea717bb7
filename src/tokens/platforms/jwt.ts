/**
 * @module tokens/platforms/jwt
 * A generic HS256 JWT platform: claims from the mapping, lifetime, query parameter and target
 * URL from the integration.
 *
 * Claims: the mapped document (default: OIDC-style `sub`, `preferred_username`, `name`, `email`,
 * `email_verified`, `picture`, `rank`), `aud` when `audience` is set, then `iat` and `exp` = iat +
 * `token_ttl`. The door owns `iat`, `exp` and `aud`: a mapping cannot set them. With a
 * `target_url`, the output URL is that URL with `<query_param>=<token>`.
 */
import { z } from 'zod'
import type { Account } from '../../accounts/types.ts'
import { ValidationFailed } from '../../errors/index.ts'
import type { LoadedIntegration } from '../../integrations/registry.ts'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { httpUrl, lifetime } from '../../integrations/schemas.ts'
import { tokenSheet } from '../connection.ts'
import { secondsToIso } from '../fields.ts'
import { inspectJwt } from '../inspect.ts'
import { signHs256 } from '../jwt.ts'
import { apiKeySecret, browserSettings, hs256Secret } from '../settings.ts'
import type { Inspected, IssuedToken, TokenDeps } from '../types.ts'

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

/** The generic `jwt` integration type: settings, secrets, default claims, connection sheet. */
export const genericJwtType: IntegrationTypeDefinition<Settings> = {
  type: 'jwt',
  description: 'Generic HS256 JWT handed to a URL query parameter',
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
  defaultMapping: {
    sub: 'external_id',
    preferred_username: 'username',
    name: 'nickname',
    email: 'email',
    email_verified: 'email_verified',
    picture: 'picture',
    rank: 'rank',
  },
  secrets: {
    secret: { description: 'shared HMAC secret', required: true, check: hs256Secret },
    api_key: apiKeySecret,
  },
  connection: (integration, issuer) => {
    const s = integration.settings
    return tokenSheet(integration, issuer, {
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
    })
  },
}

/** Issues the generic HS256 JWT for `account` (no required claims). */
export function issue(
  account: Account,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
): IssuedToken {
  const key = deps.keys.require(integration, 'secret')
  const s = integration.settings
  const claims = integration.mapping.apply(account)
  delete claims.aud
  if (s.audience !== undefined) claims.aud = s.audience
  delete claims.iat
  delete claims.exp
  const iat = Math.floor(deps.now() / 1000)
  claims.iat = iat
  claims.exp = iat + s.token_ttl
  const token = signHs256(key, claims)
  let url: string | null = null
  if (s.target_url !== undefined) {
    const u = new URL(s.target_url)
    u.searchParams.set(s.query_param, token)
    url = u.href
  }
  return { token, url, html: null, expires_at: secondsToIso(claims.exp) }
}

/** Redirects only with a `target_url`. @throws {ValidationFailed} */
export function redirectCheck(integration: LoadedIntegration<Settings>): void {
  if (integration.settings.target_url === undefined) {
    throw new ValidationFailed([
      {
        path: 'settings.target_url',
        message: `is not set on ${integration.record.id}: there is no URL to redirect to`,
      },
    ])
  }
}

/** @throws {TokenInvalid} */
export function inspect(
  token: string,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
): Inspected {
  return inspectJwt(token, integration, deps, 'secret')
}
