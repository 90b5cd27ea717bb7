/**
 * @module integrations/schemas
 * Small zod building blocks the door types share for their settings.
 */
import { z } from 'zod'

/**
 * An absolute http(s) URL of at most 2048 characters: every URL an integration stores. Other
 * schemes (`javascript:`, `data:`) are refused because these URLs end up in redirects and links.
 */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048)

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
