/**
 * @module tokens/settings
 * Settings and secrets every token type shares: where browsers may fetch tokens from
 * (`site_origins`), where a member without a bridge session is sent to sign in (`login_url`),
 * and the optional per-integration `api_key` a site's server may use instead of the admin token.
 */
import { z } from 'zod'
import { httpUrl, siteLoginSettings } from '../integrations/schemas.ts'
import type { SecretSpec } from '../integrations/types.ts'

/** An exact web origin (`https://www.example.com`, no path), as browsers send in `Origin`. */
export const webOrigin = z
  .string()
  .max(2048)
  .refine(
    (s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol) && new URL(s).origin === s,
    'must be an origin such as https://www.example.com (scheme, host and port only)',
  )

/** Settings fragment every token type spreads into its schema. */
export const browserSettings = {
  /**
   * Pages of these origins may fetch the browser token URL with the member's cookies (CORS with
   * credentials). Empty: only same-origin pages can read it.
   */
  site_origins: z.array(webOrigin).max(50).default([]),
  /** The site's sign-in page, handed to a browser that has no bridge session (`login_url`). */
  login_url: httpUrl.optional(),
  ...siteLoginSettings,
}

/** {@link browserSettings} once parsed: what every token integration's settings hold. */
export type BrowserSettings = z.infer<z.ZodObject<typeof browserSettings>>

/** No whitespace or control characters anywhere: the usual sign of a bad copy and paste. */
export const printable = (v: string): string | null =>
  /^[\x21-\x7e]+$/.test(v)
    ? null
    : 'must be printable ASCII without spaces (check the copy and paste)'

/** The optional `api_key` secret of every token type (compared in constant time by tokens/routes/tokens.ts). */
export const apiKeySecret: SecretSpec = {
  description:
    "optional key a site's server may use instead of the admin token to request tokens of this integration only",
  required: false,
  check: (v) => printable(v) ?? (v.length < 24 ? 'must be at least 24 characters' : null),
}

/** At least 32 bytes: RFC 7518 §3.2 wants an HS256 key as long as the hash output. */
export const hs256Secret = (v: string): string | null => {
  if (v.trim() !== v) return 'must not start or end with whitespace (check the copy and paste)'
  return Buffer.byteLength(v) < 32 ? 'must be at least 32 bytes (HS256 key)' : null
}
