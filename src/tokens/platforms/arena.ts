/**
 * @module tokens/platforms/arena
 * Arena's SSO v2 for its Live Chat, Live Blog and Comments widgets, as data
 * (tokens/definition.ts).
 *
 * Contract (https://docs.arena.im/docs/sso-integration-guide, "SSO v2"): the site signs a
 * short-lived JWT with its RSA private key (RS256) and shares the public key and its JWT
 * endpoint URL with Arena; the widget fetches the JWT from that endpoint for the signed-in
 * member. Claims: `sub` ("same as email"), `email`, `displayName`, `photoURL`, `iat`, `exp`
 * ("1 minute from now"), `iss` (the website SSO issuer ID Arena's team provides).
 *
 * sso-bridge signs with its own RS256 signing key — the one `ISSUER/jwks` publishes (header
 * `kid`) — so Arena verifies with the public key of the JWKS, and the JWT endpoint is the
 * browser token URL (`GET /tokens/{id}`, the member's bridge session).
 */
import { z } from 'zod'
import { jwtBuilder } from '../builders/jwt.ts'
import { definePlatform } from '../definition.ts'
import { lifetime } from '../../integrations/schemas.ts'
import { TOKEN_ROUTES } from '../paths.ts'
import { apiKeySecret, browserSettings } from '../settings.ts'

const settings = z.strictObject({
  /** The website SSO issuer ID Arena's team provides at onboarding (the `iss` claim). */
  sso_issuer_id: z.string().min(1).max(255),
  /** Seconds a JWT stays valid; the document's example: one minute. */
  token_ttl: lifetime(60, 3600),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

/** The `arena` integration type (SSO v2: RS256 JWT verified with the bridge's public key). */
export const arena = definePlatform<Settings>({
  type: 'arena',
  description: 'Arena SSO v2 JWT (RS256, verified with the bridge JWKS public key)',
  docs: ['https://docs.arena.im/docs/sso-integration-guide'],
  guide: {
    title: 'Arena — SSO v2 (JWT)',
    platform: 'Arena',
    fields: {
      sso_issuer_id: {
        label: 'Website SSO issuer ID',
        help: "Provided by Arena's tech team during onboarding (the iss claim)",
      },
    },
  },
  settings,
  secrets: { api_key: apiKeySecret },
  defaultMapping: {
    sub: 'email',
    email: 'email',
    displayName: 'nickname',
    photoURL: 'picture',
  },
  fields: {
    sub: { kind: 'email', required: true },
    email: { kind: 'email', required: true },
    displayName: { kind: 'text', max: 255, cut: true },
    photoURL: { kind: 'url', max: 2048 },
  },
  builder: jwtBuilder<Settings>({
    alg: 'RS256',
    claims: (s) => ({ iss: s.sso_issuer_id }),
    ttl: (s) => s.token_ttl,
  }),
  delivery: { kind: 'token-endpoint' },
  sheet: (integration, issuer) => ({
    platform: 'Arena (SSO v2)',
    paste_into_platform: [
      {
        setting: 'JWT endpoint URL (send to Arena)',
        value: `${issuer}${TOKEN_ROUTES.browser(integration.record.id)}`,
      },
      {
        setting: 'public key (send to Arena)',
        value:
          'the public_key_pem below (the RS256 key of the JWKS; no private key leaves sso-bridge)',
      },
    ],
    copy_from_platform: [],
    notes: [
      `settings.sso_issuer_id is the issuer ID Arena gives you (now ${integration.settings.sso_issuer_id}).`,
      "List the site's origin in settings.site_origins so Arena's widget on it can fetch the token with the member's cookie.",
      'After a signing-key rotation, send Arena the new public key (or point it at the JWKS).',
    ],
    verifyWithJwks: true,
  }),
})
