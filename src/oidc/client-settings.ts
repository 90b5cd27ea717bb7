/**
 * @module oidc/client-settings
 * Settings of an `oidc` integration: one OAuth2/OIDC client (relying party) of our provider.
 * Behaviour comes with the OIDC door; this is what the registry validates.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { typeTitle, type IntegrationTypeDefinition } from '../integrations/types.ts'
import {
  displayName,
  httpUrl,
  lifetime,
  publicHttpsUrl,
  siteLoginSettings,
} from '../integrations/schemas.ts'
import { minnitOAuth2Preset, oidcGuide } from './catalogue.ts'

// zod runs a refinement even after the URL check failed: `new URL` must not see a non-URL
// (it throws, and the admin API answered 500 for `redirect_uris: ["not a url"]`).
const noFragment = (u: string) => !URL.canParse(u) || !new URL(u).hash

const redirectUri = z.url('must be an absolute URL').refine(noFragment, 'must not have a fragment')

const settings = z.strictObject({
  /** Exact-match redirect URIs. */
  redirect_uris: z.array(redirectUri).min(1, 'must list at least one redirect URI'),
  post_logout_redirect_uris: z.array(redirectUri).default([]),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token'))
    .default(['openid', 'profile', 'email']),
  /** Public clients (no secret) must use PKCE S256. */
  public: z.boolean().default(false),
  /** First-party clients skip the consent screen. */
  first_party: z.boolean().default(false),
  id_token_signing_alg: z.enum(['RS256', 'ES256']).default('RS256'),
  subject_type: z.enum(['public', 'pairwise']).default('public'),
  access_token_ttl: lifetime(3600, 86_400),
  refresh_token_ttl: lifetime(14 * 86_400, 365 * 86_400),
  /**
   * The name members see on the sign-in and consent pages ("Allow access: Robin's Chat"); unset,
   * the type's own title. The integration id is never shown to a member.
   */
  display_name: displayName.optional(),
  /**
   * The logo the consent page shows beside the name, loaded by the member's browser straight from
   * this URL (the page's CSP allows this one image: web/security-headers.ts allowImage).
   */
  logo_uri: publicHttpsUrl.optional(),
  ...siteLoginSettings,
  /**
   * OpenID Connect Back-Channel Logout 1.0 §2.2: where the client receives a logout token
   * (POST, form field `logout_token`) whenever the member signs out, by any way.
   */
  backchannel_logout_uri: httpUrl.refine(noFragment, 'must not have a fragment').optional(),
  /** §2.2: the logout token carries the `sid` of the member's session at the client. */
  backchannel_logout_session_required: z.boolean().default(false),
})

/** An `oidc` integration's settings after validation (defaults filled in). */
export type OidcClientSettings = z.infer<typeof settings>

/** The `oidc` integration type: one relying party of our provider. */
export const oidcIntegrationType: IntegrationTypeDefinition<OidcClientSettings> = {
  type: 'oidc',
  description: 'OAuth2/OIDC client (Minnit OAuth2 form, any OIDC relying party)',
  guide: oidcGuide,
  presets: [minnitOAuth2Preset],
  settings,
  // OIDC standard claims (OpenID Connect Core §5.1); `sub` is the site's own user key.
  defaultMapping: {
    sub: 'external_id',
    preferred_username: 'username',
    nickname: 'nickname',
    name: { template: '{given_name} {family_name}' },
    given_name: 'given_name',
    family_name: 'family_name',
    picture: 'picture',
    email: 'email',
    email_verified: 'email_verified',
    locale: 'locale',
    zoneinfo: 'timezone',
    updated_at: { path: 'updated_at', transforms: ['unix'] },
  },
  secrets: {
    client_secret: {
      description:
        'OAuth2 client secret (generated when absent for confidential clients, shown once)',
      required: false,
      check: (v) => (v.length < 32 ? 'must be at least 32 characters' : null),
      // 256 bits, URL-safe: pastes cleanly into any platform's settings form.
      generate: (s) => (s.public ? null : randomBytes(32).toString('base64url')),
    },
  },
}

/**
 * What the sign-in and consent pages call a client without a `display_name`: the type's title
 * (never the client id, which is a configuration key, not a name for members).
 */
export const OIDC_CLIENT_TITLE = typeTitle(oidcIntegrationType)
