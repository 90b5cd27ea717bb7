/**
 * @module oidc/claims
 * Which mapped keys a token's scopes release. Standard OIDC claims follow their scope (an
 * `email` only with the `email` scope, OpenID Connect Core §5.4); keys the integration's
 * mapping adds beyond the standard set are the operator's explicit choice and always go. A
 * plain OAuth2 token (no `openid` scope, as Minnit's OAuth2 form asks) gets the whole mapped
 * document: such clients have no other way to learn who signed in.
 */
import type { JsonObject } from '../accounts/types.ts'

/** Standard claims by scope (OpenID Connect Core §5.4). */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
} as const

const STANDARD = new Map<string, string>(
  Object.entries(SCOPE_CLAIMS).flatMap(([scope, claims]) =>
    scope === 'openid' ? [] : claims.map((c): [string, string] => [c, scope]),
  ),
)

/**
 * @param document the integration's mapped document for the account
 * @param scope the granted scopes, space-separated
 */
export function scopeFilter(document: JsonObject, scope: string | undefined): JsonObject {
  const scopes = new Set((scope ?? '').split(' ').filter(Boolean))
  if (!scopes.has('openid')) return document
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(document)) {
    const needs = STANDARD.get(key)
    if (needs === undefined || scopes.has(needs)) out[key] = value
  }
  return out
}

/** JWT and OIDC protocol claims a mapping never sets in a token (the provider owns them). */
export const PROTOCOL_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'nonce',
  'acr',
  'amr',
  'azp',
  'auth_time',
  'at_hash',
  'c_hash',
  's_hash',
  'sid',
  'cnf',
  'typ',
  'scope',
  'client_id',
  'events',
  '_claim_names',
  '_claim_sources',
])

/**
 * The keys of a mapped document beyond the standard claims (and never a protocol claim): what
 * the integration's mapping adds, released with every scope.
 */
export function customClaims(document: Record<string, unknown>): JsonObject {
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(document)) {
    if (!STANDARD.has(key) && !PROTOCOL_CLAIMS.has(key) && value !== undefined)
      out[key] = value as JsonObject[string]
  }
  return out
}
