/**
 * @module tokens/discourse/errors
 * Why a DiscourseConnect request was refused: one {@link BridgeError} subclass whose code is one
 * of the `ERR_DISCOURSE_*` codes of the shared table (errors/codes.ts says each one's status and
 * wire name). The route logs each with its code and the error handler answers it with a page.
 */
import { BridgeError, type BridgeErrorCode } from '../../errors/index.ts'

/** The `ERR_DISCOURSE_*` codes: the DiscourseConnect endpoint's part of the closed union. */
export type DiscourseErrorCode = Extract<BridgeErrorCode, `ERR_DISCOURSE_${string}`>

/** A request from Discourse was refused; `message` is safe to show on the error page. */
export class DiscourseRequestInvalid extends BridgeError {
  override readonly code: DiscourseErrorCode
  constructor(code: DiscourseErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
