/**
 * Round trip with samlify as the SP (the IdP's metadata read by samlify), the IdP metadata
 * itself, and the shared bridge session: a member signed in through the OIDC door is not
 * asked again by the SAML door.
 */
import samlify from 'samlify'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { X509Certificate } from 'node:crypto'
import { fixtureKeys } from '../helpers/app.ts'
import { Browser, registerClient } from '../helpers/oidc.ts'
import {
  ACS,
  autoPost,
  isSignInPage,
  nodeSamlSp,
  registerSp,
  responseXml,
  signIn,
  SP_ENTITY,
  spKeyPairs,
  startSamlServer,
  type SamlServer,
} from './helpers.ts'

let s: SamlServer
const SIGNING_SP = 'https://samlify-signing-sp.example/metadata'
beforeAll(async () => {
  s = await startSamlServer()
  await registerSp(s, 'signing-sp', {
    entity_id: SIGNING_SP,
    require_signed_requests: true,
    signing_certificate: (await spKeyPairs()).signing.certificatePem,
  })
  await registerSp(
    s,
    'generic-sp',
    { name_id_format: 'emailAddress', attribute_name_format: 'uri' },
    {
      'urn:oid:0\\.9\\.2342\\.19200300\\.100\\.1\\.3': 'email',
      roles: { const: ['member', 'vip'] },
    },
  )
})
afterAll(() => s.close())

describe('IdP metadata', () => {
  test('entityID from ISSUER, both SSO bindings, SLO, NameID formats and the signing certificate', async () => {
    const res = await fetch(`${s.url}/saml/metadata`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/xml/)
    const xml = await res.text()
    expect(xml).toContain(`entityID="${s.idpEntityId}"`)
    expect(xml).toContain(
      `Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${s.issuer}/saml/sso"`,
    )
    expect(xml).toContain(
      `Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${s.issuer}/saml/sso"`,
    )
    expect(xml).toContain(`Location="${s.issuer}/saml/slo"`)
    expect(xml).toContain('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent')
    const der = new X509Certificate(fixtureKeys().saml.current.certificatePem).raw.toString(
      'base64',
    )
    expect(xml.replace(/\s+/g, '')).toContain(der)
  })
})

describe('samlify as the SP', () => {
  test('Redirect AuthnRequest → signed Response samlify verifies; emailAddress NameID, uri attributes, multi-valued', async () => {
    const metadata = await (await fetch(`${s.url}/saml/metadata`)).text()
    const idp = samlify.IdentityProvider({ metadata })
    const sp = samlify.ServiceProvider({
      entityID: SP_ENTITY,
      assertionConsumerService: [
        { Binding: samlify.Constants.namespace.binding.post, Location: ACS },
      ],
      wantAssertionsSigned: true,
      wantMessageSigned: true,
    })
    const { context } = sp.createLoginRequest(idp, 'redirect')
    const browser = new Browser(s.issuer)
    const page = await signIn(browser, await browser.go(context))
    const { fields } = autoPost(page)
    const { extract } = await sp.parseLoginResponse(idp, 'post', { body: fields })
    expect(extract.nameID).toBe('robin@example.test')
    expect(extract.attributes?.['urn:oid:0.9.2342.19200300.100.1.3']).toBe('robin@example.test')
    expect(extract.attributes?.roles).toEqual(['member', 'vip'])
    expect(extract.audience).toBe(SP_ENTITY)
  })
})

describe('samlify as a signing SP', () => {
  // Another signer than node-saml: its enveloped signatures (and RSA-PSS) pass the checks of
  // saml/verify-signature.ts, by both bindings.
  test('signed AuthnRequests by POST and Redirect, RSA-SHA256 and RSA-PSS, are answered', async () => {
    const keys = await spKeyPairs()
    // Our metadata does not demand signed requests (that is per SP); samlify wants the flags to agree.
    const metadata = (await (await fetch(`${s.url}/saml/metadata`)).text()).replace(
      'WantAuthnRequestsSigned="false"',
      'WantAuthnRequestsSigned="true"',
    )
    const idp = samlify.IdentityProvider({ metadata })
    const browser = new Browser(s.issuer)
    for (const alg of [
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
    ]) {
      const sp = samlify.ServiceProvider({
        entityID: SIGNING_SP,
        assertionConsumerService: [
          { Binding: samlify.Constants.namespace.binding.post, Location: ACS },
        ],
        authnRequestsSigned: true,
        privateKey: keys.signing.privateKeyPem,
        signingCert: keys.signing.certificatePem,
        requestSignatureAlgorithm: alg,
      })
      const post = sp.createLoginRequest(idp, 'post') as { context: string; relayState?: string }
      expect(Buffer.from(post.context, 'base64').toString()).toContain(
        `SignatureMethod Algorithm="${alg}"`,
      )
      let page = await browser.go(s.ssoUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ SAMLRequest: post.context }).toString(),
      })
      if (isSignInPage(page)) page = await signIn(browser, page)
      expect(responseXml(autoPost(page).fields)).toContain('status:Success')
      const redirect = sp.createLoginRequest(idp, 'redirect')
      expect(new URL(redirect.context).searchParams.get('SigAlg')).toBe(alg)
      expect(responseXml(autoPost(await browser.go(redirect.context)).fields)).toContain(
        'status:Success',
      )
    }
  })
})

describe('one sign-in for every door', () => {
  test('a member signed in through the OIDC door is not asked again by the SAML door', async () => {
    const { clientId } = await registerClient(s, 'oidc-app', { first_party: true, public: true })
    const browser = new Browser(s.issuer)
    const auth = new URL(`${s.issuer}/auth`)
    auth.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'https://rp.example/cb',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString()
    const login = await browser.go(auth)
    const done = await browser.login(login, 'robin', 'correct horse battery staple')
    expect(done.left?.searchParams.get('code')).toBeTruthy()

    const sp = nodeSamlSp(s)
    const page = await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {}))
    expect(isSignInPage(page)).toBe(false)
    const { profile } = await sp.validatePostResponseAsync(autoPost(page).fields)
    expect(profile?.nameID).toBe('robin@example.test')
  })
})
