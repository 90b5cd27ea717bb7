/**
 * @module store/event-categories
 * Which events the Overview counts as what (issue #14), written once for both stores'
 * `countEvents` (the same split as the metrics' counters, metrics/metrics.ts): a sign-in is a
 * password sign-in or a redeemed site ticket, a token is an OIDC token, a SAML response or a
 * platform token, a failure is any event whose result is not `ok`. Logouts count as none.
 */

/** Event kinds counted as sign-ins. */
export const SIGN_IN_KINDS = ['sign_in', 'ticket_redeemed'] as const

/** Event kinds counted as tokens issued. */
export const TOKEN_KINDS = ['oidc_token', 'saml_response', 'platform_token'] as const

const list = (kinds: readonly string[]) => kinds.map((k) => `'${k}'`).join(', ')

/**
 * An SQL expression (the same in SQLite and PostgreSQL) giving an `events` row's category, or
 * NULL for an event that counts as none. Built from the constant lists above: no input in it.
 */
export const EVENT_CATEGORY_SQL = `CASE WHEN result <> 'ok' THEN 'failure' WHEN kind IN (${list(SIGN_IN_KINDS)}) THEN 'sign_in' WHEN kind IN (${list(TOKEN_KINDS)}) THEN 'token' END`

/**
 * An `events` row's integration when it names one that exists, else NULL. A refused request's
 * integration id comes from the client, so grouping by it as given would let anyone add a row
 * per made-up id; grouped by this, the counts have at most one row per bucket, category and
 * current integration, plus one for the rest. A deleted integration's past events join the rest.
 */
export const KNOWN_INTEGRATION_SQL =
  'CASE WHEN integration_id IN (SELECT id FROM integrations) THEN integration_id END'
