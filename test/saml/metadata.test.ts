/**
 * IdP metadata after a key rotation: both certificates, so SPs keep verifying during the
 * rollover; responses are signed with the current key only.
 */
import { X509Certificate } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { generateSamlKeyPair } from '../../src/keys/generate.ts'
import type { IntegrationService } from '../../src/integrations/registry.ts'
import { createSamlIdp } from '../../src/saml/idp.ts'
import type { KvStore } from '../../src/store/ports.ts'
import { fixtureKeys } from '../helpers/app.ts'

describe('IdP metadata after rotation', () => {
  test('lists the current and the previous signing certificate; signs with the current one', async () => {
    const current = await generateSamlKeyPair('idp.example new')
    const previous = fixtureKeys().saml.current
    const idp = createSamlIdp({
      issuer: 'https://idp.example',
      keys: { ...fixtureKeys(), saml: { current, previous: [previous] } },
      kv: {} as KvStore,
      integrations: {} as IntegrationService,
      pairwiseSecret: 'x'.repeat(32),
    })
    const xml = idp.metadata().replace(/\s+/g, '')
    for (const k of [current, previous])
      expect(xml).toContain(new X509Certificate(k.certificatePem).raw.toString('base64'))
    expect(idp.entityId).toBe('https://idp.example/saml/metadata')
    expect(idp.signingKey.certificateB64).toBe(
      new X509Certificate(current.certificatePem).raw.toString('base64'),
    )
  })
})
