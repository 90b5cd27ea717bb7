/**
 * @module http/route-group
 * The route group a request's latency is counted under (`GET /metrics`): a handful of fixed
 * names, never the path itself, whose ids and tokens would make the label space unbounded.
 */

/** Path prefix → group, first match wins (the token API before the rest of the admin API). */
const GROUPS: [RegExp, string][] = [
  [/^\/api\/v1\/integrations\/[^/]+\/tokens$/, 'token_api'],
  [/^\/api\//, 'admin_api'],
  [/^\/(auth|token|me|jwks|session|\.well-known)(\/|$)/, 'oidc'],
  [/^\/interaction\//, 'oidc_interaction'],
  [/^\/saml\//, 'saml'],
  [/^\/tokens\//, 'token_browser'],
  [/^\/(login|ticket|logout)(\/|$)/, 'login'],
  [/^\/(healthz|readyz|metrics)$/, 'health'],
  [/^\/(docs|assets)(\/|$)/, 'static'],
]

/** The group of a request path (without its query); `other` for anything else. */
export function routeGroup(path: string): string {
  for (const [re, group] of GROUPS) if (re.test(path)) return group
  return 'other'
}
