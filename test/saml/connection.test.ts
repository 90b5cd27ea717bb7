/**
 * A `saml` integration created from SP metadata (node-saml's own metadata document), and its
 * connection sheet: what to paste into the SP (metadata URL, entity id, SSO/SLO/IdP-initiated
 * URLs, certificate with SHA-256 fingerprint) and the attribute names it can map.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { fixtureKeys } from '../helpers/app.ts'
import { Browser } from '../helpers/oidc.ts'
import {
  ACS,
  autoPost,
  nodeSamlSp,
  signIn,
  SP_ENTITY,
  spKeyPairs,
  startSamlServer,
  type SamlServer,
} from './helpers.ts'

let s: SamlServer
beforeAll(async () => {
  s = await startSamlServer()
})
afterAll(() => s.close())

describe('SP metadata and the connection sheet', () => {
  test('an integration from node-saml SP metadata: entity id, ACS, SLO, certificates, signed requests', async () => {
    const keys = await spKeyPairs()
    const sp = nodeSamlSp(s, {
      privateKey: keys.signing.privateKeyPem,
      decryptionPvk: keys.encryption.privateKeyPem,
      logoutCallbackUrl: 'https://sp.example/saml/slo',
    })
    const metadata = sp.generateServiceProviderMetadata(
      keys.encryption.certificatePem,
      keys.signing.certificatePem,
    )
    const res = await s.admin('PUT', '/integrations/from-metadata', {
      type: 'saml',
      settings: { metadata_xml: metadata, name_id_format: 'unspecified' },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    const settings = res.body.settings ?? res.body.integration?.settings
    expect(settings.entity_id).toBe(SP_ENTITY)
    expect(settings.acs_urls).toEqual([{ url: ACS, binding: 'HTTP-POST' }])
    expect(settings.slo_url).toBe('https://sp.example/saml/slo')
    expect(settings.slo_binding).toBe('HTTP-POST')
    expect(settings.signing_certificate.replace(/\s+/g, '')).toBe(
      keys.signing.certificatePem.replace(/\s+/g, ''),
    )
    expect(settings.encryption_certificate.replace(/\s+/g, '')).toBe(
      keys.encryption.certificatePem.replace(/\s+/g, ''),
    )
    expect(settings.name_id_format).toBe('unspecified')
    expect(settings).not.toHaveProperty('metadata_xml')

    // And it works: signed request, encrypted assertion.
    const browser = new Browser(s.issuer)
    const page = await signIn(
      browser,
      await browser.go(await sp.getAuthorizeUrlAsync('', undefined, {})),
    )
    const { profile } = await sp.validatePostResponseAsync(autoPost(page).fields)
    expect(profile?.nameID).toBe('robin')
  })

  test('an SP whose metadata offers SLO over HTTP-Redirect only gets its LogoutResponse that way', async () => {
    const keys = await spKeyPairs()
    const sp = nodeSamlSp(s, {
      issuer: 'https://redirect-only.example/sp',
      logoutCallbackUrl: 'https://redirect-only.example/slo',
    })
    const metadata = sp
      .generateServiceProviderMetadata(null, keys.signing.certificatePem)
      .replace(
        /(<(?:\w+:)?SingleLogoutService[^>]*Binding=")[^"]+"/,
        '$1urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"',
      )
    expect(metadata).toContain('bindings:HTTP-Redirect')
    const res = await s.admin('PUT', '/integrations/redirect-only', {
      type: 'saml',
      settings: { metadata_xml: metadata },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    const settings = res.body.settings ?? res.body.integration?.settings
    expect([settings.slo_url, settings.slo_binding]).toEqual([
      'https://redirect-only.example/slo',
      'HTTP-Redirect',
    ])
  })

  test('bad metadata is a field error', async () => {
    const doctype = await s.admin('PUT', '/integrations/bad-md', {
      type: 'saml',
      settings: { metadata_xml: '<!DOCTYPE x [<!ENTITY a "b">]><x/>' },
    })
    expect(doctype.status).toBe(400)
    expect(doctype.body.details.issues[0].path).toBe('settings.metadata_xml')
    const notMd = await s.admin('PUT', '/integrations/bad-md', {
      type: 'saml',
      settings: { metadata_xml: '<x/>' },
    })
    expect(notMd.status).toBe(400)
  })

  test('the connection sheet of a saml integration', async () => {
    const res = await s.admin('GET', '/integrations/from-metadata/connection')
    expect(res.status).toBe(200)
    const sheet = res.body
    const key = fixtureKeys().saml.current
    expect(sheet).toMatchObject({
      type: 'saml',
      metadata_url: `${s.issuer}/saml/metadata`,
      entity_id: `${s.issuer}/saml/metadata`,
      sso_url: { 'HTTP-Redirect': `${s.issuer}/saml/sso`, 'HTTP-POST': `${s.issuer}/saml/sso` },
      slo_url: `${s.issuer}/saml/slo`,
      idp_initiated_url: `${s.issuer}/saml/idp-initiated/from-metadata`,
      certificate: { pem: key.certificatePem, fingerprint_sha256: key.fingerprintSha256 },
    })
    expect(sheet.attribute_names).toEqual(expect.arrayContaining(['uid', 'username', 'email']))
    expect(sheet.keys.unique_user_key).toBe('uid')
    expect(JSON.stringify(sheet)).not.toContain('PRIVATE KEY')
  })
})
