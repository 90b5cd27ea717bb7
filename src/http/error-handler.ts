/**
 * @module http/error-handler
 * The JSON error body `{"error", "message", "details"}` (or the error page, for a browser), with
 * the status the one table in errors/codes.ts gives the error's code. Errors that are not ours
 * are translated here, at the boundary, to one of our codes; unknown errors become a bare 500:
 * their message and stack go to the log, never to the client.
 *
 * A refusal at a door (http/route-group.ts `refusalDoorOf`) is also recorded as a `refused` event
 * with its door, its integration when the path names one, its code and the request id — never the
 * request's body or query — unless the door recorded it already (events/log.ts `recordRefusal`).
 */
import type { ErrorRequestHandler } from 'express'
import {
  BridgeError,
  hasCode,
  replyFor,
  StoreUnavailable,
  type BridgeErrorCode,
} from '../errors/index.ts'
import { toWireError } from '../errors/wire.ts'
import type { EventLog } from '../events/index.ts'
import type { Logger } from '../log/logger.ts'
import { OIDC_ERROR_TITLE, oidcErrorSentence } from '../oidc/error-page.ts'
import { oidcRefusalCode } from '../oidc/refusal-code.ts'
import { errorPage } from '../web/error-page.ts'
import { requestIdOf } from '../web/request-id.ts'
import type { SiteLook } from '../web/views.ts'
import { refusalDoorOf } from './route-group.ts'

/** body-parser's own error types, by `err.type`: our code and the message to show. */
const PARSER_ERRORS: Record<string, [BridgeErrorCode, string]> = {
  'entity.too.large': ['ERR_PAYLOAD_TOO_LARGE', 'request body is too large'],
  'entity.parse.failed': ['ERR_INVALID_JSON', 'request body is not valid JSON'],
  'encoding.unsupported': ['ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported content encoding'],
  'charset.unsupported': ['ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported charset'],
  'parameters.too.many': ['ERR_PAYLOAD_TOO_LARGE', 'too many form parameters'],
  'request.aborted': ['ERR_REQUEST_ABORTED', 'the request body ended early'],
  'request.size.invalid': [
    'ERR_INVALID_BODY',
    'the request body does not match its Content-Length',
  ],
}

/** Pages people see get an HTML error page; the API and machines get JSON. */
function wantsHtml(req: Parameters<ErrorRequestHandler>[1]): boolean {
  return !req.originalUrl.startsWith('/api/') && req.accepts(['json', 'html']) === 'html'
}

/**
 * The app's last middleware: answers any error with the status and wire name of its code
 * (errors/codes.ts), as the JSON body or, for a browser outside /api/, the error page. Errors
 * that are not ours (body-parser, oidc-provider) are translated to one of our codes first;
 * anything else is a bare 500 whose message and stack go only to `log`.
 * @param log where unexpected errors are logged (with their stack)
 * @param site the look of the HTML error page; without it every answer is JSON
 * @param events where refusals at a door are recorded; without it none is
 * @example app.use(errorHandler(log, config.site, services.events))
 */
export function errorHandler(log: Logger, site?: SiteLook, events?: EventLog): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // oidc-provider's 503 for a store outage (oidc/unavailable.ts) reaches the interaction routes
    // through interactionDetails & co.: here it is the store's own error, answered as everywhere.
    if (err?.cause instanceof StoreUnavailable && err.statusCode === 503) err = err.cause
    let code: BridgeErrorCode
    let status: number | undefined
    let body: { error: string; message: string; details?: unknown }
    // oidc-provider's own refusal (its error names are the protocol's): the OIDC member page.
    let oidcError = false
    if (err instanceof BridgeError) {
      code = err.code
      body = toWireError(err)
    } else if (
      err?.name === 'SessionNotFound' ||
      err?.name === 'InvalidRequest' ||
      typeof err?.error === 'string'
    ) {
      // oidc-provider's errors (e.g. an interaction that expired or was already finished): its
      // own status and error name, as its endpoints answer them.
      body = {
        error: String(err.error ?? 'invalid_request'),
        message: String(err.error_description ?? err.message ?? 'invalid request'),
      }
      code = oidcRefusalCode(body.error)
      oidcError = true
      status = typeof err.statusCode === 'number' ? err.statusCode : replyFor(code).status
    } else if (typeof err?.type === 'string' && PARSER_ERRORS[err.type]) {
      const [parserCode, message] = PARSER_ERRORS[err.type]!
      code = parserCode
      body = { error: replyFor(code).error, message }
    } else if (err instanceof URIError) {
      // express's router could not percent-decode a route parameter (`/users/%E0%A4%A`): the
      // client's URL is wrong, whichever route it reached.
      code = 'ERR_INVALID_PATH'
      body = { error: replyFor(code).error, message: 'the URL path holds invalid percent-encoding' }
    } else if (
      err?.expose === true &&
      Number.isInteger(err.status) &&
      err.status >= 400 &&
      err.status < 500
    ) {
      // Any other client error a library raised the http-errors way (status + expose): its
      // status, one generic code, never its message.
      code = 'ERR_BAD_REQUEST'
      status = err.status as number
      body = { error: replyFor(code).error, message: 'the request is malformed' }
    } else {
      code = 'ERR_GENERIC'
      body = toWireError(err)
    }
    status ??= replyFor(code).status
    // Every refusal is logged with its code; a foreign error's own code (zlib's Z_DATA_ERROR,
    // a driver's) goes beside it as `cause_code`, for the operator.
    const entry = {
      method: req.method,
      path: req.path,
      status,
      error: body.error,
      code,
      ...(!(err instanceof BridgeError) && typeof err?.code === 'string'
        ? { cause_code: String(err.code) }
        : {}),
    }
    if (status >= 500)
      log.error({ ...entry, err: { message: err?.message, stack: err?.stack } }, 'request failed')
    else log.info(entry, 'request refused')
    const requestId = requestIdOf(res)
    const at = refusalDoorOf(req.path)
    if (events && at)
      events.recordRefusal({
        door: at.door,
        result: code,
        integrationId: at.integrationId ?? null,
        requestId,
      })
    if (res.headersSent) return res.end()
    if (hasCode(err, 'ERR_STORE_UNAVAILABLE'))
      res.set('Retry-After', String(StoreUnavailable.RETRY_AFTER_SECONDS))
    if (site && wantsHtml(req)) {
      res
        .status(status)
        .type('html')
        .send(
          errorPage(
            site,
            oidcError
              ? {
                  title: OIDC_ERROR_TITLE,
                  sentence:
                    err?.name === 'SessionNotFound'
                      ? 'This sign-in page has expired or was already used.'
                      : oidcErrorSentence(body.error),
                  code: body.error,
                  requestId,
                }
              : {
                  title: 'Something went wrong',
                  sentence: memberSentence(status, body.message),
                  code: body.error,
                  requestId,
                },
          ),
        )
      return
    }
    res.status(status).json(body)
  }
}

/**
 * The page's sentence for one of our refusals: its message (written for the client, never
 * internals: errors/wire.ts) as a sentence, or for a server error only that it was ours.
 */
function memberSentence(status: number, message: string): string {
  if (status >= 500) return 'Something went wrong on our side.'
  const text = message.trim()
  if (text === '') return 'This request could not be handled.'
  return `${text[0]!.toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`
}
