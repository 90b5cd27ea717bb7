/**
 * @module integrations/schemas
 * Small zod building blocks the door types share for their settings.
 */
import { z } from 'zod'

/**
 * Ids no integration may take: `new` is the console's Add page (`/console/integrations/new`),
 * which an integration of that id would hide behind.
 */
export const RESERVED_INTEGRATION_IDS: ReadonlySet<string> = new Set(['new'])

/**
 * What an integration id may be, wherever one is chosen (the admin API, the CLI, the console's
 * Add page): it appears in URLs and KV keys, so plain lower-case names, and none of
 * {@link RESERVED_INTEGRATION_IDS}.
 */
export const integrationId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'must be 1-63 characters of a-z, 0-9, "-" or "_", starting with a letter or digit',
  )
  .refine(
    (id) => !RESERVED_INTEGRATION_IDS.has(id),
    "is the console's own address (/console/integrations/new): choose another id",
  )

/**
 * An absolute http(s) URL of at most 2048 characters: every URL an integration stores. Other
 * schemes (`javascript:`, `data:`) are refused because these URLs end up in redirects and links.
 */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048)

/**
 * Hosts an `http:` URL may name: the machine itself (a platform under development). Anywhere else
 * a page on an https ISSUER would load it as mixed content, which browsers block.
 */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/

/**
 * An {@link httpUrl} that is https, or http on a loopback host only: what a member's browser
 * loads from a sign-in page (an integration's `logo_uri`).
 */
export const publicHttpsUrl = httpUrl.refine((v) => {
  if (!URL.canParse(v)) return true // the URL check above has said why already
  const { protocol, hostname } = new URL(v)
  return protocol === 'https:' || LOOPBACK_HOST.test(hostname)
}, 'must be an https URL (http only for localhost, 127.0.0.1 or [::1])')

/**
 * A name shown to members (an integration's `display_name`): 1 to 80 characters once trimmed,
 * no control characters and no bidirectional overrides (which could make a name read as another:
 * CVE-2021-42574's trick). HTML-escaped wherever it is shown.
 */
export const displayName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(80, 'must be at most 80 characters')
  .regex(/^[^\p{Cc}\u202a-\u202e\u2066-\u2069]*$/u, 'must not hold control characters')

/** A lifetime in seconds between 1 and `max`, `fallback` when omitted. */
export const lifetime = (fallback: number, max: number) =>
  z
    .number()
    .int('must be a whole number of seconds')
    .min(1)
    .max(max, `must be at most ${max} seconds`)
    .default(fallback)

/**
 * Settings every integration type accepts, spread into each type's schema: `site_login_url`, the
 * site's hand-off page for this integration's members (README "Signing in at the site"); it
 * overrides SITE_LOGIN_URL and always hands off, with no form on sso-bridge's side.
 */
export const siteLoginSettings = {
  site_login_url: httpUrl.refine((v) => !new URL(v).hash, 'must not have a fragment').optional(),
}

/** The stored shape of {@link siteLoginSettings} (absent on integrations saved before it existed). */
export interface SiteLoginSettings {
  site_login_url?: string
}
