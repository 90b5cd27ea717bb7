import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeEach(async () => {
  t = makeTestApp()
  await t.services.accounts.put('123', {
    username: 'rob',
    email: 'rob@example.com',
    nickname: 'Rob',
    given_name: 'Robert',
    family_name: 'Smith',
    rank: 'moderator',
    profile: { nicknames: ['Rob', 'Robbie'], bio: '<script>alert(1)</script>' },
  })
})
afterEach(async () => {
  await t.close()
})

const oidc = (mapping: unknown) => ({
  type: 'oidc',
  settings: { redirect_uris: ['https://chat.example.com/cb'] },
  mapping,
})

describe('integration mappings', () => {
  it('refuses an invalid mapping at save, naming the key and the reason', async () => {
    const res = await request(t.app)
      .put('/api/v1/integrations/c')
      .set(auth)
      .send(
        oidc({
          'names.nicknames.0': 'profile.nicknames.0',
          bad: 'no_such_field',
          'x.__proto__.y': 'username',
          t: { path: 'username', transforms: ['shout'] },
        }),
      )
    expect(res.status).toBe(400)
    const paths = res.body.details.issues.map((i: { path: string }) => i.path).sort()
    expect(paths).toEqual(['mapping.bad', 'mapping.t', 'mapping.x.__proto__.y'])
    await request(t.app).get('/api/v1/integrations/c').set(auth).expect(404)
  })

  it('previews the default mapping of a type when none is written', async () => {
    await request(t.app)
      .put('/api/v1/integrations/minnit')
      .set(auth)
      .send({
        type: 'minnit-zero-click',
        settings: { chat_url: 'https://organizations.minnit.chat/1/c/Main' },
        secrets: { encryption_key: 'k'.repeat(32) },
      })
      .expect(201)
    const res = await request(t.app)
      .post('/api/v1/integrations/minnit/preview')
      .set(auth)
      .send({ external_id: '123' })
    expect(res.status).toBe(200)
    expect(res.body.document).toEqual({
      userid: '123',
      username: 'rob',
      nickname: 'Rob',
      rank: 'moderator',
    })
  })

  it('previews a nested mapping over the defaults, with its key paths (Minnit table form)', async () => {
    await request(t.app)
      .put('/api/v1/integrations/c')
      .set(auth)
      .send(
        oidc({
          'names.full_name': { template: '{given_name} {family_name}' },
          'names.nicknames.0': 'profile.nicknames.0',
          'names.nicknames.1': 'profile.nicknames.1',
          bio: 'profile.bio',
          zoneinfo: null,
        }),
      )
      .expect(201)
    const res = await request(t.app)
      .post('/api/v1/integrations/c/preview')
      .set(auth)
      .send({ external_id: '123' })
    expect(res.status).toBe(200)
    expect(res.body.document).toMatchObject({
      sub: '123',
      preferred_username: 'rob',
      names: { full_name: 'Robert Smith', nicknames: ['Rob', 'Robbie'] },
      bio: '<script>alert(1)</script>',
    })
    expect(res.body.document).not.toHaveProperty('zoneinfo')
    expect(res.body.paths).toEqual(
      expect.arrayContaining([
        { path: 'names.full_name', value: 'Robert Smith' },
        { path: 'names.nicknames.0', value: 'Rob' },
        { path: 'names.nicknames.1', value: 'Robbie' },
      ]),
    )
  })

  it('preview: 404 for an unknown integration or account, 400 without external_id', async () => {
    await request(t.app).put('/api/v1/integrations/c').set(auth).send(oidc(null)).expect(201)
    expect(
      (
        await request(t.app)
          .post('/api/v1/integrations/nope/preview')
          .set(auth)
          .send({ external_id: '123' })
      ).body.error,
    ).toBe('integration_not_found')
    expect(
      (
        await request(t.app)
          .post('/api/v1/integrations/c/preview')
          .set(auth)
          .send({ external_id: 'nobody' })
      ).body.error,
    ).toBe('user_not_found')
    const missing = await request(t.app).post('/api/v1/integrations/c/preview').set(auth).send({})
    expect(missing.status).toBe(400)
    expect(missing.body.details.issues[0].path).toBe('external_id')
  })

  it('a changed mapping takes effect on the next preview (compiled mappings are cached per version)', async () => {
    await request(t.app)
      .put('/api/v1/integrations/c')
      .set(auth)
      .send(oidc({ extra: { const: 'one' } }))
      .expect(201)
    expect(
      (
        await request(t.app)
          .post('/api/v1/integrations/c/preview')
          .set(auth)
          .send({ external_id: '123' })
      ).body.document.extra,
    ).toBe('one')
    await new Promise((r) => setTimeout(r, 2))
    await request(t.app)
      .put('/api/v1/integrations/c')
      .set(auth)
      .send(oidc({ extra: { const: 'two' } }))
      .expect(200)
    expect(
      (
        await request(t.app)
          .post('/api/v1/integrations/c/preview')
          .set(auth)
          .send({ external_id: '123' })
      ).body.document.extra,
    ).toBe('two')
  })
})

describe('key-path inspector', () => {
  it("lists Minnit's example document exactly as its table does", async () => {
    const doc = {
      id: 123,
      names: {
        full_name: 'Robert Smith',
        first: 'Robert',
        last: 'Smith',
        nicknames: ['Rob', 'Robbie'],
      },
    }
    const res = await request(t.app).post('/api/v1/inspect/paths').set(auth).send(doc)
    expect(res.status).toBe(200)
    expect(res.body.paths).toEqual([
      { path: 'id', value: 123 },
      { path: 'names.full_name', value: 'Robert Smith' },
      { path: 'names.first', value: 'Robert' },
      { path: 'names.last', value: 'Smith' },
      { path: 'names.nicknames.0', value: 'Rob' },
      { path: 'names.nicknames.1', value: 'Robbie' },
    ])
  })

  it('requires the admin token and JSON', async () => {
    await request(t.app).post('/api/v1/inspect/paths').send({ a: 1 }).expect(401)
    const bad = await request(t.app)
      .post('/api/v1/inspect/paths')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('{')
    expect(bad.body.error).toBe('invalid_json')
  })
})
