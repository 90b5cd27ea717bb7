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
import { replyFor } from './codes.ts'

/** An error as a client sees it: the JSON body of a refusal, the CLI's stderr. */
export interface WireError {
  error: string
  message: string
  details?: { issues: FieldIssue[] } | Record<string, unknown>
}

/**
 * What a client may see of `err`: its wire name (from the table in `codes.ts`) and message; an
 * error that is not ours is a bare `internal_error`.
 */
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
    return { error: replyFor(err.code).error, message: err.message }
  }
  return { error: 'internal_error', message: 'internal error' }
}
