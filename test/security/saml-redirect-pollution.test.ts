/**
 * Defect (issue #10, SAML): parameter pollution on the HTTP-Redirect binding. The message was
 * read from express's req.query (which keeps the first value and stops at 1,000 keys) while the
 * signature was checked over an octet string rebuilt from the raw query (last value wins). A
 * forged SAMLRequest first, the SigAlg/Signature of a genuine request, 1,000 filler parameters,
 * then the genuine SAMLRequest: the signature verified the genuine one, the door processed the
 * forged one.
 *
 * Guarded here: the raw query is parsed once, a duplicated SAMLRequest, RelayState, SigAlg or
 * Signature is refused (ERR_SAML_DUPLICATE_PARAMETER), and the signature check and the message
 * come from the same values.
 */
import { deflateRawSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ACS, autoPost, isSignInPage, responseXml, type SamlServer } from '../saml/helpers.ts'
import {
  inflate,
  OTHER_ACS,
  refused,
  signedInBrowser,
  signingSp,
  startAttackServer,
} from './saml-attack.ts'

let s: SamlServer
beforeAll(async () => {
  s = await startAttackServer()
})
afterAll(() => s.close())

/** A genuine signed Redirect request: its URL, its raw `name=value` parts as sent, its ID. */
async function genuineRedirect(relayState = '') {
  const url = new URL(await (await signingSp(s)).getAuthorizeUrlAsync(relayState, undefined, {}))
  const parts = url.search.slice(1).split('&')
  const part = (name: string) => parts.find((p) => p.startsWith(`${name}=`))!
  const xml = inflate(url.searchParams.get('SAMLRequest')!)
  return { url: url.href, part, xml, id: /ID="([^"]+)"/.exec(xml)![1]! }
}

/** The forged request: the genuine XML with a new ID and the Response aimed at the other ACS. */
function forge(xml: string, id: string): string {
  return xml
    .replace(/ ID="[^"]+"/, ` ID="${id}"`)
    .replace(/AssertionConsumerServiceURL="[^"]+"/, `AssertionConsumerServiceURL="${OTHER_ACS}"`)
}
const encoded = (xml: string) =>
  encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))
const filler = (n: number) => Array.from({ length: n }, (_, i) => `f${i}=${i}`).join('&')

describe('SAML HTTP-Redirect parameter pollution (issue #10)', () => {
  test('forged SAMLRequest first, the genuine SigAlg/Signature, 1,000 filler parameters, the genuine SAMLRequest last: refused; the genuine request still works', async () => {
    const browser = await signedInBrowser(s)
    const g = await genuineRedirect()
    const forged = forge(g.xml, '_polluted-1')
    const attack = `${s.ssoUrl}?SAMLRequest=${encoded(forged)}&${g.part('SigAlg')}&${g.part('Signature')}&${filler(1000)}&${g.part('SAMLRequest')}`
    await refused(s, browser, attack, {}, 400, 'ERR_SAML_DUPLICATE_PARAMETER')

    // Each of the message's parameters, duplicated, is refused the same way — a name written
    // with percent-escapes too (it is the same parameter once decoded).
    const base = g.url
    for (const extra of [
      `SAMLRequest=${encoded(forged)}`,
      'SAML%52equest=x',
      'RelayState=a&RelayState=b',
      g.part('SigAlg'),
      g.part('Signature'),
    ]) {
      await refused(s, browser, `${base}&${extra}`, {}, 400, 'ERR_SAML_DUPLICATE_PARAMETER')
    }

    // The POST binding's form, the same: two SAMLRequest fields (or two RelayState) are refused.
    const genuineXml = encoded(g.xml)
    await refused(
      s,
      browser,
      s.ssoUrl,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `SAMLRequest=${encoded(forged)}&SAMLRequest=${genuineXml}`,
      },
      400,
      'ERR_SAML_DUPLICATE_PARAMETER',
    )
    await refused(
      s,
      browser,
      s.ssoUrl,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `SAMLRequest=${genuineXml}&RelayState=a&RelayState=b`,
      },
      400,
      'ERR_SAML_DUPLICATE_PARAMETER',
    )

    // Filler past express's limit does not matter on its own: the genuine request, with 1,000
    // unrelated parameters in front, is answered at the ACS it named, for its own ID.
    const page = await browser.go(
      `${s.ssoUrl}?${filler(1000)}&${g.part('SAMLRequest')}&${g.part('SigAlg')}&${g.part('Signature')}`,
    )
    expect(isSignInPage(page)).toBe(false)
    const post = autoPost(page)
    expect(post.action).toBe(ACS)
    expect(responseXml(post.fields)).toContain(`InResponseTo="${g.id}"`)
  })

  test('the message and RelayState the signature covers are the ones used (RelayState kept raw in the octet string)', async () => {
    const browser = await signedInBrowser(s)
    // Characters that must be escaped (no spaces: node-saml signs them as %20 but sends '+').
    const g = await genuineRedirect('/chat?room=1&x=é')
    // The forged message first, then the genuine one's parts in the usual order.
    const attack = `${s.ssoUrl}?SAMLRequest=${encoded(forge(g.xml, '_polluted-2'))}&${g.part('RelayState')}&${g.part('SigAlg')}&${g.part('Signature')}&${filler(1000)}&${g.part('SAMLRequest')}`
    await refused(s, browser, attack, {}, 400, 'ERR_SAML_DUPLICATE_PARAMETER')
    const post = autoPost(await browser.go(g.url))
    expect(post.fields.RelayState).toBe('/chat?room=1&x=é')
    expect(responseXml(post.fields)).toContain(`InResponseTo="${g.id}"`)
  })
})
