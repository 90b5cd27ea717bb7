/**
 * Issue #11: a door gets its integration's settings typed by its type's schema, from the registry
 * (real SQLite store), instead of casting them at each use.
 */
import { testSecretBox } from '../helpers/secrets.ts'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { isIntegrationOf, type LoadedIntegration } from '../../src/integrations/types.ts'
import { oidcIntegrationType, type OidcClientSettings } from '../../src/oidc/client-settings.ts'
import { samlIntegrationType } from '../../src/saml/sp-settings.ts'
import { createServices } from '../../src/services.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { genericJwtType } from '../../src/tokens/platforms/index.ts'

function setup() {
  const store = createSqliteStore(':memory:')
  return {
    store,
    integrations: createServices(store, {
      readSecretEnv: () => undefined,
      secrets: testSecretBox(),
    }).integrations,
  }
}

describe('typed integration settings', () => {
  it('load(id, type) gives the settings as the schema returns them, typed, with no cast', async () => {
    const { integrations } = setup()
    await integrations.put('rp', {
      type: 'oidc',
      settings: { redirect_uris: ['https://rp.example/cb'], public: true },
    })
    const rp = await integrations.load('rp', oidcIntegrationType)
    expectTypeOf(rp).toEqualTypeOf<LoadedIntegration<OidcClientSettings>>()
    expectTypeOf(rp.settings.redirect_uris).toEqualTypeOf<string[]>()
    expect(rp.settings.redirect_uris).toEqual(['https://rp.example/cb'])
    expect(rp.settings.public).toBe(true)
    expect(rp.settings.scopes).toEqual(['openid', 'profile', 'email']) // the schema's default
  })

  it('load(id, type) of an integration of another type is not found (as no such integration)', async () => {
    const { integrations } = setup()
    await integrations.put('rp', {
      type: 'oidc',
      settings: { redirect_uris: ['https://rp.example/cb'] },
    })
    await expect(integrations.load('rp', samlIntegrationType)).rejects.toMatchObject({
      code: 'ERR_INTEGRATION_NOT_FOUND',
    })
    await expect(integrations.load('nope', oidcIntegrationType)).rejects.toMatchObject({
      code: 'ERR_INTEGRATION_NOT_FOUND',
    })
  })

  it('isIntegrationOf narrows an untyped load to its type, and only to its own', async () => {
    const { integrations } = setup()
    await integrations.put('rp', {
      type: 'oidc',
      settings: { redirect_uris: ['https://rp.example/cb'] },
    })
    const any = await integrations.load('rp')
    expectTypeOf(any.settings).toEqualTypeOf<object>()
    expect(isIntegrationOf(any, samlIntegrationType)).toBe(false)
    expect(isIntegrationOf(any, oidcIntegrationType)).toBe(true)
    if (!isIntegrationOf(any, oidcIntegrationType)) throw new Error('unreachable')
    expectTypeOf(any.settings.public).toEqualTypeOf<boolean>()
    expect(any.settings.public).toBe(false)
  })

  it('a record saved before a setting existed reads with that setting’s default (the type tells the truth)', async () => {
    const { store, integrations } = setup()
    // As an older version saved it: no site_origins, no query_param, no token_ttl.
    await store.putIntegration({
      id: 'old',
      type: 'jwt',
      settings: { target_url: 'https://chat.example/sso' },
      secrets: { secret: { value: 's'.repeat(32) } },
      mapping: null,
    })
    const old = await integrations.load('old', genericJwtType)
    expect(old.settings).toEqual({
      target_url: 'https://chat.example/sso',
      query_param: 'token',
      token_ttl: 300,
      site_origins: [],
    })
    // The stored record itself is left as it was.
    expect(old.record.settings).toEqual({ target_url: 'https://chat.example/sso' })
  })

  it('stored settings the schema now refuses are a validation error naming the field, not a crash in a door', async () => {
    const { store, integrations } = setup()
    await store.putIntegration({
      id: 'bad',
      type: 'oidc',
      settings: { redirect_uris: 'https://rp.example/cb' },
      secrets: {},
      mapping: null,
    })
    await expect(integrations.load('bad')).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
      issues: [expect.objectContaining({ path: 'settings.redirect_uris' })],
    })
  })

  it('a save that changes only the settings is seen by the next load (settings are part of the cached version)', async () => {
    const { integrations } = setup()
    await integrations.put('rp', {
      type: 'oidc',
      settings: { redirect_uris: ['https://a.example/cb'] },
    })
    expect((await integrations.load('rp', oidcIntegrationType)).settings.redirect_uris).toEqual([
      'https://a.example/cb',
    ])
    await integrations.put('rp', {
      type: 'oidc',
      settings: { redirect_uris: ['https://b.example/cb'] },
    })
    expect((await integrations.load('rp', oidcIntegrationType)).settings.redirect_uris).toEqual([
      'https://b.example/cb',
    ])
  })
})
