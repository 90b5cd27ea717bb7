/**
 * @module tokens/connection
 * The parts of a token type's connection sheet every type shares: the token endpoints and the
 * state (never the value) of the secrets the operator copies from the platform.
 */
import type { LoadedIntegration } from '../integrations/types.ts'
import { TOKEN_ROUTES } from './paths.ts'
import type { BrowserSettings } from './settings.ts'

/** A value the operator copies from the platform into one of the integration's secrets. */
export interface CopyFromPlatform {
  /** Where the platform shows it. */
  setting: string
  /** Where it goes in sso-bridge. */
  into: string
  set: boolean
}

/** A token type's connection sheet: its own items plus the shared endpoints and secret states. */
export function tokenSheet(
  integration: LoadedIntegration<BrowserSettings>,
  issuer: string,
  sheet: {
    platform: string
    paste_into_platform: { setting: string; value: string }[]
    copy_from_platform: { setting: string; secret: string }[]
    notes?: string[]
    verifyWithJwks?: boolean
  },
): Record<string, unknown> {
  const { record, settings } = integration
  // Whether a secret resolves to a value where this runs (an `{ env }` variable may be missing).
  const secretSet = (name: string) => integration.secret(name) !== undefined
  return {
    platform: sheet.platform,
    paste_into_platform: sheet.paste_into_platform,
    copy_from_platform: sheet.copy_from_platform.map(({ setting, secret }): CopyFromPlatform => ({
      setting,
      into: `secrets.${secret}`,
      set: secretSet(secret),
    })),
    token_api: `${issuer}${TOKEN_ROUTES.api(record.id)}`,
    token_api_auth:
      'api_key' in record.secrets
        ? "Bearer <the integration's api_key> (or the admin token)"
        : 'Bearer <admin token> (set secrets.api_key to give a site server a key for this integration only)',
    browser_token_url: `${issuer}${TOKEN_ROUTES.browser(record.id)}`,
    site_origins: settings.site_origins,
    notes: sheet.notes ?? [],
    // connection/sheet.ts adds the JWKS URL and the public key (it knows the OIDC door's paths).
    ...(sheet.verifyWithJwks ? { verify_with_jwks: true } : {}),
  }
}
