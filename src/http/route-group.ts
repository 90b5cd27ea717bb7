/**
 * @module http/route-group
 * The route group a request's latency is counted under (`GET /metrics`): a handful of fixed
 * names, never the path itself, whose ids and tokens would make the label space unbounded.
 */
import type { EventDoor } from '../events/index.ts'

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

/** Route group → the door whose refusals the error handler records (events/log.ts); others none. */
const DOOR_OF_GROUP: Record<string, EventDoor> = {
  oidc: 'oidc',
  oidc_interaction: 'oidc',
  saml: 'saml',
  token_api: 'tokens',
  token_browser: 'tokens',
}

/**
 * The door a refused request was at, for its refusal event, and the integration its path names
 * (the token API and browser token URL carry it; other doors' paths do not). Null for what is no
 * door's (the admin API, the console, health, docs, unknown paths): their refusals are logged,
 * not recorded as member activity — and a scan of random paths cannot fill the events table.
 * @param path the request path without its query
 */
export function refusalDoorOf(path: string): { door: EventDoor; integrationId?: string } | null {
  const group = routeGroup(path)
  if (group === 'login') {
    // /ticket and /logout are the site-ticket door (login/routes/ticket.ts, logout.ts); /login is login's.
    return { door: /^\/(ticket|logout)(\/|$)/.test(path) ? 'ticket' : 'login' }
  }
  const door = DOOR_OF_GROUP[group]
  if (door === undefined) return null
  const id = /^\/(?:api\/v1\/integrations|tokens)\/([^/]+)/.exec(path)?.[1]
  if (door !== 'tokens' || id === undefined) return { door }
  let integrationId = id
  try {
    integrationId = decodeURIComponent(id)
  } catch {
    // A malformed escape (the router answered ERR_INVALID_PATH): the id as it came.
  }
  return { door, integrationId }
}
