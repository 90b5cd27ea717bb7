/**
 * Defect (issue #10, SAML): signature wrapping. A genuine AuthnRequest signed by the SP
 * (node-saml, HTTP-POST) was re-rooted: its signature moved under a new root element with a new
 * ID, another registered ACS and ForceAuthn, the genuine request tucked into
 * `samlp:Extensions`. The signature still verified (its Reference points at the tucked-away
 * element) and the door read the new root, for an SP with `require_signed_requests`.
 *
 * Guarded here: the one signature must sit directly under the root, reference exactly `#` + the
 * root's ID, and every field the door uses comes from what that signature covers.
 */
import { deflateRawSync } from 'node:zlib'
import { signXml } from '@node-saml/node-saml/lib/xml.js'
import { ValidateInResponseTo } from '@node-saml/node-saml'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Browser } from '../helpers/oidc.ts'
import {
  ACS,
  autoPost,
  isSignInPage,
  responseXml,
  signIn,
  SLO,
  spKeyPairs,
  type SamlServer,
} from '../saml/helpers.ts'
import {
  formFields,
  inflate,
  OTHER_ACS,
  postForm,
  refused,
  signatureStillVerifies,
  signedInBrowser,
  signingSp,
  startAttackServer,
  wrapSigned,
} from './saml-attack.ts'

let s: SamlServer
beforeAll(async () => {
  s = await startAttackServer({ slo_url: SLO })
})
afterAll(() => s.close())

/** node-saml's signed POST AuthnRequest, as XML. */
async function genuinePostRequest(): Promise<{ xml: string; id: string }> {
  const sp = await signingSp(s, { authnRequestBinding: 'HTTP-POST', skipRequestCompression: true })
  const xml = Buffer.from(
    formFields(await sp.getAuthorizeFormAsync('', undefined, {})).SAMLRequest!,
    'base64',
  ).toString('utf8')
  return { xml, id: /ID="([^"]+)"/.exec(xml)![1]! }
}

const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64')

describe('SAML signature wrapping (issue #10)', () => {
  test('a genuine signed AuthnRequest re-rooted (new ID, other ACS, ForceAuthn; original in Extensions) is refused; the genuine one still works', async () => {
    const browser = await signedInBrowser(s)
    const genuine = await genuinePostRequest()
    const attrs = {
      ID: '_wrapped-root-1',
      AssertionConsumerServiceURL: OTHER_ACS,
      ForceAuthn: 'true',
    }
    const wrapped = wrapSigned(genuine.xml, attrs)
    expect(wrapped).toContain(`<samlp:Extensions><samlp:AuthnRequest`)
    expect(wrapped).toContain(`ID="${genuine.id}"`)
    expect(signatureStillVerifies(wrapped, (await spKeyPairs()).signing.certificatePem)).toBe(true)

    // As sent (plain base64) and deflated (node-saml's default for POST): both refused.
    await refused(
      s,
      browser,
      s.ssoUrl,
      postForm({ SAMLRequest: b64(wrapped) }),
      400,
      'ERR_SAML_SIGNATURE',
    )
    await refused(
      s,
      browser,
      s.ssoUrl,
      postForm({ SAMLRequest: deflateRawSync(Buffer.from(wrapped)).toString('base64') }),
      400,
      'ERR_SAML_SIGNATURE',
    )
    // The same, the signature left inside the tucked-away original (the new root unsigned).
    await refused(
      s,
      browser,
      s.ssoUrl,
      postForm({
        SAMLRequest: b64(wrapSigned(genuine.xml, attrs, { keepSignatureInOriginal: true })),
      }),
      400,
      'ERR_SAML_SIGNATURE',
    )
    // The signature under the new root, but the genuine element kept as a sibling after it.
    const sibling = wrapped.replace(/<samlp:Extensions>([\s\S]*)<\/samlp:Extensions>/, '$1')
    expect(sibling).not.toContain('Extensions')
    await refused(
      s,
      browser,
      s.ssoUrl,
      postForm({ SAMLRequest: b64(sibling) }),
      400,
      'ERR_SAML_SIGNATURE',
    )

    // Nothing was consumed or changed: the genuine request is answered at the ACS it named.
    const page = await browser.go(s.ssoUrl, postForm({ SAMLRequest: b64(genuine.xml) }))
    expect(isSignInPage(page)).toBe(false)
    const post = autoPost(page)
    expect(post.action).toBe(ACS)
    expect(responseXml(post.fields)).toContain(`InResponseTo="${genuine.id}"`)
  })

  test('a genuine signed LogoutRequest re-rooted to name another member is refused; that member stays signed in', async () => {
    const keys = await spKeyPairs()
    const sp = await signingSp(s, {
      logoutCallbackUrl: SLO,
      validateInResponseTo: ValidateInResponseTo.ifPresent,
    })
    // The victim: signed in here (the SP knows the NameID); the attacker holds a LogoutRequest the SP signed for someone else.
    const victim = new Browser(s.issuer)
    const first = await signIn(
      victim,
      await victim.go(await sp.getAuthorizeUrlAsync('', undefined, {})),
    )
    const victimNameId = (await sp.validatePostResponseAsync(autoPost(first).fields)).profile!
      .nameID
    const url = new URL(
      await sp.getLogoutUrlAsync(
        {
          issuer: s.idpEntityId,
          nameID: 'the-attacker',
          nameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        } as never,
        '',
        {},
      ),
    )
    const unsigned = inflate(url.searchParams.get('SAMLRequest')!)
    const signed = signXml(
      unsigned,
      '/*[local-name(.)="LogoutRequest"]',
      { reference: '/*[local-name(.)="LogoutRequest"]/*[local-name(.)="Issuer"]', action: 'after' },
      {
        privateKey: keys.signing.privateKeyPem,
        signatureAlgorithm: 'sha256',
        digestAlgorithm: 'sha256',
      },
    )
    // The genuine request (naming the attacker) goes into Extensions; the new root names the victim.
    const wrapped = wrapSigned(
      signed,
      { ID: '_wrapped-logout-1' },
      { children: `<saml:NameID>${victimNameId}</saml:NameID>` },
    )
    expect(wrapped).toContain(victimNameId)
    expect(signatureStillVerifies(wrapped, keys.signing.certificatePem)).toBe(true)
    await refused(
      s,
      victim,
      s.sloUrl,
      postForm({ SAMLRequest: b64(wrapped) }),
      400,
      'ERR_SAML_SIGNATURE',
    )
    // Still signed in: a request from the SP is answered without the password.
    const page = await victim.go(await (await signingSp(s)).getAuthorizeUrlAsync('', undefined, {}))
    expect(isSignInPage(page)).toBe(false)
    expect(autoPost(page).action).toBe(ACS)

    // A LogoutRequest the SP itself signed for the victim, by POST, does end the session.
    const own = new URL(
      await sp.getLogoutUrlAsync(
        {
          issuer: s.idpEntityId,
          nameID: victimNameId,
          nameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        } as never,
        '',
        {},
      ),
    )
    const ownSigned = signXml(
      inflate(own.searchParams.get('SAMLRequest')!),
      '/*[local-name(.)="LogoutRequest"]',
      { reference: '/*[local-name(.)="LogoutRequest"]/*[local-name(.)="Issuer"]', action: 'after' },
      {
        privateKey: keys.signing.privateKeyPem,
        signatureAlgorithm: 'sha256',
        digestAlgorithm: 'sha256',
      },
    )
    expect(
      autoPost(await victim.go(s.sloUrl, postForm({ SAMLRequest: b64(ownSigned) }))).action,
    ).toBe(SLO)
    expect(
      isSignInPage(
        await victim.go(await (await signingSp(s)).getAuthorizeUrlAsync('', undefined, {})),
      ),
    ).toBe(true)
  })
})
