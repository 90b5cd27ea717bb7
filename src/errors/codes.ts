/**
 * @module errors/codes
 * Every error code sso-bridge raises or logs, one line each with how it is answered: the HTTP
 * status and the snake_case name a client sees (`error` in a JSON body, on an error page, in a
 * log line's `error`). This table is the only place a status is chosen for an error: the HTTP
 * error handler, the SAML door's error page and the ticket door's pages all read it, and the
 * error classes (`errors.ts`) carry a code, never a status (jose's `util/errors.ts` model).
 *
 * Callers branch on `err.code`, never on `err.message`. The union {@link BridgeErrorCode} is
 * derived from this table, so a code is added by adding its line here, and a typo'd code in a
 * `throw` or a log line fails `tsc`. A 5xx status means a fault of this server (or of a service
 * behind it); anything the client can fix is 4xx (test/errors/codes.test.ts holds both rules).
 */

/** How one code is answered. */
export interface ErrorReply {
  /** HTTP status of the JSON body or error page that answers it. */
  readonly status: number
  /** The stable snake_case name a client sees. Several codes may share one. */
  readonly error: string
}

const reply = (status: number, error: string): ErrorReply => ({ status, error })

/**
 * The one table: code → status and wire name. Grouped by who raises them; one line per code.
 * Codes marked "log only" are never thrown: the door that logs them answers as written here.
 */
export const ERROR_REPLIES = {
  // Any error that is not ours: a bug or an outage we did not foresee. The client learns nothing.
  ERR_GENERIC: reply(500, 'internal_error'),

  // Startup and operations (the CLI reports them; a server that hits them does not start).
  ERR_CONFIG_INVALID: reply(500, 'config_invalid'),
  ERR_KEYS_INVALID: reply(500, 'keys_invalid'),
  ERR_KEYS_MISMATCH: reply(500, 'keys_mismatch'),
  // The console's key rotation, refused before anything changed (keys/rotation.ts).
  ERR_KEYS_ROTATION_REFUSED: reply(409, 'keys_rotation_refused'),
  // A stored secret sealed under a key SECRETS_KEY / KEYS_DIR does not hold (secrets/box.ts):
  // the server cannot serve it until the operator gives the key back, as for an outage.
  ERR_SECRETS_KEY_MISSING: reply(503, 'secrets_key_missing'),
  // A stored secret that no key opens: altered, or copied from another row (its AAD differs).
  ERR_SECRET_UNREADABLE: reply(500, 'secret_unreadable'),
  ERR_STORE_UNAVAILABLE: reply(503, 'store_unavailable'),
  ERR_STORE_IN_USE: reply(503, 'store_in_use'),
  ERR_USAGE: reply(400, 'usage_error'),
  ERR_SCHEMA_TOO_NEW: reply(500, 'schema_too_new'), // the database was migrated by a newer build

  // Backup and restore (the CLI only).
  ERR_BACKUP_INVALID: reply(400, 'backup_invalid'),
  ERR_BACKUP_STORE_MISMATCH: reply(400, 'backup_store_mismatch'),
  ERR_BACKUP_FILE_EXISTS: reply(409, 'backup_file_exists'),
  ERR_RESTORE_TARGET_NOT_EMPTY: reply(409, 'restore_target_not_empty'),

  // Accounts, integrations, mappings, imports (the admin API and the CLI).
  ERR_VALIDATION: reply(400, 'validation_failed'),
  ERR_JSON_TOO_DEEP: reply(400, 'json_too_deep'),
  ERR_MAPPING_SYNTAX: reply(400, 'validation_failed'),
  ERR_ACCOUNT_NOT_FOUND: reply(404, 'user_not_found'),
  ERR_ACCOUNT_CONFLICT: reply(409, 'conflict'),
  ERR_ACCOUNT_DISABLED: reply(403, 'account_disabled'),
  ERR_ACCOUNT_INCOMPLETE: reply(422, 'account_incomplete'),
  ERR_INTEGRATION_NOT_FOUND: reply(404, 'integration_not_found'),
  ERR_INTEGRATION_EXISTS: reply(409, 'integration_exists'), // the console's Add, for an id in use
  ERR_INTEGRATION_TYPE_UNKNOWN: reply(400, 'validation_failed'),
  ERR_PASSWORD_HASH_UNSUPPORTED: reply(400, 'validation_failed'),
  ERR_IMPORT_FORMAT: reply(400, 'import_format_invalid'),
  ERR_IMPORT_REJECTED: reply(422, 'import_rejected'),

  // Platform tokens.
  ERR_TOKEN_INVALID: reply(400, 'token_invalid'),
  ERR_PLATFORM_UNAVAILABLE: reply(502, 'platform_unavailable'),

  // DiscourseConnect (tokens/discourse/): a request from Discourse refused, nothing changed.
  ERR_DISCOURSE_MALFORMED: reply(400, 'discourse_malformed'),
  ERR_DISCOURSE_SIGNATURE: reply(400, 'discourse_signature'),
  ERR_DISCOURSE_RETURN_URL: reply(400, 'discourse_return_url'),
  ERR_DISCOURSE_NONCE_REPLAYED: reply(400, 'discourse_nonce_replayed'),
  ERR_DISCOURSE_PENDING_EXPIRED: reply(400, 'discourse_pending_expired'),

  // The HTTP edge: requests no route can take as they are.
  ERR_UNAUTHORIZED: reply(401, 'unauthorized'),
  ERR_NOT_FOUND: reply(404, 'not_found'),
  ERR_PAYLOAD_TOO_LARGE: reply(413, 'payload_too_large'),
  ERR_UNSUPPORTED_MEDIA_TYPE: reply(415, 'unsupported_media_type'),
  ERR_INVALID_JSON: reply(400, 'invalid_json'),
  ERR_INVALID_BODY: reply(400, 'invalid_body'),
  ERR_REQUEST_ABORTED: reply(400, 'request_aborted'),
  ERR_INVALID_PATH: reply(400, 'invalid_path'),
  ERR_BAD_REQUEST: reply(400, 'bad_request'),
  ERR_CSRF_FAILED: reply(403, 'csrf_failed'),

  // The sign-in page and the OIDC interaction pages.
  ERR_LOGIN_FAILED: reply(401, 'login_failed'), // log only: the form again, with a message
  ERR_LOGIN_THROTTLED: reply(429, 'login_throttled'), // log only: the form again, Retry-After
  ERR_LOGIN_FLOOR_EXCEEDED: reply(401, 'login_failed'), // log only, beside ERR_LOGIN_FAILED
  ERR_LOGIN_RETURN_TO: reply(400, 'invalid_return_to'),
  ERR_PASSWORD_SIGN_IN_OFF: reply(403, 'password_sign_in_off'), // PASSWORD_SIGN_IN=off
  ERR_INTERACTION_UNKNOWN: reply(400, 'interaction_unknown'),
  ERR_INTERACTION_STATE: reply(400, 'interaction_state'),

  // Operators and the console (operators/, console/; issue #14).
  ERR_OPERATOR_NOT_FOUND: reply(404, 'operator_not_found'),
  ERR_OPERATOR_EXISTS: reply(409, 'operator_exists'),
  ERR_OPERATOR_DISABLED: reply(403, 'operator_disabled'),
  ERR_CONSOLE_LOGIN_FAILED: reply(401, 'login_failed'), // log only: the form again, with a message
  ERR_CONSOLE_TOTP_FAILED: reply(401, 'totp_failed'), // log only: the TOTP form again
  ERR_CONSOLE_TOTP_REPLAYED: reply(401, 'totp_replayed'), // log only: the TOTP form again
  ERR_CONSOLE_TOTP_REQUIRED: reply(403, 'totp_required'),
  ERR_CONSOLE_SESSION_EXPIRED: reply(401, 'console_session_expired'),

  // Site tickets (login/ticket.ts verifies, the ticket door answers with an error page).
  ERR_TICKET_INVALID: reply(400, 'ticket_invalid'),
  ERR_TICKET_EXPIRED: reply(400, 'ticket_expired'),
  ERR_TICKET_REPLAYED: reply(400, 'ticket_replayed'),
  ERR_TICKET_AUDIENCE: reply(400, 'ticket_audience'),
  ERR_TICKET_ACCOUNT_DISABLED: reply(403, 'account_disabled'),
  ERR_TICKET_STALE: reply(400, 'ticket_stale'), // the sign-in asked for a fresh one
  ERR_TICKET_CONTINUATION_GONE: reply(400, 'sign_in_expired'),
  ERR_TICKET_DISABLED: reply(404, 'not_found'),
  ERR_TICKET_RETURN_TO: reply(400, 'return_to_invalid'),
  ERR_TICKET_ORIGIN: reply(403, 'origin_not_allowed'),
  ERR_TICKET_CONFLICT: reply(409, 'conflict'), // the page names the field: `username_taken`
  ERR_TICKET_PROMPT_EXPIRED: reply(400, 'prompt_expired'),
  ERR_TICKET_PROMPT_INVALID: reply(400, 'validation_failed'), // log only: the prompt again

  // SAML (saml/errors.ts). The wire name is the code without `ERR_`, lower-cased.
  ERR_SAML_MALFORMED: reply(400, 'saml_malformed'),
  ERR_SAML_TOO_LARGE: reply(413, 'saml_too_large'),
  ERR_SAML_DTD: reply(400, 'saml_dtd'),
  ERR_SAML_SCHEMA: reply(400, 'saml_schema'),
  ERR_SAML_UNKNOWN_SP: reply(404, 'saml_unknown_sp'),
  ERR_SAML_ACS_NOT_REGISTERED: reply(400, 'saml_acs_not_registered'),
  ERR_SAML_REPLAYED: reply(400, 'saml_replayed'),
  ERR_SAML_STALE: reply(400, 'saml_stale'),
  ERR_SAML_SIGNATURE: reply(400, 'saml_signature'),
  ERR_SAML_SIGNATURE_ALGORITHM: reply(400, 'saml_signature_algorithm'),
  ERR_SAML_DUPLICATE_PARAMETER: reply(400, 'saml_duplicate_parameter'),
  ERR_SAML_RELAY_STATE: reply(400, 'saml_relay_state'),
  ERR_SAML_UNSUPPORTED: reply(400, 'saml_unsupported'),
  ERR_SAML_PENDING_EXPIRED: reply(400, 'saml_pending_expired'),
  // Log only: answered to the SP by a SAML error Response (status Requester), not a page.
  ERR_SAML_NO_PASSIVE: reply(400, 'saml_no_passive'),
  ERR_SAML_CANCELLED: reply(400, 'saml_cancelled'),

  // The user-info endpoint's RFC 6750 refusals (log only: it answers in RFC 6750's own form).
  ERR_ACCESS_TOKEN_MISSING: reply(401, 'invalid_token'), // a bare challenge (RFC 6750 §3.1)
  ERR_ACCESS_TOKEN_REQUEST: reply(400, 'invalid_request'),
  ERR_ACCESS_TOKEN_INVALID: reply(401, 'invalid_token'),

  // OIDC: oidc-provider answers these itself; logged as `ERR_OIDC_<its error, upper-cased>`
  // (oidc/refusal-code.ts). Statuses are oidc-provider's (a test compares them with its classes).
  // Log only: a relying party's back-channel logout endpoint failed (a service behind us).
  ERR_BACKCHANNEL_LOGOUT_FAILED: reply(502, 'backchannel_logout_failed'),
  ERR_OIDC_CLIENT_SECRET_UNSET: reply(401, 'invalid_client'), // log only: an `{ env }` secret unset
  ERR_OIDC_SERVER_ERROR: reply(500, 'server_error'),
  ERR_OIDC_OTHER: reply(400, 'invalid_request'), // an error name this oidc-provider did not have
  ERR_OIDC_ACCESS_DENIED: reply(400, 'access_denied'),
  ERR_OIDC_AUTHORIZATION_PENDING: reply(400, 'authorization_pending'),
  ERR_OIDC_CONSENT_REQUIRED: reply(400, 'consent_required'),
  ERR_OIDC_CREDENTIAL_REQUEST_DENIED: reply(400, 'credential_request_denied'),
  ERR_OIDC_EXPIRED_LOGIN_HINT_TOKEN: reply(400, 'expired_login_hint_token'),
  ERR_OIDC_EXPIRED_TOKEN: reply(400, 'expired_token'),
  ERR_OIDC_INSUFFICIENT_SCOPE: reply(403, 'insufficient_scope'),
  ERR_OIDC_INTERACTION_REQUIRED: reply(400, 'interaction_required'),
  ERR_OIDC_INVALID_AUTHORIZATION_DETAILS: reply(400, 'invalid_authorization_details'),
  ERR_OIDC_INVALID_BINDING_MESSAGE: reply(400, 'invalid_binding_message'),
  ERR_OIDC_INVALID_CLIENT: reply(401, 'invalid_client'),
  ERR_OIDC_INVALID_CLIENT_ATTESTATION: reply(400, 'invalid_client_attestation'),
  ERR_OIDC_INVALID_CLIENT_METADATA: reply(400, 'invalid_client_metadata'),
  ERR_OIDC_INVALID_CREDENTIAL_REQUEST: reply(400, 'invalid_credential_request'),
  ERR_OIDC_INVALID_DPOP_PROOF: reply(400, 'invalid_dpop_proof'),
  ERR_OIDC_INVALID_GRANT: reply(400, 'invalid_grant'),
  ERR_OIDC_INVALID_NONCE: reply(400, 'invalid_nonce'),
  ERR_OIDC_INVALID_PROOF: reply(400, 'invalid_proof'),
  ERR_OIDC_INVALID_REDIRECT_URI: reply(400, 'invalid_redirect_uri'),
  ERR_OIDC_INVALID_REQUEST: reply(400, 'invalid_request'),
  ERR_OIDC_INVALID_REQUEST_OBJECT: reply(400, 'invalid_request_object'),
  ERR_OIDC_INVALID_REQUEST_URI: reply(400, 'invalid_request_uri'),
  ERR_OIDC_INVALID_SCOPE: reply(400, 'invalid_scope'),
  ERR_OIDC_INVALID_SOFTWARE_STATEMENT: reply(400, 'invalid_software_statement'),
  ERR_OIDC_INVALID_TARGET: reply(400, 'invalid_target'),
  ERR_OIDC_INVALID_TOKEN: reply(401, 'invalid_token'),
  ERR_OIDC_INVALID_USER_CODE: reply(400, 'invalid_user_code'),
  ERR_OIDC_LOGIN_REQUIRED: reply(400, 'login_required'),
  ERR_OIDC_MISSING_USER_CODE: reply(400, 'missing_user_code'),
  ERR_OIDC_REGISTRATION_NOT_SUPPORTED: reply(400, 'registration_not_supported'),
  ERR_OIDC_REQUEST_NOT_SUPPORTED: reply(400, 'request_not_supported'),
  ERR_OIDC_REQUEST_URI_NOT_SUPPORTED: reply(400, 'request_uri_not_supported'),
  ERR_OIDC_SLOW_DOWN: reply(400, 'slow_down'),
  ERR_OIDC_TEMPORARILY_UNAVAILABLE: reply(400, 'temporarily_unavailable'),
  ERR_OIDC_TRANSACTION_FAILED: reply(400, 'transaction_failed'),
  ERR_OIDC_UNAPPROVED_SOFTWARE_STATEMENT: reply(400, 'unapproved_software_statement'),
  ERR_OIDC_UNAUTHORIZED_CLIENT: reply(400, 'unauthorized_client'),
  ERR_OIDC_UNKNOWN_CREDENTIAL_CONFIGURATION: reply(400, 'unknown_credential_configuration'),
  ERR_OIDC_UNKNOWN_CREDENTIAL_IDENTIFIER: reply(400, 'unknown_credential_identifier'),
  ERR_OIDC_UNKNOWN_USER_ID: reply(400, 'unknown_user_id'),
  ERR_OIDC_UNMET_AUTHENTICATION_REQUIREMENTS: reply(400, 'unmet_authentication_requirements'),
  ERR_OIDC_UNSUPPORTED_GRANT_TYPE: reply(400, 'unsupported_grant_type'),
  ERR_OIDC_UNSUPPORTED_RESPONSE_MODE: reply(400, 'unsupported_response_mode'),
  ERR_OIDC_UNSUPPORTED_RESPONSE_TYPE: reply(400, 'unsupported_response_type'),
  ERR_OIDC_UNSUPPORTED_TOKEN_TYPE: reply(400, 'unsupported_token_type'),
  ERR_OIDC_USE_ATTESTATION_CHALLENGE: reply(400, 'use_attestation_challenge'),
  ERR_OIDC_USE_DPOP_NONCE: reply(400, 'use_dpop_nonce'),
  ERR_OIDC_USE_FRESH_ATTESTATION: reply(400, 'use_fresh_attestation'),
} as const satisfies Record<`ERR_${string}`, ErrorReply>

/** The closed set of error codes: exactly the keys of {@link ERROR_REPLIES}. */
export type BridgeErrorCode = keyof typeof ERROR_REPLIES

/** Every code, in table order (for tests and documentation generators). */
export const BRIDGE_ERROR_CODES = Object.freeze(
  Object.keys(ERROR_REPLIES) as BridgeErrorCode[],
) as readonly BridgeErrorCode[]

/** Whether `value` is one of our codes (for a code read from outside, e.g. a log line). */
export function isBridgeErrorCode(value: unknown): value is BridgeErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_REPLIES, value)
}

/**
 * How `code` is answered.
 * @example replyFor('ERR_SAML_TOO_LARGE') // { status: 413, error: 'saml_too_large' }
 */
export function replyFor(code: BridgeErrorCode): ErrorReply {
  return ERROR_REPLIES[code]
}
