/**
 * @module web/errors
 * Conditions that exist only at the HTTP edge (no domain meaning). Like every error, each is a
 * {@link BridgeError} with a code; its status and wire name are the code's line in
 * errors/codes.ts.
 */
import { BridgeError, type BridgeErrorCode } from '../errors/index.ts'

/** The codes only the HTTP edge raises. */
export type HttpErrorCode = Extract<
  BridgeErrorCode,
  | 'ERR_UNAUTHORIZED'
  | 'ERR_NOT_FOUND'
  | 'ERR_PAYLOAD_TOO_LARGE'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_CSRF_FAILED'
  | 'ERR_LOGIN_RETURN_TO'
  | 'ERR_PASSWORD_SIGN_IN_OFF'
  | 'ERR_INTERACTION_UNKNOWN'
  | 'ERR_INTERACTION_STATE'
>

/** A request refused at the edge; `message` is shown to the client. */
export class HttpError extends BridgeError {
  override readonly code: HttpErrorCode
  constructor(code: HttpErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** No admin token, or the wrong one (401 `unauthorized`). */
export const unauthorized = () =>
  new HttpError('ERR_UNAUTHORIZED', 'a valid admin bearer token is required')
/** A body above `limit` bytes (413 `payload_too_large`). */
export const payloadTooLarge = (limit: number) =>
  new HttpError('ERR_PAYLOAD_TOO_LARGE', `request body is larger than ${limit} bytes`)
/** A body in another format than `accepted` (415 `unsupported_media_type`). */
export const unsupportedMediaType = (accepted: string) =>
  new HttpError('ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${accepted}`)
/** No such endpoint (404 `not_found`). */
export const notFound = () => new HttpError('ERR_NOT_FOUND', 'no such endpoint')
