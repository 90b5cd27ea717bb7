/**
 * @module saml/errors
 * Why the SAML door refused a message. One class with a closed set of codes (the shape of
 * `errors/errors.ts`, kept inside the door so the shared code table stays the other doors');
 * `saml/routes/saml.ts` turns each into an error page or a SAML error Response, and every
 * refusal is logged with its code.
 */

export type SamlErrorCode =
  | 'ERR_SAML_MALFORMED'
  | 'ERR_SAML_TOO_LARGE'
  | 'ERR_SAML_DTD'
  | 'ERR_SAML_SCHEMA'
  | 'ERR_SAML_UNKNOWN_SP'
  | 'ERR_SAML_ACS_NOT_REGISTERED'
  | 'ERR_SAML_REPLAYED'
  | 'ERR_SAML_STALE'
  | 'ERR_SAML_SIGNATURE'
  | 'ERR_SAML_SIGNATURE_ALGORITHM'
  | 'ERR_SAML_DUPLICATE_PARAMETER'
  | 'ERR_SAML_RELAY_STATE'
  | 'ERR_SAML_UNSUPPORTED'
  | 'ERR_SAML_PENDING_EXPIRED'

/**
 * An inbound SAML message was refused. `message` is safe to show; `cause` (samlify's
 * `Error('ERR_…')`, zlib's) is for the log only.
 */
export class SamlRequestInvalid extends Error {
  readonly code: SamlErrorCode
  constructor(code: SamlErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SamlRequestInvalid'
    this.code = code
  }
}
