/**
 * Defect (issue #10, SAML): an unsigned LogoutRequest by GET could sign a member out when the
 * NameID is guessable (an email address, a username) — for an SP that has a signing
 * certificate, so could sign it, but does not set `require_signed_requests`.
 *
 * Guarded here: when the SP has `signing_certificate`, its LogoutRequests must be signed
 * (Redirect: the query signature; POST: the XML signature); unsigned ones are refused with
 * ERR_SAML_SIGNATURE and the member stays signed in.
 */
import { ValidateInResponseTo } from '@node-saml/node-saml'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Browser } from '../helpers/oidc.ts'
import {
  autoPost,
  isSignInPage,
  nodeSamlSp,
  registerSp,
  signIn,
  spKeyPairs,
  startSamlServer,
  type SamlServer,
} from '../saml/helpers.ts'
import { inflate, postForm, refused } from './saml-attack.ts'

let s: SamlServer
const CERT_SP = 'https://cert-sp.example/metadata'
const CERT_SLO = 'https://cert-sp.example/slo'
beforeAll(async () => {
  s = await startSamlServer()
  // emailAddress: the NameID an attacker can guess. Requests may be unsigned (no require_signed_requests).
  await registerSp(s, 'cert-sp', {
    entity_id: CERT_SP,
    slo_url: CERT_SLO,
    name_id_format: 'emailAddress',
    signing_certificate: (await spKeyPairs()).signing.certificatePem,
  })
})
afterAll(() => s.close())

const sp = (signed: boolean) =>
  spKeyPairs().then((keys) =>
    nodeSamlSp(s, {
      issuer: CERT_SP,
      logoutCallbackUrl: CERT_SLO,
      validateInResponseTo: ValidateInResponseTo.ifPresent,
      ...(signed ? { privateKey: keys.signing.privateKeyPem } : {}),
    }),
  )

const stillSignedIn = async (browser: Browser) =>
  !isSignInPage(await browser.go(await (await sp(false)).getAuthorizeUrlAsync('', undefined, {})))

describe('SAML Single Logout from an SP with a signing certificate (issue #10)', () => {
  test('an unsigned LogoutRequest by GET (or POST) naming the member by a guessable email is refused; the member stays signed in; a signed one works', async () => {
    const member = new Browser(s.issuer)
    const plain = await sp(false)
    const { profile } = await plain.validatePostResponseAsync(
      autoPost(
        await signIn(member, await member.go(await plain.getAuthorizeUrlAsync('', undefined, {}))),
      ).fields,
    )
    expect(profile!.nameID).toBe('robin@example.test')
    // What an attacker can make without the SP's key: the guessed NameID, no signature.
    const guessed = {
      issuer: s.idpEntityId,
      nameID: 'robin@example.test',
      nameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    }
    const unsignedUrl = new URL(await (await sp(false)).getLogoutUrlAsync(guessed as never, '', {}))
    expect(unsignedUrl.searchParams.has('Signature')).toBe(false)
    await refused(s, member, unsignedUrl.href, {}, 400, 'ERR_SAML_SIGNATURE')
    expect(await stillSignedIn(member)).toBe(true)

    // By POST, the same unsigned XML: refused too.
    const xml = inflate(unsignedUrl.searchParams.get('SAMLRequest')!)
    await refused(
      s,
      member,
      s.sloUrl,
      postForm({ SAMLRequest: Buffer.from(xml).toString('base64') }),
      400,
      'ERR_SAML_SIGNATURE',
    )
    expect(await stillSignedIn(member)).toBe(true)

    // The SP's own signed LogoutRequest ends the session, answered by a LogoutResponse node-saml accepts.
    const signer = await sp(true)
    const out = autoPost(await member.go(await signer.getLogoutUrlAsync(profile!, '', {})))
    expect(out.action).toBe(CERT_SLO)
    expect((await signer.validatePostResponseAsync(out.fields)).loggedOut).toBe(true)
    expect(await stillSignedIn(member)).toBe(false)
  })
})
