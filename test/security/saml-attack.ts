/**
 * What the SAML attack tests share: a server with a service provider that signs its requests
 * (two registered ACS URLs, so an attacker has another one to aim at), genuine requests signed
 * by node-saml (the independent peer), and the check that a refusal changed nothing.
 */
import { inflateRawSync } from 'node:zlib'
import { DOMParser, XMLSerializer } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'
import { expect } from 'vitest'
import { Browser, type Page } from '../helpers/oidc.ts'
import {
  ACS,
  autoPost,
  isSignInPage,
  nodeSamlSp,
  registerSp,
  signIn,
  spKeyPairs,
  startSamlServer,
  type SamlServer,
} from '../saml/helpers.ts'

export const SIGNED_SP = 'https://signed-sp.example/metadata'
/** A second ACS registered for the SP: what a wrapped or polluted request aims the Response at. */
export const OTHER_ACS = 'https://sp.example/saml/acs-other'

/** A SAML server with `signed-sp` (signed requests required, two ACS URLs). */
export async function startAttackServer(extra: Record<string, unknown> = {}): Promise<SamlServer> {
  const s = await startSamlServer()
  await registerSp(s, 'signed-sp', {
    entity_id: SIGNED_SP,
    acs_urls: [
      { url: ACS, binding: 'HTTP-POST' },
      { url: OTHER_ACS, binding: 'HTTP-POST' },
    ],
    require_signed_requests: true,
    signing_certificate: (await spKeyPairs()).signing.certificatePem,
    ...extra,
  })
  return s
}

/** node-saml as `signed-sp`, signing with the registered key. */
export async function signingSp(s: SamlServer, extra: Parameters<typeof nodeSamlSp>[1] = {}) {
  return nodeSamlSp(s, {
    issuer: SIGNED_SP,
    privateKey: (await spKeyPairs()).signing.privateKeyPem,
    ...extra,
  })
}

/** The hidden fields of node-saml's auto-POST form. */
export const formFields = (form: string): Record<string, string> =>
  Object.fromEntries([...form.matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))

export const postForm = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
  body: new URLSearchParams(fields).toString(),
})

/** The XML of a redirect-binding SAMLRequest value (already URL-decoded). */
export const inflate = (value: string) =>
  inflateRawSync(Buffer.from(value, 'base64')).toString('utf8')

/** A browser with a live bridge session (signed in through a genuine signed request). */
export async function signedInBrowser(s: SamlServer): Promise<Browser> {
  const browser = new Browser(s.issuer)
  autoPost(
    await signIn(
      browser,
      await browser.go(await (await signingSp(s)).getAuthorizeUrlAsync('', undefined, {})),
    ),
  )
  return browser
}

/**
 * The request was refused: `status`, an error page (no Response for the SP, no sign-in page,
 * no session cookie set) and `code` in the log.
 */
export async function expectRefused(
  s: SamlServer,
  page: Page,
  setCookiesBefore: number,
  browser: Browser,
  status: number,
  code: string,
  logsBefore: number,
): Promise<void> {
  expect(page.status, page.html.slice(0, 500)).toBe(status)
  expect(page.html).toContain('Something went wrong')
  expect(page.html).not.toContain('SAMLResponse')
  expect(isSignInPage(page)).toBe(false)
  expect(browser.setCookies.slice(setCookiesBefore).filter((c) => c.name === 'sso_bridge')).toEqual(
    [],
  )
  expect(s.t.logs.slice(logsBefore).map((l) => l.code)).toContain(code)
}

/** Sends `url`/`init` from `browser` and expects the refusal described by {@link expectRefused}. */
export async function refused(
  s: SamlServer,
  browser: Browser,
  url: string,
  init: RequestInit,
  status: number,
  code: string,
): Promise<Page> {
  const logs = s.t.logs.length
  const cookies = browser.setCookies.length
  const page = await browser.go(url, {
    ...init,
    headers: { Accept: 'text/html', ...(init.headers as Record<string, string> | undefined) },
  })
  await expectRefused(s, page, cookies, browser, status, code, logs)
  return page
}

const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol'
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion'
const DSIG = 'http://www.w3.org/2000/09/xmldsig#'

/**
 * The signature-wrapping attack of issue #10 on a genuine signed request: a new root of the same
 * type (new ID, `attrs` changed), the genuine signature moved under it (after the Issuer), and
 * the genuine request — its signature removed, its ID kept — tucked into `samlp:Extensions`. The
 * signature's Reference still points at the genuine element, so its digest still matches.
 */
export function wrapSigned(
  signedXml: string,
  attrs: Record<string, string>,
  opts: { keepSignatureInOriginal?: boolean; children?: string } = {},
): string {
  const doc = new DOMParser().parseFromString(signedXml, 'text/xml')
  const original = doc.documentElement!
  const signature = [...Array.from(original.childNodes)].find(
    (n) =>
      n.nodeType === 1 &&
      (n as Element).namespaceURI === DSIG &&
      (n as Element).localName === 'Signature',
  ) as Element
  if (!signature) throw new Error('the genuine request carries no enveloped signature')
  const forged = doc.createElementNS(PROTOCOL, original.tagName)
  for (const a of Array.from(original.attributes))
    if (!a.name.startsWith('xmlns')) forged.setAttribute(a.name, a.value)
  for (const [k, v] of Object.entries(attrs)) forged.setAttribute(k, v)
  const issuer = doc.createElementNS(ASSERTION, 'saml:Issuer')
  issuer.textContent = original.getElementsByTagNameNS(ASSERTION, 'Issuer')[0]!.textContent
  forged.appendChild(issuer)
  if (!opts.keepSignatureInOriginal) {
    original.removeChild(signature)
    forged.appendChild(signature)
  }
  const extensions = doc.createElementNS(
    PROTOCOL,
    `${original.prefix ? `${original.prefix}:` : ''}Extensions`,
  )
  extensions.appendChild(original.cloneNode(true))
  forged.appendChild(extensions)
  if (opts.children)
    for (const c of Array.from(
      new DOMParser().parseFromString(
        `<w xmlns:saml="${ASSERTION}" xmlns:samlp="${PROTOCOL}">${opts.children}</w>`,
        'text/xml',
      ).documentElement!.childNodes,
    ))
      forged.appendChild(doc.importNode(c, true))
  return new XMLSerializer().serializeToString(forged)
}

/**
 * The attack is a real one: a verifier that checks only "the signature verifies" (xml-crypto on
 * its own, as samlify used it for requests) accepts the wrapped document.
 */
export function signatureStillVerifies(xml: string, certificatePem: string): boolean {
  const doc = new DOMParser().parseFromString(xml, 'text/xml')
  const sig = new SignedXml({ publicCert: certificatePem })
  sig.loadSignature(
    doc.getElementsByTagNameNS(DSIG, 'Signature')[0] as unknown as Parameters<
      SignedXml['loadSignature']
    >[0],
  )
  return sig.checkSignature(xml)
}
