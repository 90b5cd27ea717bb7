/**
 * Every bad input the SAML door must refuse, one named test each: a clear error page (or a
 * SAML error Response with Requester status where the protocol expects one), a log line with
 * the code, and nothing changed (no session, no pending request, no Response for the SP).
 */
import { promisify } from 'node:util'
import { deflateRaw, deflateRawSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Browser } from '../helpers/oidc.ts'
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

const deflateRawAsync = promisify(deflateRaw)

let s: SamlServer
const SIGNED_SP = 'https://signed-sp.example/metadata'
beforeAll(async () => {
  s = await startSamlServer()
  await registerSp(s, 'plain-sp')
  await registerSp(s, 'signed-sp', {
    entity_id: SIGNED_SP,
    require_signed_requests: true,
    signing_certificate: (await spKeyPairs()).signing.certificatePem,
  })
})
afterAll(() => s.close())

let n = 0
function authnRequest(
  o: {
    id?: string
    issuer?: string
    instant?: string
    acs?: string
    extra?: string
    prolog?: string
  } = {},
): string {
  const attrs = [
    `ID="${o.id ?? `_req${Date.now()}${n++}`}"`,
    'Version="2.0"',
    `IssueInstant="${o.instant ?? new Date().toISOString()}"`,
    `Destination="${s.ssoUrl}"`,
    ...(o.acs === '' ? [] : [`AssertionConsumerServiceURL="${o.acs ?? ACS}"`]),
  ].join(' ')
  return `${o.prolog ?? ''}<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ${attrs}><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${o.issuer ?? SP_ENTITY}</saml:Issuer>${o.extra ?? ''}</samlp:AuthnRequest>`
}
const redirect = (xml: string | Buffer, relayState?: string) =>
  `${s.ssoUrl}?SAMLRequest=${encodeURIComponent(deflateRawSync(xml).toString('base64'))}${relayState === undefined ? '' : `&RelayState=${encodeURIComponent(relayState)}`}`
const postForm = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
  body: new URLSearchParams(fields).toString(),
})

async function expectRefused(url: string, init: RequestInit, status: number, code: string) {
  const before = s.t.logs.length
  const browser = new Browser(s.issuer)
  const page = await browser.go(url, {
    ...init,
    headers: { Accept: 'text/html', ...(init.headers as Record<string, string> | undefined) },
  })
  expect(page.status).toBe(status)
  expect(page.headers.get('content-type')).toMatch(/html/)
  expect(page.html).toContain('Something went wrong')
  expect(isSignInPage(page)).toBe(false)
  expect(browser.setCookies.filter((c) => c.name === 'sso_bridge')).toEqual([])
  expect(s.t.logs.slice(before).some((l) => l.code === code)).toBe(true)
  return page
}

/** A member already signed in, so a good request would be answered at once. */
async function signedInBrowser(): Promise<Browser> {
  const browser = new Browser(s.issuer)
  autoPost(await signIn(browser, await browser.go(redirect(authnRequest()))))
  return browser
}

describe('SAML bad input', () => {
  test('unknown SP: error page, 404, ERR_SAML_UNKNOWN_SP', async () => {
    await expectRefused(
      redirect(authnRequest({ issuer: 'https://evil.example/sp' })),
      {},
      404,
      'ERR_SAML_UNKNOWN_SP',
    )
  })

  test('unregistered ACS URL: refused, never posted to', async () => {
    const page = await expectRefused(
      redirect(authnRequest({ acs: 'https://evil.example/acs' })),
      {},
      400,
      'ERR_SAML_ACS_NOT_REGISTERED',
    )
    expect(page.html).not.toContain('evil.example')
  })

  test('replayed request ID: the second use gets a Requester error Response, no assertion', async () => {
    const browser = await signedInBrowser()
    const url = redirect(authnRequest({ id: '_replay-me-1' }))
    expect(responseXml(autoPost(await browser.go(url)).fields)).toContain('<saml:Assertion')
    const again = autoPost(await browser.go(url))
    expect(again.action).toBe(ACS)
    const xml = responseXml(again.fields)
    expect(xml).toContain('urn:oasis:names:tc:SAML:2.0:status:Requester')
    expect(xml).not.toContain('Assertion')
    expect(s.t.logs.some((l) => l.code === 'ERR_SAML_REPLAYED')).toBe(true)
  })

  test('stale IssueInstant (10 min old) and one from the future: Requester error Response', async () => {
    const browser = await signedInBrowser()
    for (const at of [Date.now() - 10 * 60_000, Date.now() + 10 * 60_000]) {
      const xml = responseXml(
        autoPost(await browser.go(redirect(authnRequest({ instant: new Date(at).toISOString() }))))
          .fields,
      )
      expect(xml).toContain('status:Requester')
      expect(xml).not.toContain('Assertion')
    }
    expect(s.t.logs.some((l) => l.code === 'ERR_SAML_STALE')).toBe(true)
  })

  test('IssueInstant within the 3-minute skew is accepted', async () => {
    const browser = await signedInBrowser()
    const xml = responseXml(
      autoPost(
        await browser.go(
          redirect(authnRequest({ instant: new Date(Date.now() - 150_000).toISOString() })),
        ),
      ).fields,
    )
    expect(xml).toContain('status:Success')
  })

  test('missing signature when the SP requires one', async () => {
    const sp = nodeSamlSp(s, { issuer: SIGNED_SP })
    await expectRefused(
      await sp.getAuthorizeUrlAsync('', undefined, {}),
      {},
      400,
      'ERR_SAML_SIGNATURE',
    )
  })

  test('invalid signature (Redirect): a signature by another key', async () => {
    const sp = nodeSamlSp(s, {
      issuer: SIGNED_SP,
      privateKey: (await spKeyPairs()).encryption.privateKeyPem,
    })
    await expectRefused(
      await sp.getAuthorizeUrlAsync('', undefined, {}),
      {},
      400,
      'ERR_SAML_SIGNATURE',
    )
  })

  test('invalid signature (Redirect): the request changed after signing', async () => {
    const sp = nodeSamlSp(s, {
      issuer: SIGNED_SP,
      privateKey: (await spKeyPairs()).signing.privateKeyPem,
    })
    const url = new URL(await sp.getAuthorizeUrlAsync('relay', undefined, {}))
    url.searchParams.set('RelayState', 'changed')
    await expectRefused(url.href, {}, 400, 'ERR_SAML_SIGNATURE')
  })

  test('a valid signature is accepted (Redirect and POST)', async () => {
    const keys = await spKeyPairs()
    const sp = nodeSamlSp(s, { issuer: SIGNED_SP, privateKey: keys.signing.privateKeyPem })
    const browser = new Browser(s.issuer)
    const page = await signIn(
      browser,
      await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})),
    )
    expect((await sp.validatePostResponseAsync(autoPost(page).fields)).profile?.issuer).toBe(
      s.idpEntityId,
    )
    const postSp = nodeSamlSp(s, {
      issuer: SIGNED_SP,
      privateKey: keys.signing.privateKeyPem,
      authnRequestBinding: 'HTTP-POST',
      skipRequestCompression: true,
    })
    const form = await postSp.getAuthorizeFormAsync('', undefined, {})
    const fields = Object.fromEntries(
      [...form.matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    )
    const posted = await browser.go(s.ssoUrl, postForm(fields))
    expect((await postSp.validatePostResponseAsync(autoPost(posted).fields)).profile?.issuer).toBe(
      s.idpEntityId,
    )
    // node-saml's default deflates POST requests too; the signature is over the inflated XML.
    const deflating = nodeSamlSp(s, {
      issuer: SIGNED_SP,
      privateKey: keys.signing.privateKeyPem,
      authnRequestBinding: 'HTTP-POST',
    })
    const form2 = await deflating.getAuthorizeFormAsync('', undefined, {})
    const fields2 = Object.fromEntries(
      [...form2.matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    )
    const posted2 = await browser.go(s.ssoUrl, postForm(fields2))
    expect(
      (await deflating.validatePostResponseAsync(autoPost(posted2).fields)).profile?.issuer,
    ).toBe(s.idpEntityId)
  })

  test('DOCTYPE with an external entity (XXE) is refused before parsing', async () => {
    const xml = authnRequest({
      prolog: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
      issuer: '&xxe;',
    })
    await expectRefused(redirect(xml), {}, 400, 'ERR_SAML_DTD')
    await expectRefused(
      s.ssoUrl,
      postForm({ SAMLRequest: Buffer.from(xml).toString('base64') }),
      400,
      'ERR_SAML_DTD',
    )
  })

  test('billion laughs is refused before parsing', async () => {
    const lol =
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>'
    await expectRefused(
      redirect(authnRequest({ prolog: lol, issuer: '&lol2;' })),
      {},
      400,
      'ERR_SAML_DTD',
    )
  })

  test('deflate bomb: inflate stops at the size cap', async () => {
    // Deflated on libuv's thread pool, not the event loop: a synchronous 40 MB deflate blocks
    // this process (the server's too) for seconds on a loaded machine, past the keep-alive
    // timeout of the connection the previous test left open, and the next request then races
    // the server closing it (ECONNRESET).
    const bomb = (bytes: number) =>
      deflateRawAsync(
        Buffer.concat([
          Buffer.from(authnRequest().replace('</samlp:AuthnRequest>', '<!--')),
          Buffer.alloc(bytes, 0x20),
        ]),
      )
    const small = await bomb(5_000_000) // fits in a URL: ~5 KB that inflates to 5 MB
    expect(small.length).toBeLessThan(6_000)
    // The 413 itself shows inflation stopped at the cap (a full inflate would be 5 MB / 40 MB of
    // XML and be refused as a parse or schema error instead); no wall-clock bound: CI may be loaded.
    await expectRefused(
      `${s.ssoUrl}?SAMLRequest=${encodeURIComponent(small.toString('base64'))}`,
      {},
      413,
      'ERR_SAML_TOO_LARGE',
    )
    // The same through POST (deflated, as node-saml sends by default): 20 KB that would be 40 MB.
    await expectRefused(
      s.ssoUrl,
      postForm({ SAMLRequest: (await bomb(40_000_000)).toString('base64') }),
      413,
      'ERR_SAML_TOO_LARGE',
    )
  })

  test('oversized request (POST, over 64 KiB encoded)', async () => {
    const xml = authnRequest({ extra: `<!--${'x'.repeat(50_000)}-->` })
    await expectRefused(
      s.ssoUrl,
      postForm({ SAMLRequest: Buffer.from(xml).toString('base64') }),
      413,
      'ERR_SAML_TOO_LARGE',
    )
  })

  test('oversized RelayState (over 1024 bytes)', async () => {
    await expectRefused(redirect(authnRequest(), 'r'.repeat(1025)), {}, 400, 'ERR_SAML_RELAY_STATE')
  })

  test('RelayState up to the limit passes through unchanged, markup and all', async () => {
    const browser = await signedInBrowser()
    const relay = `<script>"&'</script>${'é'.repeat(400)}`
    const page = await browser.go(redirect(authnRequest(), relay))
    expect(page.html).not.toContain('<script>"')
    expect(autoPost(page).fields.RelayState).toBe(relay)
  })

  test('malformed base64', async () => {
    await expectRefused(
      `${s.ssoUrl}?SAMLRequest=${encodeURIComponent('***not base64***')}`,
      {},
      400,
      'ERR_SAML_MALFORMED',
    )
    await expectRefused(s.ssoUrl, postForm({ SAMLRequest: 'abc' }), 400, 'ERR_SAML_MALFORMED')
  })

  test('not DEFLATE data, not XML, not an AuthnRequest, no SAMLRequest at all', async () => {
    await expectRefused(
      `${s.ssoUrl}?SAMLRequest=${encodeURIComponent(Buffer.from('plain text').toString('base64'))}`,
      {},
      400,
      'ERR_SAML_MALFORMED',
    )
    await expectRefused(redirect('<a><b></a>'), {}, 400, 'ERR_SAML_SCHEMA')
    await expectRefused(
      redirect(
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0"/>',
      ),
      {},
      400,
      'ERR_SAML_MALFORMED',
    )
    await expectRefused(s.ssoUrl, {}, 400, 'ERR_SAML_MALFORMED')
  })

  test('signature wrapping shapes: a Signature where no schema puts one, duplicate IDs', async () => {
    const sig = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"></ds:Signature>'
    await expectRefused(
      redirect(authnRequest({ extra: `<samlp:Extensions>${sig}</samlp:Extensions>` })),
      {},
      400,
      'ERR_SAML_SCHEMA',
    )
    await expectRefused(
      redirect(
        authnRequest({
          id: '_dup',
          extra: '<samlp:Extensions><x ID="_dup"></x></samlp:Extensions>',
        }),
      ),
      {},
      400,
      'ERR_SAML_SCHEMA',
    )
  })

  test('a pending request id that does not exist (or was used) is an error page', async () => {
    await expectRefused(
      `${s.issuer}/saml/continue/${'A'.repeat(32)}`,
      {},
      400,
      'ERR_SAML_PENDING_EXPIRED',
    )
  })

  test('/login refuses a return_to off this server (no open redirect)', async () => {
    for (const bad of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
    ]) {
      const res = await fetch(`${s.url}/login?return_to=${encodeURIComponent(bad)}`, {
        headers: { Accept: 'text/html' },
        redirect: 'manual',
      })
      expect(res.status).toBe(400)
    }
  })
})
