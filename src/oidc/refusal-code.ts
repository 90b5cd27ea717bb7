/**
 * @module oidc/refusal-code
 * The code an oidc-provider refusal is logged with: `ERR_OIDC_` and its OAuth error name,
 * upper-cased (`invalid_grant` → `ERR_OIDC_INVALID_GRANT`), each one a member of the closed
 * union in errors/codes.ts. An error name oidc-provider did not have when the table was written
 * is logged as `ERR_OIDC_OTHER` (its name is still in the line's `error` field).
 */
import { isBridgeErrorCode, type BridgeErrorCode } from '../errors/index.ts'

/**
 * @param error the refusal's OAuth 2.0 / OIDC error name (`err.error`)
 * @example oidcRefusalCode('invalid_client') // 'ERR_OIDC_INVALID_CLIENT'
 */
export function oidcRefusalCode(error: string): BridgeErrorCode {
  const code = `ERR_OIDC_${error.toUpperCase()}`
  return isBridgeErrorCode(code) ? code : 'ERR_OIDC_OTHER'
}
