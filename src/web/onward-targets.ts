/**
 * @module web/onward-targets
 * Where a sign-in that ends at one of our own paths may be sent on to, for the sign-in page's CSP
 * `form-action` (web/security-headers.ts): Chromium checks form-action on every redirect that
 * follows the form's POST, so `/login?return_to=/tokens/<id>/redirect` (sign in, then on to the
 * platform with a token) needs the platform's origin named.
 *
 * For a token redirect: the origins of the http(s) URLs in that integration's own settings
 * (chat_url, spot_base_url, target_url …), which only the operator sets. A door whose continuation
 * ends on a platform (DiscourseConnect's /discourse/continue) adds its own resolver (`more`).
 * Any other path: none (`'self'` covers the SAML door's /saml/continue page).
 */
import type { IntegrationService } from '../integrations/registry.ts'

const TOKEN_REDIRECT = /^\/tokens\/([^/?#]+)\/redirect(?:[?#]|$)/

/**
 * The resolver /login uses: the onward URLs for a `return_to` path (none for most paths).
 * @param more other doors' resolvers, each answering for its own paths (an empty list otherwise)
 */
export function createOnwardTargets(
  integrations: IntegrationService,
  ...more: ((path: string) => Promise<string[]>)[]
): (path: string) => Promise<string[]> {
  return async (path) => {
    const m = TOKEN_REDIRECT.exec(path)
    if (!m) return (await Promise.all(more.map((f) => f(path)))).flat()
    let id: string
    try {
      id = decodeURIComponent(m[1]!)
    } catch {
      return []
    }
    const loaded = await integrations.load(id).catch(() => null)
    return loaded ? urlsIn(loaded.record.settings) : []
  }
}

function urlsIn(value: unknown): string[] {
  if (typeof value === 'string')
    return /^https?:\/\//i.test(value) && URL.canParse(value) ? [value] : []
  if (Array.isArray(value)) return value.flatMap(urlsIn)
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(urlsIn)
  return []
}
