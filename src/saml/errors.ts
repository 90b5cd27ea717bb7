/**
 * @module saml/errors
 * Why the SAML door refused a message: one {@link BridgeError} subclass whose code is one of the
 * `ERR_SAML_*` codes of the shared table (errors/codes.ts, which also says each one's status).
 * `saml/routes/saml.ts` turns each into an error page, or — when the refusal declares a
 * {@link SamlErrorReply} — into a SAML error Response to the SP; every refusal is logged with its
 * code.
 */
import { BridgeError, type BridgeErrorCode } from '../errors/index.ts'

/** The `ERR_SAML_*` codes: the SAML door's part of the closed union. */
export type SamlErrorCode = Extract<BridgeErrorCode, `ERR_SAML_${string}`>

/**
 * Where a SAML error Response must go when the SP and its ACS are known (saml-core §3.2.2.2,
 * status Requester): the refusal is then answered to the SP, not on an error page.
 */
export interface SamlErrorReply {
  integrationId: string
  acsUrl: string
  /** The AuthnRequest's ID, echoed as InResponseTo. */
  requestId: string
  relayState?: string | undefined
}

/**
 * An inbound SAML message was refused. `message` is safe to show; `cause` (samlify's
 * `Error('ERR_…')`, zlib's) is for the log only. `reply`, when present, says the refusal is
 * answered by a SAML error Response rather than a page.
 */
export class SamlRequestInvalid extends BridgeError {
  override readonly code: SamlErrorCode
  readonly reply: SamlErrorReply | undefined
  constructor(
    code: SamlErrorCode,
    message: string,
    options?: { cause?: unknown; reply?: SamlErrorReply },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.reply = options?.reply
  }

  /** The same refusal, now declaring the SAML error Response it must be answered with. */
  withReply(reply: SamlErrorReply): SamlRequestInvalid {
    return new SamlRequestInvalid(this.code, this.message, {
      ...(this.cause === undefined ? {} : { cause: this.cause }),
      reply,
    })
  }
}
