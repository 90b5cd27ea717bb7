/**
 * @module oidc/paths
 * Where the OIDC door's endpoints live, relative to the issuer: one table for the provider's
 * configuration and for the connection sheet operators copy into a platform's settings.
 */
export const OIDC_ROUTES = {
  authorization: '/auth',
  token: '/token',
  jwks: '/jwks',
  end_session: '/session/end',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  /** Ours (oidc/routes/userinfo.ts): serves OIDC and plain OAuth2 clients alike. */
  userinfo: '/me',
} as const

/**
 * The discovery document's path (OpenID Connect Discovery 1.0 §4): oidc-provider serves it
 * itself, beside the routes above.
 */
export const OIDC_DISCOVERY = '/.well-known/openid-configuration'
