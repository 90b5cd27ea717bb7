import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../../helpers/app.ts'

let t: TestApp
beforeEach(() => {
  t = makeTestApp({ env: { SSO_BRIDGE_SECRET_MINNIT_KEY: 'k'.repeat(32) } })
})
afterEach(async () => {
  await t.close()
})

const KEY = 'A3f9c1e7B2d4a6c8E0f2a4c6e8b0d2f4' // 32 bytes
const minnit = {
  type: 'minnit-zero-click',
  settings: { chat_url: 'https://organizations.minnit.chat/626811533994618/c/Main' },
  secrets: { encryption_key: { value: KEY } },
  mapping: { 'names.nicknames.0': 'nickname' },
}

describe('admin API: integrations', () => {
  it('creates with defaults filled, reads back without the secret value', async () => {
    const res = await request(t.app).put('/api/v1/integrations/minnit-main').set(auth).send(minnit)
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      id: 'minnit-main',
      type: 'minnit-zero-click',
      settings: { chat_url: minnit.settings.chat_url, token_ttl: 3600 },
      secrets: { encryption_key: { source: 'inline', set: true } },
      mapping: minnit.mapping,
    })
    const got = await request(t.app).get('/api/v1/integrations/minnit-main').set(auth)
    const list = await request(t.app).get('/api/v1/integrations').set(auth)
    for (const body of [res.body, got.body, list.body])
      expect(JSON.stringify(body)).not.toContain(KEY)
    expect(list.body.items).toHaveLength(1)
    expect(t.logText()).not.toContain(KEY)
  })

  it('accepts secrets named by environment variable and says whether each is set', async () => {
    const res = await request(t.app)
      .put('/api/v1/integrations/m2')
      .set(auth)
      .send({ ...minnit, secrets: { encryption_key: { env: 'SSO_BRIDGE_SECRET_MINNIT_KEY' } } })
    expect(res.status).toBe(201)
    expect(res.body.secrets).toEqual({
      encryption_key: { source: 'env', env: 'SSO_BRIDGE_SECRET_MINNIT_KEY', set: true },
    })
    // The variable goes away where the server runs (a restart without it): reads say so.
    delete t.env.SSO_BRIDGE_SECRET_MINNIT_KEY
    const got = await request(t.app).get('/api/v1/integrations/m2').set(auth)
    expect(got.body.secrets.encryption_key).toEqual({
      source: 'env',
      env: 'SSO_BRIDGE_SECRET_MINNIT_KEY',
      set: false,
    })
  })

  it('keeps stored secrets when a replacement omits them (secrets are write-only)', async () => {
    await request(t.app).put('/api/v1/integrations/m').set(auth).send(minnit).expect(201)
    const { secrets: _omit, ...withoutSecrets } = minnit
    const res = await request(t.app)
      .put('/api/v1/integrations/m')
      .set(auth)
      .send({ ...withoutSecrets, settings: { ...minnit.settings, token_ttl: 600 } })
    expect(res.status).toBe(200)
    expect(res.body.secrets.encryption_key).toEqual({ source: 'inline', set: true })
    const loaded = await t.services.integrations.load('m')
    expect(loaded.secret('encryption_key')).toBe(KEY)
    const removed = await request(t.app)
      .put('/api/v1/integrations/m')
      .set(auth)
      .send({ ...withoutSecrets, secrets: { encryption_key: null } })
    expect(removed.status).toBe(400)
    expect(removed.body.details.issues).toEqual([
      { path: 'secrets.encryption_key', message: expect.stringContaining('required') },
    ])
  })

  it('validates settings by the type schema and names each bad field; nothing is written', async () => {
    const res = await request(t.app)
      .put('/api/v1/integrations/bad')
      .set(auth)
      .send({
        type: 'minnit-zero-click',
        settings: { chat_url: 'ftp://x', token_ttl: 999999, extra: 1 },
        secrets: { encryption_key: 'too-short', nope: 'x' },
      })
    expect(res.status).toBe(400)
    const paths = res.body.details.issues.map((i: { path: string }) => i.path).sort()
    expect(paths).toEqual([
      'secrets.encryption_key',
      'secrets.nope',
      'settings.chat_url',
      'settings.extra',
      'settings.token_ttl',
    ])
    await request(t.app).get('/api/v1/integrations/bad').set(auth).expect(404)
  })

  it('refuses unknown types, bad ids, and an id that differs from the URL', async () => {
    const unknown = await request(t.app)
      .put('/api/v1/integrations/x')
      .set(auth)
      .send({ type: 'discord' })
    expect(unknown.status).toBe(400)
    expect(unknown.body.details.issues[0]).toMatchObject({
      path: 'type',
      message: expect.stringContaining('minnit-zero-click'),
    })
    const badId = await request(t.app).put('/api/v1/integrations/Bad%20Id').set(auth).send(minnit)
    expect(badId.body.details.issues[0].path).toBe('id')
    // The console's Add page lives at /console/integrations/new: the same rule refuses it here.
    const reserved = await request(t.app).put('/api/v1/integrations/new').set(auth).send(minnit)
    expect([reserved.status, reserved.body.error]).toEqual([400, 'validation_failed'])
    expect(reserved.body.details.issues).toEqual([
      { path: 'id', message: expect.stringContaining("console's own address") },
    ])
    await request(t.app).get('/api/v1/integrations/new').set(auth).expect(404)
    const mismatch = await request(t.app)
      .put('/api/v1/integrations/a')
      .set(auth)
      .send({ ...minnit, id: 'b' })
    expect(mismatch.body.details.issues[0].path).toBe('id')
  })

  it('validates each of the seven types with its own schema', async () => {
    const good: Record<string, object> = {
      oidc: { type: 'oidc', settings: { redirect_uris: ['https://rp.example.com/cb'] } },
      saml: {
        type: 'saml',
        settings: {
          entity_id: 'https://sp.example.com',
          acs_urls: [{ url: 'https://sp.example.com/acs' }],
        },
      },
      'minnit-zero-click': minnit,
      'boostgpt-jwt': {
        type: 'boostgpt-jwt',
        settings: { bot_id: 'b0t' },
        secrets: { sso_secret: 'f'.repeat(64) },
      },
      'meltingspot-jwt': {
        type: 'meltingspot-jwt',
        settings: {
          spot_base_url: 'https://app.meltingspot.io',
          spot_id: '129487c9-6acc-43d9-ab96-182ded763538',
        },
        secrets: { jwt_secret: 'x'.repeat(40) },
      },
      deadsimplechat: {
        type: 'deadsimplechat',
        settings: { chat_room_url: 'https://deadsimplechat.com/abc' },
        secrets: { private_key: 'pk' },
      },
      jwt: { type: 'jwt', settings: {}, secrets: { secret: 's'.repeat(32) } },
    }
    for (const [type, body] of Object.entries(good)) {
      const res = await request(t.app).put(`/api/v1/integrations/${type}`).set(auth).send(body)
      expect(res.status, type).toBe(201)
    }
    const bad = await request(t.app)
      .put('/api/v1/integrations/b')
      .set(auth)
      .send({
        type: 'boostgpt-jwt',
        settings: { bot_id: 'b', token_ttl: 7200 },
        secrets: { sso_secret: 'f'.repeat(64) },
      })
    expect(bad.body.details.issues[0]).toMatchObject({ path: 'settings.token_ttl' })
    expect((await request(t.app).get('/api/v1/integrations').set(auth)).body.items).toHaveLength(7)
  })

  it('deletes with 204, then 404 integration_not_found', async () => {
    await request(t.app).put('/api/v1/integrations/m').set(auth).send(minnit).expect(201)
    await request(t.app).delete('/api/v1/integrations/m').set(auth).expect(204)
    const res = await request(t.app).delete('/api/v1/integrations/m').set(auth)
    expect(res.status).toBe(404)
    expect(res.body.error).toBe('integration_not_found')
  })
})

describe('admin API: generated secrets', () => {
  it('generates an OAuth2 client secret once for a confidential client, never for a public one', async () => {
    const created = await request(t.app)
      .put('/api/v1/integrations/rp')
      .set(auth)
      .send({ type: 'oidc', settings: { redirect_uris: ['https://rp.example.com/cb'] } })
    expect(created.status).toBe(201)
    const secret = created.body.generated_secrets.client_secret as string
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(created.body.secrets.client_secret).toEqual({ source: 'inline', set: true })
    const got = await request(t.app).get('/api/v1/integrations/rp').set(auth)
    expect(got.body.generated_secrets).toBeUndefined()
    expect(JSON.stringify(got.body)).not.toContain(secret)
    // Saving again keeps the stored secret and generates nothing new.
    const again = await request(t.app)
      .put('/api/v1/integrations/rp')
      .set(auth)
      .send({ type: 'oidc', settings: { redirect_uris: ['https://rp.example.com/cb2'] } })
    expect(again.body.generated_secrets).toBeUndefined()
    expect((await t.services.integrations.load('rp')).secret('client_secret')).toBe(secret)
    expect(t.logText()).not.toContain(secret)

    const pub = await request(t.app)
      .put('/api/v1/integrations/spa')
      .set(auth)
      .send({
        type: 'oidc',
        settings: { redirect_uris: ['https://spa.example.com/cb'], public: true },
      })
    expect(pub.body.generated_secrets).toBeUndefined()
    expect(pub.body.secrets).toEqual({})
  })
})
