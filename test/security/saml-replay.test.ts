/**
 * Defect (issue #10, SAML): request-ID replay protection did not hold through signature
 * wrapping or Redirect parameter pollution — a used, genuine signed request could be sent again
 * under a fresh ID (the one the door read), which the replay cache had never seen.
 *
 * Guarded here: the replay cache is keyed on the ID of the element the signature covers (the
 * one the door processes); both attacks are refused and the used ID stays used.
 */
import { deflateRawSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ACS, autoPost, responseXml, type SamlServer } from '../saml/helpers.ts'
import {
  formFields,
  inflate,
  postForm,
  refused,
  signedInBrowser,
  signingSp,
  startAttackServer,
  wrapSigned,
} from './saml-attack.ts'

let s: SamlServer
beforeAll(async () => {
  s = await startAttackServer()
})
afterAll(() => s.close())

const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64')

/** The second use of a request: a Requester error Response, no assertion, ERR_SAML_REPLAYED logged. */
async function expectReplayRefused(
  page: Awaited<ReturnType<Awaited<ReturnType<typeof signedInBrowser>>['go']>>,
  logsBefore: number,
) {
  const post = autoPost(page)
  expect(post.action).toBe(ACS)
  const xml = responseXml(post.fields)
  expect(xml).toContain('urn:oasis:names:tc:SAML:2.0:status:Requester')
  expect(xml).not.toContain('Assertion')
  expect(s.t.logs.slice(logsBefore).map((l) => l.code)).toContain('ERR_SAML_REPLAYED')
}

describe('SAML request-ID replay through the attacks of issue #10', () => {
  test('replay through signature wrapping: a used signed POST request re-rooted under a fresh ID is refused; the used ID stays used', async () => {
    const browser = await signedInBrowser(s)
    const sp = await signingSp(s, {
      authnRequestBinding: 'HTTP-POST',
      skipRequestCompression: true,
    })
    const xml = Buffer.from(
      formFields(await sp.getAuthorizeFormAsync('', undefined, {})).SAMLRequest!,
      'base64',
    ).toString('utf8')
    const id = /ID="([^"]+)"/.exec(xml)![1]!
    expect(
      responseXml(autoPost(await browser.go(s.ssoUrl, postForm({ SAMLRequest: b64(xml) }))).fields),
    ).toContain(`InResponseTo="${id}"`)

    await refused(
      s,
      browser,
      s.ssoUrl,
      postForm({ SAMLRequest: b64(wrapSigned(xml, { ID: '_fresh-id-wrapped' })) }),
      400,
      'ERR_SAML_SIGNATURE',
    )
    const logs = s.t.logs.length
    await expectReplayRefused(await browser.go(s.ssoUrl, postForm({ SAMLRequest: b64(xml) })), logs)
  })

  test('replay through Redirect parameter pollution: a used signed request with a fresh-ID copy in front is refused; the used ID stays used', async () => {
    const browser = await signedInBrowser(s)
    const url = new URL(await (await signingSp(s)).getAuthorizeUrlAsync('', undefined, {}))
    const parts = url.search.slice(1).split('&')
    const part = (name: string) => parts.find((p) => p.startsWith(`${name}=`))!
    const xml = inflate(url.searchParams.get('SAMLRequest')!)
    const id = /ID="([^"]+)"/.exec(xml)![1]!
    expect(responseXml(autoPost(await browser.go(url.href)).fields)).toContain(
      `InResponseTo="${id}"`,
    )

    const fresh = encodeURIComponent(
      deflateRawSync(Buffer.from(xml.replace(/ ID="[^"]+"/, ' ID="_fresh-id-polluted"'))).toString(
        'base64',
      ),
    )
    const filler = Array.from({ length: 1000 }, (_, i) => `f${i}=${i}`).join('&')
    await refused(
      s,
      browser,
      `${s.ssoUrl}?SAMLRequest=${fresh}&${part('SigAlg')}&${part('Signature')}&${filler}&${part('SAMLRequest')}`,
      {},
      400,
      'ERR_SAML_DUPLICATE_PARAMETER',
    )
    const logs = s.t.logs.length
    await expectReplayRefused(await browser.go(url.href), logs)
  })
})
