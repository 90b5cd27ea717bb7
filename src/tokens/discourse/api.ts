/**
 * @module tokens/discourse/api
 * The two calls sso-bridge makes to a Discourse forum's admin API, with its `Api-Key` and
 * `Api-Username` headers (Discourse's API documentation, docs.discourse.org):
 *
 * - `POST /admin/users/sync_sso` with `sso` and `sig` (meta.discourse.org/t/84398 "Sync
 *   DiscourseConnect user data with the sync_sso route"): updates (or creates) the user of the
 *   payload's `external_id` without waiting for the member's next sign-in;
 * - `GET /u/by-external/{external_id}.json` then `POST /admin/users/{id}/log_out` (the
 *   DiscourseConnect document's "Logging out users"): ends the member's Discourse sessions.
 *
 * Every failure is one {@link PlatformUnavailable} that names the call and the status only: the
 * API key is in a header, never in a message or a log line.
 */
import { PlatformUnavailable } from '../../errors/index.ts'

/** How long one call to Discourse may take. */
export const DISCOURSE_API_TIMEOUT_MS = 10_000

/** Where a forum's admin API is and how to authenticate to it. */
export interface DiscourseApi {
  /** The forum's base URL (settings.discourse_url). */
  baseUrl: string
  apiKey: string
  apiUsername: string
  fetch: typeof globalThis.fetch
}

const url = (api: DiscourseApi, path: string) => `${api.baseUrl.replace(/\/+$/, '')}${path}`

async function call(api: DiscourseApi, what: string, path: string, init: RequestInit) {
  let res: Response
  try {
    res = await api.fetch(url(api, path), {
      ...init,
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        Accept: 'application/json',
        'Api-Key': api.apiKey,
        'Api-Username': api.apiUsername,
      },
      redirect: 'error',
      signal: AbortSignal.timeout(DISCOURSE_API_TIMEOUT_MS),
    })
  } catch (err) {
    throw new PlatformUnavailable(`Discourse's ${what} could not be reached`, { cause: err })
  }
  return res
}

/**
 * Pushes a signed payload to `POST /admin/users/sync_sso`.
 * @throws {PlatformUnavailable} unreachable or not 2xx
 */
export async function syncSso(api: DiscourseApi, signed: { sso: string; sig: string }) {
  const res = await call(api, 'sync_sso', '/admin/users/sync_sso', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(signed).toString(),
  })
  await res.body?.cancel().catch(() => {})
  if (!res.ok) throw new PlatformUnavailable(`Discourse's sync_sso answered HTTP ${res.status}`)
}

/**
 * Logs the user of `externalId` out of Discourse: looks up its Discourse id, then
 * `POST /admin/users/{id}/log_out`.
 * @returns false when Discourse has no user of that external_id (it never signed in there)
 * @throws {PlatformUnavailable} unreachable or not 2xx
 */
export async function logOut(api: DiscourseApi, externalId: string): Promise<boolean> {
  const found = await call(
    api,
    'user lookup',
    `/u/by-external/${encodeURIComponent(externalId)}.json`,
    { method: 'GET' },
  )
  if (found.status === 404) {
    await found.body?.cancel().catch(() => {})
    return false
  }
  if (!found.ok) {
    await found.body?.cancel().catch(() => {})
    throw new PlatformUnavailable(`Discourse's user lookup answered HTTP ${found.status}`)
  }
  const body = (await found.json().catch(() => null)) as { user?: { id?: unknown } } | null
  const id = body?.user?.id
  if (typeof id !== 'number' || !Number.isSafeInteger(id))
    throw new PlatformUnavailable("Discourse's user lookup answered without a user id")
  const res = await call(api, 'log_out', `/admin/users/${id}/log_out`, { method: 'POST' })
  await res.body?.cancel().catch(() => {})
  if (!res.ok) throw new PlatformUnavailable(`Discourse's log_out answered HTTP ${res.status}`)
  return true
}
