/**
 * The SAML door over a real HTTP server (test/helpers/oidc.ts's server and browser), with
 * independent service providers: @node-saml/node-saml and samlify.
 */
import { SAML, ValidateInResponseTo, type SamlConfig } from '@node-saml/node-saml'
import { generateSamlKeyPair } from '../../src/keys/generate.ts'
import type { SamlKeyPair } from '../../src/keys/index.ts'
import { fixtureKeys } from '../helpers/app.ts'
import {
  Browser,
  createAccount,
  parseForms,
  PASSWORD,
  startOidcServer,
  type OidcServer,
  type Page,
} from '../helpers/oidc.ts'

export const SP_ENTITY = 'https://sp.example/saml/metadata'
export const ACS = 'https://sp.example/saml/acs'
export const SLO = 'https://sp.example/saml/slo'

let spKeys: Promise<{ signing: SamlKeyPair; encryption: SamlKeyPair }> | undefined
/** An SP's own key pairs (made once per test file). */
export function spKeyPairs() {
  spKeys ??= (async () => ({
    signing: await generateSamlKeyPair('sp.example signing'),
    encryption: await generateSamlKeyPair('sp.example encryption'),
  }))()
  return spKeys
}

export interface SamlServer extends OidcServer {
  idpEntityId: string
  ssoUrl: string
  sloUrl: string
}

export async function startSamlServer(): Promise<SamlServer> {
  const s = await startOidcServer()
  await createAccount(s, '1001', {
    username: 'robin',
    email: 'robin@example.test',
    nickname: 'Robin <b>&amp; "friends"</b>',
    given_name: 'Robin',
  })
  return {
    ...s,
    idpEntityId: `${s.issuer}/saml/metadata`,
    ssoUrl: `${s.issuer}/saml/sso`,
    sloUrl: `${s.issuer}/saml/slo`,
  }
}

/** Registers a `saml` integration through the admin API. */
export async function registerSp(
  s: OidcServer,
  id: string,
  settings: Record<string, unknown> = {},
  mapping?: Record<string, unknown>,
): Promise<void> {
  const res = await s.admin('PUT', `/integrations/${id}`, {
    type: 'saml',
    settings: {
      entity_id: SP_ENTITY,
      acs_urls: [{ url: ACS, binding: 'HTTP-POST' }],
      slo_url: SLO,
      ...settings,
    },
    ...(mapping ? { mapping } : {}),
  })
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`PUT /integrations/${id}: ${res.status} ${JSON.stringify(res.body)}`)
}

export function nodeSamlSp(s: SamlServer, extra: Partial<SamlConfig> = {}): SAML {
  return new SAML({
    callbackUrl: ACS,
    entryPoint: s.ssoUrl,
    logoutUrl: s.sloUrl,
    issuer: SP_ENTITY,
    idpIssuer: s.idpEntityId,
    idpCert: fixtureKeys().saml.current.certificatePem,
    audience: extra.issuer ?? SP_ENTITY,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    validateInResponseTo: ValidateInResponseTo.always,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    ...extra,
  })
}

/** The auto-POST form of a page: where it goes and what it carries. */
export function autoPost(page: Page): { action: string; fields: Record<string, string> } {
  const form = parseForms(page.html)[0]
  if (!form || form.method !== 'post')
    throw new Error(
      `no auto-post form on ${page.url} (${page.status}):\n${page.html.slice(0, 2000)}`,
    )
  return { action: form.action, fields: form.fields }
}

export const isSignInPage = (page: Page) =>
  parseForms(page.html).some((f) => f.action.startsWith('/login?')) &&
  /name="password"/.test(page.html)

/** Fills in the standalone sign-in form. */
export function signIn(
  browser: Browser,
  page: Page,
  username = 'robin',
  password = PASSWORD,
): Promise<Page> {
  if (!isSignInPage(page))
    throw new Error(
      `not the sign-in page: ${page.url} (${page.status}):\n${page.html.slice(0, 2000)}`,
    )
  return browser.submit(page, { username, password }, (f) => f.action.startsWith('/login?'))
}

/** Decodes the SAMLResponse of an auto-post form. */
export const responseXml = (fields: Record<string, string>) =>
  Buffer.from(fields.SAMLResponse ?? '', 'base64').toString('utf8')

export { Browser }
