/**
 * SP-initiated SSO against independent SPs: @node-saml/node-saml checks the Response's
 * signatures, audience, InResponseTo, times and destination; the member signs in once (the
 * bridge session) for every door.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  ACS,
  autoPost,
  Browser,
  isSignInPage,
  nodeSamlSp,
  registerSp,
  responseXml,
  signIn,
  SP_ENTITY,
  startSamlServer,
  type SamlServer,
} from './helpers.ts'

let s: SamlServer
beforeAll(async () => {
  s = await startSamlServer()
  await registerSp(s, 'minnit-saml')
})
afterAll(() => s.close())

describe('SP-initiated SSO with node-saml as the SP', () => {
  test('Redirect binding: sign in, POST back a Response node-saml accepts (signature, audience, InResponseTo, times)', async () => {
    const sp = nodeSamlSp(s)
    const browser = new Browser(s.issuer)
    const url = await sp.getAuthorizeUrlAsync('relay-123', undefined, {})
    let page = await browser.go(url)
    expect(isSignInPage(page)).toBe(true)
    page = await signIn(browser, page)
    const post = autoPost(page)
    expect(post.action).toBe(ACS)
    expect(post.fields.RelayState).toBe('relay-123')
    const xml = responseXml(post.fields)
    expect(xml).toContain('<saml:AuthnStatement')
    expect(xml).toContain('PasswordProtectedTransport')
    const { profile, loggedOut } = await sp.validatePostResponseAsync(post.fields)
    expect(loggedOut).toBe(false)
    expect(profile?.issuer).toBe(s.idpEntityId)
    expect(profile?.nameIDFormat).toBe('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent')
    expect(profile?.spNameQualifier).toBe(SP_ENTITY)
    expect(profile?.username).toBe('robin')
    expect(profile?.email).toBe('robin@example.test')
    expect(profile?.uid).toBe('1001')
  })

  test('POST binding, and the bridge session answers without a second sign-in', async () => {
    const sp = nodeSamlSp(s, { authnRequestBinding: 'HTTP-POST' })
    const browser = new Browser(s.issuer)
    // First a Redirect sign-in …
    let page = await signIn(
      browser,
      await browser.go(await nodeSamlSp(s).getAuthorizeUrlAsync('', undefined, {})),
    )
    autoPost(page)
    // … then an AuthnRequest by POST: no form this time.
    const form = await sp.getAuthorizeFormAsync('second', undefined, {})
    const fields = Object.fromEntries(
      [...form.matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    )
    page = await browser.go(s.ssoUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    })
    expect(isSignInPage(page)).toBe(false)
    const post = autoPost(page)
    expect(post.fields.RelayState).toBe('second')
    const { profile } = await sp.validatePostResponseAsync(post.fields)
    expect(profile?.username).toBe('robin')
  })

  test('the same persistent NameID every time for one SP (pseudonymous, not the account id)', async () => {
    const ids: string[] = []
    for (let i = 0; i < 2; i++) {
      const sp = nodeSamlSp(s)
      const browser = new Browser(s.issuer)
      const page = await signIn(
        browser,
        await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})),
      )
      ids.push((await sp.validatePostResponseAsync(autoPost(page).fields)).profile!.nameID)
    }
    expect(ids[0]).toBe(ids[1])
    expect(ids[0]).not.toContain('1001')
  })

  test('a response tampered after signing is rejected by the SP', async () => {
    const sp = nodeSamlSp(s)
    const browser = new Browser(s.issuer)
    const page = await signIn(
      browser,
      await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})),
    )
    const post = autoPost(page)
    const tampered = responseXml(post.fields).replace('robin@example.test', 'admin@example.test')
    expect(tampered).toContain('admin@example.test')
    await expect(
      sp.validatePostResponseAsync({
        ...post.fields,
        SAMLResponse: Buffer.from(tampered).toString('base64'),
      }),
    ).rejects.toThrow(/signature/i)
  })
})
