import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeEach(() => {
  t = makeTestApp()
})
afterEach(async () => {
  await t.close()
})

describe('connection sheet', () => {
  it("oidc: the values of Minnit's OAuth2 form and the key names the mapping produces", async () => {
    const created = await request(t.app)
      .put('/api/v1/integrations/minnit-oauth')
      .set(auth)
      .send({
        type: 'oidc',
        settings: { redirect_uris: ['https://organizations.minnit.chat/sso/callback'] },
        mapping: {
          id: 'external_id',
          'names.nicknames.0': 'nickname',
          'names.handle': 'username',
          'contact.email': 'email',
          sub: null,
          preferred_username: null,
          nickname: null,
          email: null,
        },
      })
    expect(created.status).toBe(201)
    const secret = created.body.generated_secrets.client_secret
    const res = await request(t.app).get('/api/v1/integrations/minnit-oauth/connection').set(auth)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      issuer: 'http://localhost:3000',
      discovery_url: 'http://localhost:3000/.well-known/openid-configuration',
      authorization_endpoint: 'http://localhost:3000/auth',
      token_endpoint: 'http://localhost:3000/token',
      userinfo_endpoint: 'http://localhost:3000/me',
      jwks_uri: 'http://localhost:3000/jwks',
      end_session_endpoint: 'http://localhost:3000/session/end',
      client_id: 'minnit-oauth',
      redirect_uris: ['https://organizations.minnit.chat/sso/callback'],
      keys: {
        unique_user_key: 'id',
        username_key: 'names.handle',
        nickname_key: 'names.nicknames.0',
        email_key: 'contact.email',
      },
    })
    expect(JSON.stringify(res.body)).not.toContain(secret)
  })

  it('agrees with the discovery document the provider serves', async () => {
    await request(t.app)
      .put('/api/v1/integrations/rp')
      .set(auth)
      .send({ type: 'oidc', settings: { redirect_uris: ['https://rp.example.com/cb'] } })
      .expect(201)
    const sheet = (await request(t.app).get('/api/v1/integrations/rp/connection').set(auth)).body
    // oidc-provider builds endpoint URLs from the request's host, as a browser would send it.
    const discovery = (
      await request(t.app).get('/.well-known/openid-configuration').set('Host', 'localhost:3000')
    ).body
    for (const key of [
      'issuer',
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'end_session_endpoint',
      'introspection_endpoint',
      'revocation_endpoint',
    ]) {
      expect(sheet[key], key).toBe(discovery[key])
    }
    expect(sheet.keys).toEqual({
      unique_user_key: 'sub',
      username_key: 'preferred_username',
      nickname_key: 'nickname',
      email_key: 'email',
    })
  })

  it('404s an unknown integration', async () => {
    expect(
      (await request(t.app).get('/api/v1/integrations/nope/connection').set(auth)).body.error,
    ).toBe('integration_not_found')
  })
})
