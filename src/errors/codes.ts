/**
 * @module errors/codes
 * The closed set of error codes sso-bridge raises. Callers branch on `err.code`, never on
 * `err.message`; `http/error-handler.ts` holds the one table from code to HTTP status and
 * wire name.
 */
export type BridgeErrorCode =
  | 'ERR_GENERIC'
  | 'ERR_CONFIG_INVALID'
  | 'ERR_VALIDATION'
  | 'ERR_ACCOUNT_NOT_FOUND'
  | 'ERR_ACCOUNT_CONFLICT'
  | 'ERR_INTEGRATION_NOT_FOUND'
  | 'ERR_INTEGRATION_TYPE_UNKNOWN'
  | 'ERR_PASSWORD_HASH_UNSUPPORTED'
  | 'ERR_KEYS_INVALID'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_STORE_IN_USE'
  | 'ERR_KEYS_MISMATCH'
  | 'ERR_IMPORT_FORMAT'
  | 'ERR_ACCOUNT_DISABLED'
  | 'ERR_ACCOUNT_INCOMPLETE'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_PLATFORM_UNAVAILABLE'
  | 'ERR_JSON_TOO_DEEP'
