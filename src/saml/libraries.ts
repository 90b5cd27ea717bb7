/**
 * @module saml/libraries
 * The XML libraries of the SAML door, each loaded the first time a SAML message or an SP's
 * metadata is read, signed or encrypted: a server with no SAML integration never loads them
 * (docs/performance.md). They are CommonJS and their callers synchronous, hence `require`
 * (src/lazy.ts); samlify itself is loaded the same way by idp.ts.
 */
import type * as XmlDom from '@xmldom/xmldom'
import type xmlEncryptionModule from '@authenio/xml-encryption'
import type * as XmlCrypto from 'xml-crypto'
import { lazyRequire } from '../lazy.ts'

/** `@xmldom/xmldom`: the parser behind xml-guard.ts and sp-metadata.ts. */
export const xmldom = lazyRequire<typeof XmlDom>('@xmldom/xmldom')

/** `xml-crypto`: XML-DSig verification (verify-signature.ts) and the legacy signer (response.ts). */
export const xmlCrypto = lazyRequire<typeof XmlCrypto>('xml-crypto')

/** `@authenio/xml-encryption`: EncryptedAssertion (response.ts). */
export const xmlEncryption = lazyRequire<typeof xmlEncryptionModule>('@authenio/xml-encryption')
