/**
 * IdP-initiated SSO (an unsolicited Response: no InResponseTo attribute at all), Single Logout
 * (the SP's LogoutRequest ends the bridge session for every door, answered by a signed
 * LogoutResponse), and encrypted assertions decrypted by the SP.
 */
import { inflateRawSync } from 'node:zlib'
import samlify from 'samlify'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ValidateInResponseTo } from '@node-saml/node-saml'
import { Browser } from '../helpers/oidc.ts'
import {
  ACS,
  autoPost,
  isSignInPage,
  nodeSamlSp,
  registerSp,
  responseXml,
  signIn,
  SLO,
  SP_ENTITY,
  spKeyPairs,
  startSamlServer,
  type SamlServer,
} from './helpers.ts'

let s: SamlServer
const ENC_SP = 'https://enc-sp.example/metadata'
const REDIRECT_SP = 'https://redirect-sp.example/metadata'
const REDIRECT_SLO = 'https://redirect-sp.example/saml/slo?tenant=7'
beforeAll(async () => {
  s = await startSamlServer()
  await registerSp(s, 'minnit-saml', {}, { displayName: 'nickname' })
  await registerSp(s, 'enc-sp', {
    entity_id: ENC_SP,
    encryption_certificate: (await spKeyPairs()).encryption.certificatePem,
  })
  await registerSp(s, 'redirect-sp', {
    entity_id: REDIRECT_SP,
    slo_url: REDIRECT_SLO,
    slo_binding: 'HTTP-Redirect',
  })
})
afterAll(() => s.close())

describe('IdP-initiated SSO', () => {
  test('an unsolicited Response with no InResponseTo attribute, accepted by node-saml; RelayState kept', async () => {
    const browser = new Browser(s.issuer)
    let page = await browser.go(
      `${s.issuer}/saml/idp-initiated/minnit-saml?RelayState=${encodeURIComponent('/room/lobby')}`,
    )
    expect(isSignInPage(page)).toBe(true)
    page = await signIn(browser, page)
    const post = autoPost(page)
    expect(post.action).toBe(ACS)
    expect(post.fields.RelayState).toBe('/room/lobby')
    const xml = responseXml(post.fields)
    expect(xml).not.toContain('InResponseTo')
    const sp = nodeSamlSp(s, { validateInResponseTo: ValidateInResponseTo.ifPresent })
    const { profile } = await sp.validatePostResponseAsync(post.fields)
    expect(profile?.username).toBe('robin')
  })

  test('attribute values carrying markup come out escaped and the signature still verifies', async () => {
    const browser = new Browser(s.issuer)
    const page = await signIn(
      browser,
      await browser.go(`${s.issuer}/saml/idp-initiated/minnit-saml`),
    )
    const post = autoPost(page)
    const xml = responseXml(post.fields)
    expect(xml).toContain('Robin &lt;b&gt;&amp;amp; "friends"&lt;/b&gt;')
    expect(xml).not.toContain('<b>')
    const { profile } = await nodeSamlSp(s, {
      validateInResponseTo: ValidateInResponseTo.ifPresent,
    }).validatePostResponseAsync(post.fields)
    expect(profile?.displayName).toBe('Robin <b>&amp; "friends"</b>')
  })

  test('an unknown integration (or one of another type) is refused', async () => {
    const res = await fetch(`${s.url}/saml/idp-initiated/nope`, {
      headers: { Accept: 'text/html' },
    })
    expect(res.status).toBe(404)
  })
})

describe('encrypted assertions', () => {
  test('with an SP encryption certificate the assertion is encrypted; node-saml decrypts and verifies it', async () => {
    const keys = await spKeyPairs()
    const sp = nodeSamlSp(s, { issuer: ENC_SP, decryptionPvk: keys.encryption.privateKeyPem })
    const browser = new Browser(s.issuer)
    const page = await signIn(
      browser,
      await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})),
    )
    const post = autoPost(page)
    const xml = responseXml(post.fields)
    expect(xml).toContain('<saml:EncryptedAssertion')
    expect(xml).not.toContain('robin')
    const { profile } = await sp.validatePostResponseAsync(post.fields)
    expect(profile?.username).toBe('robin')
  })

  test('samlify decrypts it too', async () => {
    const keys = await spKeyPairs()
    const metadata = await (await fetch(`${s.url}/saml/metadata`)).text()
    // samlify reads "is the assertion encrypted" from the sending entity's settings.
    const idp = samlify.IdentityProvider({ metadata, isAssertionEncrypted: true })
    const sp = samlify.ServiceProvider({
      entityID: ENC_SP,
      assertionConsumerService: [
        { Binding: samlify.Constants.namespace.binding.post, Location: ACS },
      ],
      wantAssertionsSigned: true,
      wantMessageSigned: true,
      isAssertionEncrypted: true,
      encPrivateKey: keys.encryption.privateKeyPem,
      encryptCert: keys.encryption.certificatePem,
    })
    const browser = new Browser(s.issuer)
    const page = await signIn(
      browser,
      await browser.go(sp.createLoginRequest(idp, 'redirect').context),
    )
    const { extract } = await sp.parseLoginResponse(idp, 'post', { body: autoPost(page).fields })
    expect(extract.attributes?.username).toBe('robin')
  })
})

describe('Single Logout', () => {
  /** A browser signed in through `sp` (SP-initiated), and the member's profile as the SP has it. */
  async function signedInAt(sp: ReturnType<typeof nodeSamlSp>) {
    const browser = new Browser(s.issuer)
    const first = await signIn(
      browser,
      await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})),
    )
    const { profile } = await sp.validatePostResponseAsync(autoPost(first).fields)
    return { browser, profile }
  }

  test('SP-initiated LogoutRequest ends the shared session and gets a signed LogoutResponse at the SLO URL', async () => {
    const keys = await spKeyPairs()
    // node-saml checks InResponseTo only on Responses; for the LogoutResponse it is compared below.
    const sp = nodeSamlSp(s, {
      logoutCallbackUrl: SLO,
      privateKey: keys.signing.privateKeyPem,
      validateInResponseTo: ValidateInResponseTo.ifPresent,
    })
    const { browser, profile } = await signedInAt(sp)

    const logoutUrl = new URL(await sp.getLogoutUrlAsync(profile!, 'after-logout', {}))
    const requestId = /ID="([^"]+)"/.exec(
      inflateRawSync(Buffer.from(logoutUrl.searchParams.get('SAMLRequest')!, 'base64')).toString(),
    )![1]
    const logout = await browser.go(logoutUrl)
    const post = autoPost(logout)
    expect(responseXml(post.fields)).toContain(`InResponseTo="${requestId}"`)
    expect(responseXml(post.fields)).toContain('<samlp:LogoutResponse')
    expect(post.action).toBe(SLO)
    expect(post.fields.RelayState).toBe('after-logout')
    const result = await sp.validatePostResponseAsync(post.fields)
    expect(result.loggedOut).toBe(true)
    expect(
      browser.setCookies.some(
        (c) => c.name === 'sso_bridge' && (c.value === '' || c.attributes.expires !== undefined),
      ),
    ).toBe(true)

    // The session is gone for every door: the next AuthnRequest asks for the password again.
    expect(isSignInPage(await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})))).toBe(
      true,
    )
  })

  test('an SP whose SLO URL takes HTTP-Redirect gets the LogoutResponse as a signed redirect, which node-saml accepts', async () => {
    const sp = nodeSamlSp(s, {
      issuer: REDIRECT_SP,
      logoutCallbackUrl: REDIRECT_SLO,
      validateInResponseTo: ValidateInResponseTo.ifPresent,
    })
    const { browser, profile } = await signedInAt(sp)

    const logoutUrl = new URL(await sp.getLogoutUrlAsync(profile!, 'back to the app', {}))
    const requestId = /ID="([^"]+)"/.exec(
      inflateRawSync(Buffer.from(logoutUrl.searchParams.get('SAMLRequest')!, 'base64')).toString(),
    )![1]
    const out = await browser.go(logoutUrl)
    expect(out.status).toBe(302)
    const back = out.left!
    expect(`${back.origin}${back.pathname}`).toBe('https://redirect-sp.example/saml/slo')
    expect(back.searchParams.get('tenant')).toBe('7') // the registered URL's own query is kept
    expect(back.searchParams.get('RelayState')).toBe('back to the app')
    expect(back.searchParams.get('SigAlg')).toBe(
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    )
    const xml = inflateRawSync(
      Buffer.from(back.searchParams.get('SAMLResponse')!, 'base64'),
    ).toString()
    expect(xml).toContain(`InResponseTo="${requestId}"`)
    expect(xml).not.toMatch(/<(\w+:)?Signature[\s>]/) // the query is signed, not the XML
    const query = back.search.slice(1)
    const result = await sp.validateRedirectAsync(Object.fromEntries(back.searchParams), query)
    expect(result.loggedOut).toBe(true)
    // The signature covers the query as sent: another RelayState does not pass.
    const tampered = query.replace(/RelayState=[^&]+/, 'RelayState=elsewhere')
    await expect(
      sp.validateRedirectAsync(
        { ...Object.fromEntries(back.searchParams), RelayState: 'elsewhere' },
        tampered,
      ),
    ).rejects.toThrow()
    // The session is gone for every door.
    expect(isSignInPage(await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})))).toBe(
      true,
    )
  })

  test('a LogoutRequest naming someone else is answered, but does not end the session of the member signed in here', async () => {
    const sp = nodeSamlSp(s, {
      logoutCallbackUrl: SLO,
      validateInResponseTo: ValidateInResponseTo.ifPresent,
    })
    const { browser, profile } = await signedInAt(sp)
    const other = await browser.go(
      await sp.getLogoutUrlAsync({ ...profile!, nameID: 'not-the-member-signed-in-here' }, '', {}),
    )
    expect((await sp.validatePostResponseAsync(autoPost(other).fields)).loggedOut).toBe(true)
    expect(isSignInPage(await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})))).toBe(
      false,
    )
    expect(s.t.logText()).toContain('"session":"other_principal_kept"')
    // The member's own NameID does end it.
    await browser.go(await sp.getLogoutUrlAsync(profile!, '', {}))
    expect(isSignInPage(await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})))).toBe(
      true,
    )
  })

  test('a LogoutRequest from an unknown SP is refused and ends nothing', async () => {
    const sp = nodeSamlSp(s)
    const { browser, profile } = await signedInAt(sp)
    const stranger = nodeSamlSp(s, { issuer: 'https://stranger.example/sp' })
    const res = await browser.go(await stranger.getLogoutUrlAsync(profile!, '', {}), {
      headers: { Accept: 'text/html' },
    })
    expect(res.status).toBe(404)
    expect(isSignInPage(await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})))).toBe(
      false,
    )
    expect(SP_ENTITY).toBeTruthy()
  })
})
