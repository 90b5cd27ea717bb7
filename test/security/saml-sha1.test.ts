/**
 * Defect (issue #10, SAML): request signatures made with RSA-SHA1 (and XML signatures with
 * SHA-1 digests) were accepted from every SP. SHA-1 collisions are practical; an SP still on
 * SHA-1 must be allowed explicitly (`allow_sha1_signatures: true` in its settings).
 *
 * Guarded here: `http://www.w3.org/2000/09/xmldsig#rsa-sha1` as the Redirect SigAlg or the XML
 * SignatureMethod, and `…#sha1` as a DigestMethod, are refused with
 * ERR_SAML_SIGNATURE_ALGORITHM unless the SP allows them; RSA-SHA256/512 work everywhere.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { SamlConfig } from '@node-saml/node-saml'
import { Browser } from '../helpers/oidc.ts'
import {
  autoPost,
  nodeSamlSp,
  registerSp,
  responseXml,
  signIn,
  spKeyPairs,
  startSamlServer,
  type SamlServer,
} from '../saml/helpers.ts'
import { formFields, postForm, refused } from './saml-attack.ts'

let s: SamlServer
const STRICT = 'https://strict-sp.example/metadata'
const LEGACY = 'https://legacy-sp.example/metadata'
beforeAll(async () => {
  s = await startSamlServer()
  const cert = (await spKeyPairs()).signing.certificatePem
  await registerSp(s, 'strict-sp', {
    entity_id: STRICT,
    require_signed_requests: true,
    signing_certificate: cert,
  })
  await registerSp(s, 'legacy-sp', {
    entity_id: LEGACY,
    require_signed_requests: true,
    signing_certificate: cert,
    allow_sha1_signatures: true,
  })
})
afterAll(() => s.close())

const sp = async (issuer: string, extra: Partial<SamlConfig>) =>
  nodeSamlSp(s, { issuer, privateKey: (await spKeyPairs()).signing.privateKeyPem, ...extra })

/** A signed AuthnRequest by each binding, as a browser would send it. */
async function requests(
  issuer: string,
  signatureAlgorithm: 'sha1' | 'sha256' | 'sha512',
  digestAlgorithm: 'sha1' | 'sha256' | 'sha512',
) {
  const redirect = await (
    await sp(issuer, { signatureAlgorithm, digestAlgorithm })
  ).getAuthorizeUrlAsync('', undefined, {})
  const post = formFields(
    await (
      await sp(issuer, {
        signatureAlgorithm,
        digestAlgorithm,
        authnRequestBinding: 'HTTP-POST',
        skipRequestCompression: true,
      })
    ).getAuthorizeFormAsync('', undefined, {}),
  )
  return [
    { url: redirect, init: {} as RequestInit },
    { url: s.ssoUrl, init: postForm(post) },
  ]
}

async function answered(browser: Browser, url: string, init: RequestInit) {
  let page = await browser.go(url, init)
  if (/name="password"/.test(page.html)) page = await signIn(browser, page)
  expect(responseXml(autoPost(page).fields)).toContain('status:Success')
}

describe('SAML RSA-SHA1 request signatures (issue #10)', () => {
  test('RSA-SHA1 (Redirect and POST) and SHA-1 digests are refused for an SP that does not allow them; SHA-256/512 work', async () => {
    const browser = new Browser(s.issuer)
    for (const r of await requests(STRICT, 'sha1', 'sha1'))
      await refused(s, browser, r.url, r.init, 400, 'ERR_SAML_SIGNATURE_ALGORITHM')
    // An RSA-SHA256 signature over a SHA-1 digest: the digest is what binds the message.
    const [, post] = await requests(STRICT, 'sha256', 'sha1')
    await refused(s, browser, post!.url, post!.init, 400, 'ERR_SAML_SIGNATURE_ALGORITHM')
    for (const alg of ['sha256', 'sha512'] as const)
      for (const r of await requests(STRICT, alg, alg)) await answered(browser, r.url, r.init)
  })

  test('an SP with allow_sha1_signatures: true gets its RSA-SHA1 requests answered', async () => {
    const browser = new Browser(s.issuer)
    for (const r of await requests(LEGACY, 'sha1', 'sha1')) await answered(browser, r.url, r.init)
  })
})
