/**
 * @module saml/verify-signature
 * What an inbound request's signature must be, beyond "it verifies" (issue #10).
 *
 * Enveloped XML signature (HTTP-POST), checked with xml-crypto against the SP's registered
 * certificate only (never a certificate the message carries in KeyInfo):
 * - exactly one `ds:Signature` in the whole message, a direct child of the root;
 * - exactly one Reference, whose URI is `#` + the root's ID (saml-core §5.4.2: "a single
 *   <ds:Reference> containing a same-document reference to the ID attribute value of the root
 *   element"; IDs are unique: xml-guard.ts);
 * - the message the door then reads is parsed from what xml-crypto says was signed
 *   (`getSignedReferences()`), not from the document around it — a signature moved under a new
 *   root, or a signed element tucked into `samlp:Extensions`, cannot lend its validity to
 *   fields it does not cover.
 *
 * Algorithms (xmldsig-core §6, RFC 6931): RSA-SHA256, RSA-SHA512 and RSA-PSS-SHA256 signatures
 * over SHA-256 or SHA-512 digests. RSA-SHA1 and SHA-1 digests only for an SP whose settings say
 * `allow_sha1_signatures: true` (SHA-1 collisions are practical). xml-crypto is given only the
 * allowed algorithms, so it cannot fall back to another. The same list holds for the Redirect
 * binding's `SigAlg`.
 */
import type { SignedXml } from 'xml-crypto'
import { SamlRequestInvalid } from './errors.ts'
import { xmlCrypto } from './libraries.ts'
import { parseSamlXml, type ParsedSaml, type XElement } from './xml-guard.ts'

const DSIG = 'http://www.w3.org/2000/09/xmldsig#'

const SIGNATURE = {
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  /** RSASSA-PSS with SHA-256 (RFC 6931), which samlify SPs can sign with. */
  rsaPssSha256: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
} as const
const DIGEST = {
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
} as const

/** The signature and digest algorithms an SP may use. */
export function allowedAlgorithms(allowSha1: boolean): { signature: string[]; digest: string[] } {
  return {
    signature: [
      SIGNATURE.rsaSha256,
      SIGNATURE.rsaSha512,
      SIGNATURE.rsaPssSha256,
      ...(allowSha1 ? [SIGNATURE.rsaSha1] : []),
    ],
    digest: [DIGEST.sha256, DIGEST.sha512, ...(allowSha1 ? [DIGEST.sha1] : [])],
  }
}

function refuseAlgorithm(
  kind: 'signature' | 'digest',
  uri: string | undefined,
  allowSha1: boolean,
): never {
  const sha1 = uri === SIGNATURE.rsaSha1 || uri === DIGEST.sha1
  throw new SamlRequestInvalid(
    'ERR_SAML_SIGNATURE_ALGORITHM',
    sha1 && !allowSha1
      ? `the request's ${kind} uses SHA-1, which this service provider is not allowed (allow_sha1_signatures)`
      : `the request's ${kind} algorithm is not supported`,
  )
}

/** The Redirect binding's `SigAlg` is one the SP may use. @throws {SamlRequestInvalid} ERR_SAML_SIGNATURE_ALGORITHM */
export function checkSigAlg(sigAlg: string, allowSha1: boolean): void {
  if (!allowedAlgorithms(allowSha1).signature.includes(sigAlg))
    refuseAlgorithm('signature', sigAlg, allowSha1)
}

const children = (node: XElement, name: string): XElement[] =>
  node.children.filter((c) => c.ns === DSIG && c.name === name)
const invalid = (message: string, cause?: unknown) =>
  new SamlRequestInvalid('ERR_SAML_SIGNATURE', message, cause === undefined ? undefined : { cause })

/**
 * Verifies the enveloped signature of `parsed` with `certificatePem` and returns the message as
 * signed: what the door must read from then on (see the module notes).
 * @throws {SamlRequestInvalid} ERR_SAML_SIGNATURE, ERR_SAML_SIGNATURE_ALGORITHM
 */
export function verifyEnvelopedSignature(
  parsed: ParsedSaml,
  certificatePem: string,
  allowSha1: boolean,
): ParsedSaml {
  const rootId = parsed.root.attrs.ID
  const found = parsed.signatures[0]
  if (parsed.signatures.length !== 1 || !found?.underRoot)
    throw invalid('the request must carry exactly one signature, directly in its root element')
  if (!rootId) throw invalid('the signed element has no ID')

  // Read from the element the door parsed; xml-crypto reads the same element (below) and is held to it.
  const signedInfo = children(found.element, 'SignedInfo')
  if (signedInfo.length !== 1) throw invalid('the signature must have one SignedInfo')
  const references = children(signedInfo[0]!, 'Reference')
  if (references.length !== 1) throw invalid('the signature must have exactly one Reference')
  if (references[0]!.attrs.URI !== `#${rootId}`)
    throw invalid('the signature does not cover the root element (Reference URI is not # + its ID)')
  const allowed = allowedAlgorithms(allowSha1)
  const method = children(signedInfo[0]!, 'SignatureMethod')[0]?.attrs.Algorithm
  if (!method || !allowed.signature.includes(method))
    refuseAlgorithm('signature', method, allowSha1)
  const digest = children(references[0]!, 'DigestMethod')[0]?.attrs.Algorithm
  if (!digest || !allowed.digest.includes(digest)) refuseAlgorithm('digest', digest, allowSha1)

  const sig = new (xmlCrypto().SignedXml)({
    publicCert: certificatePem,
    getCertFromKeyInfo: () => null,
  })
  sig.SignatureAlgorithms = Object.fromEntries(
    Object.entries(sig.SignatureAlgorithms).filter(([uri]) => allowed.signature.includes(uri)),
  ) as typeof sig.SignatureAlgorithms
  sig.HashAlgorithms = Object.fromEntries(
    Object.entries(sig.HashAlgorithms).filter(([uri]) => allowed.digest.includes(uri)),
  ) as typeof sig.HashAlgorithms
  let verified: boolean
  try {
    sig.loadSignature(found.node as Parameters<SignedXml['loadSignature']>[0])
    verified = sig.checkSignature(parsed.xml)
  } catch (err) {
    throw invalid('the request signature is invalid', err)
  }
  const signed = sig.getSignedReferences()
  const loaded = sig.getReferences()
  if (!verified || signed.length !== 1 || loaded.length !== 1 || loaded[0]!.uri !== `#${rootId}`)
    throw invalid('the request signature is invalid')

  // The message as signed (the enveloped transform took the signature out).
  const asSigned = parseSamlXml(signed[0]!)
  if (
    asSigned.root.ns !== parsed.root.ns ||
    asSigned.root.name !== parsed.root.name ||
    asSigned.root.attrs.ID !== rootId ||
    asSigned.signatures.length !== 0
  ) {
    throw invalid('the signed element is not the message')
  }
  return asSigned
}
