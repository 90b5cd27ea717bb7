/**
 * The standalone sign-in as the SAML door uses it: ForceAuthn asks again even with a live
 * session, IsPassive without a session answers NoPassive-style (Requester), "Cancel" sends the
 * SP an error Response, and a pending request is answered once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Browser, parseForms } from '../helpers/oidc.ts'
import {
  ACS,
  autoPost,
  isSignInPage,
  nodeSamlSp,
  registerSp,
  responseXml,
  signIn,
  startSamlServer,
  type SamlServer,
} from './helpers.ts'

let s: SamlServer
beforeAll(async () => {
  s = await startSamlServer()
  await registerSp(s, 'sp')
})
afterAll(() => s.close())

describe('SAML sign-in', () => {
  test('ForceAuthn: the password is asked again although a session is live', async () => {
    const browser = new Browser(s.issuer)
    autoPost(
      await signIn(
        browser,
        await browser.go(await nodeSamlSp(s).getAuthorizeUrlAsync('', undefined, {})),
      ),
    )
    const sp = nodeSamlSp(s, { forceAuthn: true })
    const page = await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {}))
    expect(isSignInPage(page)).toBe(true)
    const { profile } = await sp.validatePostResponseAsync(
      autoPost(await signIn(browser, page)).fields,
    )
    expect(profile?.username).toBe('robin')
  })

  test('IsPassive without a session: a NoPassive error Response, no sign-in page', async () => {
    const browser = new Browser(s.issuer)
    const page = await browser.go(
      await nodeSamlSp(s, { passive: true }).getAuthorizeUrlAsync('', undefined, {}),
    )
    expect(isSignInPage(page)).toBe(false)
    const post = autoPost(page)
    expect(post.action).toBe(ACS)
    // saml-core §3.2.2.2: the second-level status says why (NoPassive), under Responder.
    expect(responseXml(post.fields)).toContain(
      '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:NoPassive">',
    )
  })

  test('Cancel on the sign-in page sends the SP an error Response (and RelayState)', async () => {
    const browser = new Browser(s.issuer)
    const page = await browser.go(
      await nodeSamlSp(s).getAuthorizeUrlAsync('keep-me', undefined, {}),
    )
    const cancelled = await browser.submit(page, {}, (f) => f.action.startsWith('/login/cancel'))
    const post = autoPost(cancelled)
    expect(post.action).toBe(ACS)
    expect(post.fields.RelayState).toBe('keep-me')
    expect(responseXml(post.fields)).toContain('status:Requester')
  })

  test('a pending request is answered once; a wrong password keeps it waiting', async () => {
    const browser = new Browser(s.issuer)
    const page = await browser.go(await nodeSamlSp(s).getAuthorizeUrlAsync('', undefined, {}))
    const wrong = await browser.submit(page, { username: 'robin', password: 'nope' }, (f) =>
      f.action.startsWith('/login?'),
    )
    expect(wrong.status).toBe(401)
    const done = await signIn(browser, wrong)
    autoPost(done)
    const continueUrl = decodeURIComponent(
      /return_to=([^&"]+)/.exec(parseForms(page.html)[0]!.action)![1]!,
    )
    const again = await browser.go(`${s.issuer}${continueUrl}`, {
      headers: { Accept: 'text/html' },
    })
    expect(again.status).toBe(400)
  })
})
