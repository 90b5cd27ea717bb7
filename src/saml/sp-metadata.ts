/**
 * @module saml/sp-metadata
 * Reads an SP's SAML 2.0 metadata (saml-metadata §2.4.4 SPSSODescriptor) into the settings of
 * a `saml` integration: entityID, ACS URLs with binding (in index order), the SLO URL, the
 * signing and encryption certificates, AuthnRequestsSigned, and the first NameID format we
 * offer. The same guards as every inbound document: size cap, no DTD, well-formed.
 */
import { SamlRequestInvalid } from './errors.ts'
import { xmldom } from './libraries.ts'
import { LIMITS, refuseDtd } from './xml-guard.ts'

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata'
const DS = 'http://www.w3.org/2000/09/xmldsig#'
const BINDINGS: Record<string, 'HTTP-POST' | 'HTTP-Redirect'> = {
  'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST': 'HTTP-POST',
  'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect': 'HTTP-Redirect',
}
const NAME_ID: Record<string, string> = {
  'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent': 'persistent',
  'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress': 'emailAddress',
  'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified': 'unspecified',
}

interface El {
  localName: string
  namespaceURI?: string | null
  textContent: string | null
  getAttribute(name: string): string | null
  getElementsByTagNameNS(ns: string, name: string): { length: number; [i: number]: El }
}

const list = (parent: El, ns: string, name: string): El[] => {
  const nodes = parent.getElementsByTagNameNS(ns, name)
  return Array.from({ length: nodes.length }, (_, i) => nodes[i]!)
}

const pem = (b64: string) =>
  `-----BEGIN CERTIFICATE-----\n${b64
    .replace(/\s+/g, '')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`

/**
 * Settings found in the metadata (only those it states).
 * @throws {SamlRequestInvalid} ERR_SAML_DTD, ERR_SAML_TOO_LARGE, ERR_SAML_SCHEMA (not SP metadata)
 */
export function settingsFromSpMetadata(xml: string): Record<string, unknown> {
  if (Buffer.byteLength(xml) > 4 * LIMITS.xmlBytes)
    throw new SamlRequestInvalid('ERR_SAML_TOO_LARGE', 'the metadata is too large')
  refuseDtd(xml)
  const errors: string[] = []
  const collect = (m: string) => {
    errors.push(m)
  }
  const { DOMParser } = xmldom()
  const doc = new DOMParser({
    locator: {},
    errorHandler: { warning: () => {}, error: collect, fatalError: collect },
  }).parseFromString(xml, 'text/xml') as unknown as { documentElement: El | null }
  const root = doc.documentElement
  if (
    errors.length > 0 ||
    !root ||
    root.namespaceURI !== MD ||
    root.localName !== 'EntityDescriptor'
  ) {
    throw new SamlRequestInvalid('ERR_SAML_SCHEMA', 'not a SAML 2.0 EntityDescriptor')
  }
  const sp = list(root, MD, 'SPSSODescriptor')[0]
  if (!sp) throw new SamlRequestInvalid('ERR_SAML_SCHEMA', 'the metadata has no SPSSODescriptor')
  const out: Record<string, unknown> = { entity_id: root.getAttribute('entityID') ?? '' }
  const acs = list(sp, MD, 'AssertionConsumerService')
    .filter((a) => BINDINGS[a.getAttribute('Binding') ?? ''])
    .sort((a, b) => Number(a.getAttribute('index') ?? 0) - Number(b.getAttribute('index') ?? 0))
    .map((a) => ({
      url: a.getAttribute('Location') ?? '',
      binding: BINDINGS[a.getAttribute('Binding')!]!,
    }))
  if (acs.length > 0) out.acs_urls = acs
  const slo =
    list(sp, MD, 'SingleLogoutService').find(
      (s) => BINDINGS[s.getAttribute('Binding') ?? ''] === 'HTTP-POST',
    ) ?? list(sp, MD, 'SingleLogoutService')[0]
  if (slo?.getAttribute('Location')) {
    out.slo_url = slo.getAttribute('Location')
    const binding = BINDINGS[slo.getAttribute('Binding') ?? '']
    if (binding) out.slo_binding = binding
  }
  for (const kd of list(sp, MD, 'KeyDescriptor')) {
    const cert = list(kd, DS, 'X509Certificate')[0]?.textContent?.trim()
    if (!cert) continue
    const use = kd.getAttribute('use')
    if ((use === null || use === 'signing') && out.signing_certificate === undefined)
      out.signing_certificate = pem(cert)
    if (use === 'encryption' && out.encryption_certificate === undefined)
      out.encryption_certificate = pem(cert)
  }
  if (sp.getAttribute('AuthnRequestsSigned') === 'true') out.require_signed_requests = true
  if (sp.getAttribute('WantAssertionsSigned') === 'true') out.sign_assertion = true
  const format = list(sp, MD, 'NameIDFormat')
    .map((f) => NAME_ID[f.textContent?.trim() ?? ''])
    .find(Boolean)
  if (format) out.name_id_format = format
  return out
}
