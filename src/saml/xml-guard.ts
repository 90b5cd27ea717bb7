/**
 * @module saml/xml-guard
 * Everything an inbound SAML message goes through before samlify sees it, and the schema
 * validator samlify calls (`setSchemaValidator`). It neither leaks nor blocks: no child process,
 * no wasm instance per call, no native listener — one bounded pass of @xmldom/xmldom (samlify's
 * own parser) over a message already capped in size.
 *
 * Rules, in order:
 * - the encoded message is at most {@link LIMITS.encodedBytes}; base64 must be canonical
 *   (alphabet, padding) — anything else is `ERR_SAML_MALFORMED`;
 * - Redirect binding: raw inflate with `maxOutputLength` (deflate bombs stop at the cap);
 * - the decoded XML is at most {@link LIMITS.xmlBytes}, UTF-8;
 * - no `<!DOCTYPE`, `<!ENTITY` or processing instruction other than the XML declaration,
 *   anywhere (XXE, billion laughs) — refused before any parser runs;
 * - the validator: well-formed, exactly one root element, in the SAML 2.0 protocol namespace
 *   and of a message type we accept, every `ID` unique, at most one `ds:Signature` per element
 *   and only where saml-core / xmldsig put it (signature wrapping moves or duplicates them).
 */
import { inflateRawSync } from 'node:zlib'
import { SamlRequestInvalid } from './errors.ts'
import { xmldom } from './libraries.ts'

/**
 * Size and depth limits applied before any XML is parsed, so a hostile message costs little.
 * The routes size their form parser from `encodedBytes`.
 */
export const LIMITS = {
  /** Base64 text of one SAMLRequest / SAMLResponse. */
  encodedBytes: 64 * 1024,
  /** Decoded (and inflated) XML. */
  xmlBytes: 48 * 1024,
  /** RelayState (saml-bindings §3.4.3: "MUST NOT exceed 80 bytes"; we allow what SPs really send). */
  relayStateBytes: 1024,
  /** Element nesting depth. */
  depth: 32,
}

const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol'
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion'
const DSIG = 'http://www.w3.org/2000/09/xmldsig#'
const ROOTS = new Set(['AuthnRequest', 'LogoutRequest', 'LogoutResponse', 'Response'])
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Decodes strict base64 (whitespace allowed, as some SPs wrap lines). @throws {SamlRequestInvalid} */
export function decodeBase64(text: unknown): Buffer {
  if (typeof text !== 'string' || text.length === 0)
    throw new SamlRequestInvalid('ERR_SAML_MALFORMED', 'the SAML message is missing')
  if (text.length > LIMITS.encodedBytes)
    throw new SamlRequestInvalid('ERR_SAML_TOO_LARGE', 'the SAML message is too large')
  const compact = text.replace(/[\r\n\t ]/g, '')
  if (compact.length % 4 !== 0 || !BASE64.test(compact))
    throw new SamlRequestInvalid('ERR_SAML_MALFORMED', 'the SAML message is not valid base64')
  return Buffer.from(compact, 'base64')
}

/** Redirect binding: base64 → raw DEFLATE, bounded. @throws {SamlRequestInvalid} */
export function inflateMessage(text: unknown): string {
  return inflateBytes(decodeBase64(text))
}

function inflateBytes(bytes: Buffer): string {
  let out: Buffer
  try {
    out = inflateRawSync(bytes, { maxOutputLength: LIMITS.xmlBytes })
  } catch (err) {
    // zlib's own RangeError (Node's code, not one of ours) when the output passes the cap.
    const tooLarge =
      (err instanceof RangeError && 'code' in err && err.code === 'ERR_BUFFER_TOO_LARGE') ||
      /larger than|maxOutputLength/i.test(String((err as Error).message))
    throw new SamlRequestInvalid(
      tooLarge ? 'ERR_SAML_TOO_LARGE' : 'ERR_SAML_MALFORMED',
      tooLarge
        ? 'the SAML message inflates beyond the size limit'
        : 'the SAML message is not valid DEFLATE data',
      { cause: err },
    )
  }
  return checkXmlText(out)
}

/**
 * POST binding: base64 → XML text. saml-bindings §3.5.4 sends it uncompressed, but some SPs
 * (node-saml by default) deflate it as for Redirect: bytes that cannot start an XML document
 * get the same bounded inflate. @throws {SamlRequestInvalid}
 */
export function decodePostMessage(text: unknown): string {
  const bytes = decodeBase64(text)
  const first = bytes
    .subarray(0, 64)
    .toString('latin1')
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart()
  return first.startsWith('<') ? checkXmlText(bytes) : inflateBytes(bytes)
}

/** Size, encoding and the no-DTD rule, on the raw text. @throws {SamlRequestInvalid} */
export function checkXmlText(bytes: Buffer | string): string {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes
  if (buf.length > LIMITS.xmlBytes)
    throw new SamlRequestInvalid('ERR_SAML_TOO_LARGE', 'the SAML message is too large')
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf)
  if (text.includes('\uFFFD'))
    throw new SamlRequestInvalid('ERR_SAML_MALFORMED', 'the SAML message is not UTF-8')
  refuseDtd(text)
  return text
}

/** DOCTYPE / ENTITY / processing instructions (beyond `<?xml …?>` at the start) are refused. */
export function refuseDtd(text: string): void {
  if (/<!DOCTYPE|<!ENTITY|<!ATTLIST|<!ELEMENT|<!NOTATION/i.test(text)) {
    throw new SamlRequestInvalid(
      'ERR_SAML_DTD',
      'the SAML message has a document type or entity declaration',
    )
  }
  const pi = text.indexOf('<?', 1)
  if (pi >= 0 || (text.startsWith('<?') && !/^<\?xml\s[^?]*\?>/.test(text))) {
    throw new SamlRequestInvalid('ERR_SAML_DTD', 'the SAML message has a processing instruction')
  }
}

/** An element as the door reads it: namespace, local name, unqualified attributes, element children, text. */
export interface XElement {
  ns: string | null
  name: string
  attrs: Record<string, string>
  children: XElement[]
  text: string
}

interface XNode {
  nodeType: number
  namespaceURI?: string | null
  localName?: string | null
  childNodes?: { length: number; [i: number]: XNode }
  attributes?: {
    length: number
    [i: number]: { name: string; localName: string; value: string; namespaceURI?: string | null }
  }
}

/** Where an enveloped ds:Signature may sit: after the Issuer of these parents (saml-core §3.2.1, §2.3.3). */
const SIGNATURE_PARENTS = new Set([
  `${PROTOCOL} AuthnRequest`,
  `${PROTOCOL} LogoutRequest`,
  `${PROTOCOL} LogoutResponse`,
  `${PROTOCOL} Response`,
  `${ASSERTION} Assertion`,
])

/**
 * samlify's schema validator (a structural one; see the module notes). Resolves with `true`,
 * rejects with `Error('ERR_SAML_SCHEMA: …')`.
 */
export function validateSamlXml(xml: string): true {
  parseSamlXml(xml)
  return true
}

/** Where a `ds:Signature` element is in a parsed message. */
export interface FoundSignature {
  /** The element as the door reads it. */
  element: XElement
  /** The same element in the DOM it came from (what xml-crypto loads). */
  node: unknown
  /** A direct child of the root element (the only place a request's signature may be). */
  underRoot: boolean
}

/** A parsed, validated SAML message. */
export interface ParsedSaml {
  xml: string
  root: XElement
  /** Every `ds:Signature` in the document. */
  signatures: FoundSignature[]
}

/** Validates (see {@link validateSamlXml}) and returns the element tree. @throws {SamlRequestInvalid} */
export function parseSamlXml(xml: string): ParsedSaml {
  refuseDtd(xml)
  if (Buffer.byteLength(xml) > LIMITS.xmlBytes)
    throw new SamlRequestInvalid('ERR_SAML_TOO_LARGE', 'the SAML message is too large')
  const errors: string[] = []
  let doc: XNode
  try {
    const collect = (msg: string) => {
      errors.push(msg)
    }
    const { DOMParser } = xmldom()
    doc = new DOMParser({
      locator: {},
      errorHandler: { warning: () => {}, error: collect, fatalError: collect },
    }).parseFromString(xml, 'text/xml') as unknown as XNode
  } catch (err) {
    throw new SamlRequestInvalid('ERR_SAML_SCHEMA', 'not well-formed XML', { cause: err })
  }
  if (errors.length > 0)
    throw new SamlRequestInvalid(
      'ERR_SAML_SCHEMA',
      `not well-formed XML: ${errors[0]!.split('\n')[0]}`,
    )
  const top = Array.from({ length: doc.childNodes?.length ?? 0 }, (_, i) => doc.childNodes![i]!)
  const roots = top.filter((n) => n.nodeType === 1)
  if (
    roots.length !== 1 ||
    top.some(
      (n) =>
        n.nodeType === 10 ||
        (n.nodeType === 3 && /\S/.test((n as unknown as { data: string }).data)),
    )
  ) {
    throw new SamlRequestInvalid('ERR_SAML_SCHEMA', 'exactly one root element is allowed')
  }
  const root = roots[0]!
  if (root.namespaceURI !== PROTOCOL || !ROOTS.has(root.localName ?? ''))
    throw new SamlRequestInvalid('ERR_SAML_SCHEMA', 'the root is not a SAML 2.0 protocol message')
  const ids = new Set<string>()
  const signatures: FoundSignature[] = []
  const walk = (node: XNode, depth: number, parentKey: string | null): XElement => {
    const out: XElement = {
      ns: node.namespaceURI ?? null,
      name: node.localName ?? '',
      attrs: Object.create(null) as Record<string, string>,
      children: [],
      text: '',
    }
    if (depth > LIMITS.depth)
      throw new SamlRequestInvalid('ERR_SAML_SCHEMA', 'the SAML message is nested too deeply')
    const key = `${node.namespaceURI} ${node.localName}`
    if (
      node.namespaceURI === DSIG &&
      node.localName === 'Signature' &&
      (parentKey === null || !SIGNATURE_PARENTS.has(parentKey))
    ) {
      throw new SamlRequestInvalid('ERR_SAML_SCHEMA', 'a signature is in a place no schema allows')
    }
    for (let i = 0; i < (node.attributes?.length ?? 0); i++) {
      const a = node.attributes![i]!
      if (a.localName === 'ID' && !a.namespaceURI) {
        if (ids.has(a.value)) throw new SamlRequestInvalid('ERR_SAML_SCHEMA', 'an ID is used twice')
        ids.add(a.value)
      }
      if (!a.namespaceURI) out.attrs[a.localName] = a.value
    }
    let signatureChildren = 0
    for (let i = 0; i < (node.childNodes?.length ?? 0); i++) {
      const child = node.childNodes![i]!
      if (child.nodeType === 1) {
        if (
          child.namespaceURI === DSIG &&
          child.localName === 'Signature' &&
          ++signatureChildren > 1
        )
          throw new SamlRequestInvalid('ERR_SAML_SCHEMA', 'an element carries two signatures')
        out.children.push(walk(child, depth + 1, key))
      } else if (child.nodeType === 3 || child.nodeType === 4) {
        out.text += (child as unknown as { data: string }).data
      } else if (
        child.nodeType === 7 ||
        child.nodeType === 10 ||
        child.nodeType === 5 ||
        child.nodeType === 6
      ) {
        throw new SamlRequestInvalid(
          'ERR_SAML_SCHEMA',
          'the SAML message has a node type no schema allows',
        )
      }
    }
    if (node.namespaceURI === DSIG && node.localName === 'Signature')
      signatures.push({ element: out, node, underRoot: depth === 1 })
    return out
  }
  const tree = walk(root, 0, null)
  return { xml, root: tree, signatures }
}

/** The object samlify's `setSchemaValidator` takes. */
export const samlSchemaValidator = {
  validate: async (xml: string): Promise<string> => {
    validateSamlXml(xml)
    return 'SUCCESS_VALIDATE_XML'
  },
}
