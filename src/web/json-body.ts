/**
 * @module web/json-body
 * The one JSON body reader of every route that takes JSON (admin API, token API, inspect), with
 * express.json's answers: the same limit, any content type, any JSON value (`strict: false`), an
 * empty body read as `{}` (no body at all, neither Content-Length nor Transfer-Encoding:
 * `req.body` left undefined), and errors carrying body-parser's `type`s, so the error handler
 * answers 413 `payload_too_large` and 400 `invalid_json` as it does for body-parser.
 *
 * Every body is checked for nesting depth before it is parsed ({@link jsonTextTooDeep}): a body
 * opening more than `MAX_JSON_DEPTH` arrays/objects is refused with 400 `json_too_deep`, so no
 * validator or walker after it can overflow the stack (10,000 levels did, answered 500).
 *
 * Why not express.json: it parses inside body-parser, where no depth check can run first; and
 * for a small UTF-8 body it costs more than the rest of the token route's plumbing (type-is,
 * content-type parsing, raw-body, iconv): measured, this reader and a direct response made the
 * token API ~28 % faster over HTTP. Anything unusual (a Content-Encoding, a charset other than
 * UTF-8) is read by express.text, which inflates and transcodes, then parsed here the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { text, type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import { jsonTextTooDeep, MAX_JSON_DEPTH } from '../accounts/json-depth.ts'
import { JsonTooDeep } from '../errors/index.ts'

/** An error as body-parser makes them (`type`, `status`), which the error handler maps. */
function parserError(
  type: 'entity.too.large' | 'entity.parse.failed' | 'charset.unsupported',
  status: number,
  message: string,
): Error {
  return Object.assign(new Error(message), { type, status, expose: true })
}

const UTF8_CHARSET = /;\s*charset\s*=\s*"?utf-?8"?\s*(?:;|$)/i
// body-parser's json reads the UTF encodings only (RFC 8259 §8.1 allows nothing else).
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i

/**
 * Parses a body's text into `req.body`: `{}` for an empty body, else JSON once its depth is
 * known to be within {@link MAX_JSON_DEPTH}.
 */
function parseInto(req: Request, body: string, next: NextFunction): void {
  if (body.length === 0) {
    req.body = {}
    return next()
  }
  if (jsonTextTooDeep(body)) return next(new JsonTooDeep(MAX_JSON_DEPTH))
  try {
    req.body = JSON.parse(body)
  } catch {
    return next(parserError('entity.parse.failed', 400, 'request body is not valid JSON'))
  }
  next()
}

/**
 * The reader as connect-style middleware (as body-parser's are), so a route's own parameter
 * types still come from its path.
 */
export type JsonBodyReader = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void

/**
 * The JSON body reader for a route, with `limit` in bytes (MAX_BODY_BYTES): mount it on the
 * routes that take JSON, never app-wide, so a form route keeps its own parser and an import
 * keeps its streaming limit. Failures go to `next` as body-parser's typed errors (413, 400,
 * 415) or {@link JsonTooDeep}, which the error handler answers with their stable codes.
 * @param limit the largest body accepted, in bytes
 * @example router.put('/users/:external_id', jsonBody(config.maxBodyBytes), handler)
 */
export function jsonBody(limit: number): JsonBodyReader {
  const general: RequestHandler = text({ limit, type: () => true, defaultCharset: 'utf-8' })
  return (incoming, res, next) => {
    const req = incoming as Request
    const encoding = req.headers['content-encoding']
    const type = req.headers['content-type'] ?? ''
    if (
      (encoding !== undefined && encoding.toLowerCase() !== 'identity') ||
      (type.includes('charset') && !UTF8_CHARSET.test(type))
    ) {
      const charset = CHARSET.exec(type)?.[1]?.toLowerCase()
      if (charset !== undefined && !charset.startsWith('utf-')) {
        req.resume()
        return next(
          parserError('charset.unsupported', 415, `unsupported charset "${charset.toUpperCase()}"`),
        )
      }
      return general(req, res as Response, (err?: unknown) =>
        err ? next(err) : typeof req.body === 'string' ? parseInto(req, req.body, next) : next(),
      )
    }
    const declared = req.headers['content-length']
    if (declared === undefined && req.headers['transfer-encoding'] === undefined) return next()
    if (declared !== undefined && Number(declared) > limit) {
      req.resume() // drained, not read
      return next(parserError('entity.too.large', 413, 'request entity too large'))
    }
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    const fail = (err: Error) => {
      if (failed) return
      failed = true
      req.off('data', onData)
      req.resume()
      next(err)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit)
        return fail(parserError('entity.too.large', 413, 'request entity too large'))
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('error', fail)
    req.once('aborted', () =>
      fail(Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400 })),
    )
    req.once('end', () => {
      if (failed) return
      parseInto(
        req,
        (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8'),
        next,
      )
    })
  }
}
