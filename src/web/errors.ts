/**
 * @module web/errors
 * Conditions that exist only at the HTTP edge (no domain meaning), with their status.
 */
export class HttpError extends Error {
  readonly status: number
  readonly error: string
  constructor(status: number, error: string, message: string) {
    super(message)
    this.status = status
    this.error = error
  }
}

export const unauthorized = () =>
  new HttpError(401, 'unauthorized', 'a valid admin bearer token is required')
export const payloadTooLarge = (limit: number) =>
  new HttpError(413, 'payload_too_large', `request body is larger than ${limit} bytes`)
export const unsupportedMediaType = (accepted: string) =>
  new HttpError(415, 'unsupported_media_type', `Content-Type must be ${accepted}`)
export const notFound = () => new HttpError(404, 'not_found', 'no such endpoint')
