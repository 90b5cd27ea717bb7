/**
 * @module saml/signer
 * XML that is canonical as written, and its enveloped RSA-SHA256 signature.
 *
 * Why not samlify's path (parse the template → exclusive C14N with xml-crypto → digest →
 * C14N of SignedInfo → sign → serialize, once per signature): on one core it spent about 5/6 of
 * each response re-parsing and canonicalising XML we had just written. Here every element is
 * written already in Exclusive XML Canonicalization form (xml-exc-c14n §3 / xml-c14n §2.3):
 *
 * - no whitespace between elements, no self-closing tags, no XML declaration;
 * - namespace declarations first, sorted by prefix, and only on the element that first
 *   visibly uses the prefix (so the Response declares `samlp`, its Issuer and Assertion each
 *   declare `saml`, every ds:Signature declares `ds`);
 * - then attributes sorted by name (all ours are unqualified);
 * - text escaped `& < >` and CR, attribute values `& < "` TAB LF CR (§2.3), characters XML 1.0
 *   cannot carry removed.
 *
 * So the canonical form of an element is its own text: its digest is one SHA-256 over the
 * string, and the C14N of SignedInfo is the string we sign. The SPs' own canonicaliser
 * (xml-crypto in node-saml and samlify, xmlsec elsewhere) reproduces the same bytes; the
 * round-trip tests verify exactly that.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto'

/** The SAML and XML-DSig namespace URIs the messages we write use. */
export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const

/** The XML-DSig algorithm identifiers this IdP signs with (also the redirect binding's SigAlg). */
export const ALG = {
  c14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const

// XML 1.0 §2.2 Char: anything else cannot be written at all (not even as a reference).
const NOT_XML_CHAR =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
const TEXT_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '\r': '&#xD;',
}
const ATTR_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '"': '&quot;',
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
}

// One test decides whether a value needs any work at all (most do not).
const NEEDS_WORK = /[&<>"\u0000-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/

/** Text content in canonical form. */
export function text(value: string): string {
  if (!NEEDS_WORK.test(value)) return value
  return value.replace(NOT_XML_CHAR, '').replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!)
}

/** An attribute value in canonical form. */
export function attr(value: string): string {
  if (!NEEDS_WORK.test(value)) return value
  return value.replace(NOT_XML_CHAR, '').replace(/[&<"\t\n\r]/g, (c) => ATTR_ESCAPES[c]!)
}

const byName = (a: readonly [string, unknown], b: readonly [string, unknown]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0

/**
 * One element in canonical form. `attrs` are unqualified names (undefined values are left out);
 * `ns` the namespace declarations this element must carry; `content` already-canonical markup.
 */
export function el(
  name: string,
  attrs: Record<string, string | undefined>,
  content: string,
  ns?: Record<string, string>,
): string {
  let out = `<${name}`
  if (ns)
    for (const [prefix, uri] of Object.entries(ns).sort(byName))
      out += ` xmlns:${prefix}="${attr(uri)}"`
  const names = Object.keys(attrs)
  if (names.length > 1) names.sort()
  for (const k of names) {
    const v = attrs[k]
    if (v !== undefined) out += ` ${k}="${attr(v)}"`
  }
  return `${out}>${content}</${name}>`
}

/** A parsed signing key and its certificate, ready for {@link signEnveloped} (see {@link signingKey}). */
export interface SigningKey {
  key: KeyObject
  /** The certificate's base64 DER (the PEM body without armour and line breaks). */
  certificateB64: string
  /** The ds:KeyInfo element carrying it (canonical). */
  keyInfo: string
}

/** Parses a PEM key pair once; signing then costs one RSA operation and two SHA-256. */
export function signingKey(privateKeyPem: string, certificatePem: string): SigningKey {
  const certificateB64 = certificatePem
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '')
  return {
    key: createPrivateKey(privateKeyPem),
    certificateB64,
    keyInfo: el(
      'ds:KeyInfo',
      {},
      el('ds:X509Data', {}, el('ds:X509Certificate', {}, certificateB64)),
    ),
  }
}

/**
 * The ds:Signature of the element `canonical` (whose `ID` is `id`), enveloped: its
 * transforms are enveloped-signature then exc-c14n, so the digest is over the element as it
 * is before the signature goes in.
 */
export function signature(canonical: string, id: string, k: SigningKey): string {
  const digest = createHash('sha256').update(canonical).digest('base64')
  // Everything but the reference URI and the digest is constant: written once (below).
  const signedInfoBody = `${SIGNED_INFO_HEAD}<ds:Reference URI="${attr(`#${id}`)}">${REFERENCE_HEAD}<ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`
  // Canonicalised alone, SignedInfo carries the ds declaration its Signature parent has in the document.
  const value = sign(
    'sha256',
    Buffer.from(`<ds:SignedInfo xmlns:ds="${NS.dsig}">${signedInfoBody}</ds:SignedInfo>`),
    k.key,
  ).toString('base64')
  return `<ds:Signature xmlns:ds="${NS.dsig}"><ds:SignedInfo>${signedInfoBody}</ds:SignedInfo><ds:SignatureValue>${value}</ds:SignatureValue>${k.keyInfo}</ds:Signature>`
}

const SIGNED_INFO_HEAD =
  el('ds:CanonicalizationMethod', { Algorithm: ALG.c14n }, '') +
  el('ds:SignatureMethod', { Algorithm: ALG.rsaSha256 }, '')
const REFERENCE_HEAD =
  el(
    'ds:Transforms',
    {},
    el('ds:Transform', { Algorithm: ALG.enveloped }, '') +
      el('ds:Transform', { Algorithm: ALG.c14n }, ''),
  ) + el('ds:DigestMethod', { Algorithm: ALG.sha256 }, '')

/**
 * Puts the enveloped signature of `element` right after its first child (the Issuer, where
 * saml-core §3.2.1 and §2.3.3 place it).
 */
export function signEnveloped(element: string, id: string, k: SigningKey): string {
  const at = element.indexOf('</saml:Issuer>') + '</saml:Issuer>'.length
  if (at < '</saml:Issuer>'.length) throw new Error('signEnveloped: the element has no Issuer')
  return element.slice(0, at) + signature(element, id, k) + element.slice(at)
}
