/**
 * @module errors/wire
 * The public face of an error: a stable snake_case code, a human message and details that
 * are safe to show. Used by the HTTP error handler, import reports and the CLI alike. Internal
 * data (a conflicting account's id, causes, stack traces) never appears here.
 */
import {
  AccountConflict,
  AccountIncomplete,
  BridgeError,
  ValidationFailed,
  type FieldIssue,
} from './errors.ts'
import type { BridgeErrorCode } from './codes.ts'

export interface WireError {
  error: string
  message: string
  details?: { issues: FieldIssue[] } | Record<string, unknown>
}

const WIRE_CODES: Record<BridgeErrorCode, string> = {
  ERR_GENERIC: 'internal_error',
  ERR_CONFIG_INVALID: 'config_invalid',
  ERR_VALIDATION: 'validation_failed',
  ERR_ACCOUNT_NOT_FOUND: 'user_not_found',
  ERR_ACCOUNT_CONFLICT: 'conflict',
  ERR_INTEGRATION_NOT_FOUND: 'integration_not_found',
  ERR_INTEGRATION_TYPE_UNKNOWN: 'validation_failed',
  ERR_PASSWORD_HASH_UNSUPPORTED: 'validation_failed',
  ERR_KEYS_INVALID: 'keys_invalid',
  ERR_STORE_UNAVAILABLE: 'store_unavailable',
  ERR_STORE_IN_USE: 'store_in_use',
  ERR_KEYS_MISMATCH: 'keys_mismatch',
  ERR_IMPORT_FORMAT: 'import_format_invalid',
  ERR_ACCOUNT_DISABLED: 'account_disabled',
  ERR_ACCOUNT_INCOMPLETE: 'account_incomplete',
  ERR_TOKEN_INVALID: 'token_invalid',
  ERR_PLATFORM_UNAVAILABLE: 'platform_unavailable',
  ERR_JSON_TOO_DEEP: 'json_too_deep',
}

export function toWireError(err: unknown): WireError {
  if (err instanceof AccountConflict) {
    return {
      error: `${err.field}_taken`,
      message: `${err.field} is already used by another account`,
    }
  }
  if (err instanceof AccountIncomplete) {
    return {
      error: 'account_incomplete',
      message: err.message,
      details: { integration: err.integrationId, field: err.field, reason: err.reason },
    }
  }
  if (err instanceof ValidationFailed) {
    return { error: 'validation_failed', message: err.message, details: { issues: err.issues } }
  }
  if (err instanceof BridgeError && err.code !== 'ERR_GENERIC') {
    return { error: WIRE_CODES[err.code], message: err.message }
  }
  return { error: 'internal_error', message: 'internal error' }
}
