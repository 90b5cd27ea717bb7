/**
 * @module http/error-handler
 * The single table from error code to HTTP status, and the JSON error body
 * `{"error", "message", "details"}`. Unknown errors become a bare 500: their message and stack
 * go to the log, never to the client.
 */
import type { ErrorRequestHandler } from 'express'
import type { BridgeErrorCode } from '../errors/codes.ts'
import { BridgeError, StoreUnavailable } from '../errors/index.ts'
import { toWireError } from '../errors/wire.ts'
import type { Logger } from '../log/logger.ts'
import { HttpError } from '../web/errors.ts'
import { page, type SiteLook } from '../web/views.ts'

const STATUS: Record<BridgeErrorCode, number> = {
  ERR_GENERIC: 500,
  ERR_CONFIG_INVALID: 500,
  ERR_VALIDATION: 400,
  ERR_ACCOUNT_NOT_FOUND: 404,
  ERR_ACCOUNT_CONFLICT: 409,
  ERR_INTEGRATION_NOT_FOUND: 404,
  ERR_INTEGRATION_TYPE_UNKNOWN: 400,
  ERR_PASSWORD_HASH_UNSUPPORTED: 400,
  ERR_KEYS_INVALID: 500,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_STORE_IN_USE: 503,
  ERR_KEYS_MISMATCH: 500,
  ERR_IMPORT_FORMAT: 400,
  ERR_ACCOUNT_DISABLED: 403,
  ERR_ACCOUNT_INCOMPLETE: 422,
  ERR_TOKEN_INVALID: 400,
  ERR_PLATFORM_UNAVAILABLE: 502,
  ERR_JSON_TOO_DEEP: 400,
}

/** body-parser's own error types, by `err.type`. */
const PARSER_ERRORS: Record<string, [number, string, string]> = {
  'entity.too.large': [413, 'payload_too_large', 'request body is too large'],
  'entity.parse.failed': [400, 'invalid_json', 'request body is not valid JSON'],
  'encoding.unsupported': [415, 'unsupported_media_type', 'unsupported content encoding'],
  'charset.unsupported': [415, 'unsupported_media_type', 'unsupported charset'],
  'parameters.too.many': [413, 'payload_too_large', 'too many form parameters'],
  'request.aborted': [400, 'request_aborted', 'the request body ended early'],
  'request.size.invalid': [
    400,
    'invalid_body',
    'the request body does not match its Content-Length',
  ],
}

/** Pages people see get an HTML error page; the API and machines get JSON. */
function wantsHtml(req: Parameters<ErrorRequestHandler>[1]): boolean {
  return !req.originalUrl.startsWith('/api/') && req.accepts(['json', 'html']) === 'html'
}

export function errorHandler(log: Logger, site?: SiteLook): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // oidc-provider's 503 for a store outage (oidc/unavailable.ts) reaches the interaction routes
    // through interactionDetails & co.: here it is the store's own error, answered as everywhere.
    if (err?.cause instanceof StoreUnavailable && err.statusCode === 503) err = err.cause
    let status: number
    let body: { error: string; message: string; details?: unknown }
    let oidcError = false
    if (err instanceof HttpError) {
      status = err.status
      body = { error: err.error, message: err.message }
    } else if (err instanceof BridgeError) {
      status = STATUS[err.code]
      body = toWireError(err)
    } else if (
      err?.name === 'SessionNotFound' ||
      err?.name === 'InvalidRequest' ||
      typeof err?.error === 'string'
    ) {
      // oidc-provider's errors (e.g. an interaction that expired or was already finished).
      status = typeof err.statusCode === 'number' ? err.statusCode : 400
      oidcError = true
      body = {
        error: String(err.error ?? 'invalid_request'),
        message: String(err.error_description ?? err.message ?? 'invalid request'),
      }
    } else if (typeof err?.type === 'string' && PARSER_ERRORS[err.type]) {
      const [s, error, message] = PARSER_ERRORS[err.type]!
      status = s
      body = { error, message }
    } else if (err instanceof URIError) {
      // express's router could not percent-decode a route parameter (`/users/%E0%A4%A`): the
      // client's URL is wrong, whichever route it reached.
      status = 400
      body = { error: 'invalid_path', message: 'the URL path holds invalid percent-encoding' }
    } else if (
      err?.expose === true &&
      Number.isInteger(err.status) &&
      err.status >= 400 &&
      err.status < 500
    ) {
      // Any other client error a library raised the http-errors way (status + expose): its
      // status, one generic code, never its message.
      status = err.status
      body = { error: 'bad_request', message: 'the request is malformed' }
    } else {
      status = 500
      body = toWireError(err)
    }
    // Every refusal is logged with a code: the error's own, else one named after the wire error.
    const code =
      typeof err?.code === 'string'
        ? err.code
        : `ERR_${oidcError ? 'OIDC_' : ''}${body.error.toUpperCase()}`
    const entry = { method: req.method, path: req.path, status, error: body.error, code }
    if (status >= 500)
      log.error({ ...entry, err: { message: err?.message, stack: err?.stack } }, 'request failed')
    else log.info(entry, 'request refused')
    if (res.headersSent) return res.end()
    if (err instanceof BridgeError && err.code === 'ERR_STORE_UNAVAILABLE')
      res.set('Retry-After', String(StoreUnavailable.RETRY_AFTER_SECONDS))
    if (site && wantsHtml(req)) {
      res
        .status(status)
        .type('html')
        .send(
          page('error', 'Something went wrong', site, {
            error: body.error,
            description: body.message,
            reference: '',
          }),
        )
      return
    }
    res.status(status).json(body)
  }
}
