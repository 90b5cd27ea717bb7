/**
 * Arena SSO v2 (tokens/platforms/arena.ts), against its document:
 * https://docs.arena.im/docs/sso-integration-guide — an RS256 JWT `{sub (= email), email,
 * displayName, photoURL, iat, exp (1 minute), iss}` Arena verifies with the site's public key.
 * sso-bridge signs with its own RS256 key, so the test verifies with the JWKS the server
 * publishes (`GET /jwks`), in Python (PyJWT's PyJWK), as Arena would with the public key; the
 * connection sheet's public key PEM verifies it too. Known answer: RSASSA-PKCS1-v1_5 is
 * deterministic, computed with Python's cryptography over the committed test key.
 */
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN } from '../../helpers/app.ts'
import { NOW_S, sessionCookie } from '../helpers/fixtures.ts'
import { PYTHON, runForeign } from '../helpers/foreign.ts'
import { closeDefined, definedSetup, incomplete, type DefinedSetup } from '../helpers/defined.ts'

const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVRa0JJaWF5cEhwSTJGcVJfVHhqdVJWeHgwbGRyRTRRLThfbmlHZElFd1kifQ.eyJzdWIiOiJyb2JAZXhhbXBsZS5jb20iLCJlbWFpbCI6InJvYkBleGFtcGxlLmNvbSIsImRpc3BsYXlOYW1lIjoiUm9iYmllIiwicGhvdG9VUkwiOiJodHRwczovL2Nkbi5leGFtcGxlLmNvbS9yb2IucG5nIiwiaXNzIjoiYXJlbmEtc2l0ZS03IiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjE3NjcyMjU2NjB9.JpBXjvO4_qcr6137XlZiiAVPfNti7HUWXOJw55EBoEQ9axgop4lULmCLY9Ym4IYy4Bu23ueyi0HTv1z6gmN-SzrrpwN8TweWm3a4aPC3M-_zUyCW2EhX9xV6fWftq7th-iS5eF-YJBiCpDq0TUVl1fpEsxOkADDVW0tlYT830OFowg7Ldq7nFD9OG5n-WDQIvki4Zcow87FcdxFVlsffRDtTCKIyaOiQ-tIw3uh2nMgmlZ9DU9eObnQwKnQ1dTJOdKVJrTueLI-UijhoIVctFppB2z1p2orBiBif46YNW9SLRViy3itG-_2Plv5-SVV3Q6ZgJxNN9L7UQnIH3T9yLA'

const CLAIMS = {
  sub: 'rob@example.com',
  email: 'rob@example.com',
  displayName: 'Robbie',
  photoURL: 'https://cdn.example.com/rob.png',
  iss: 'arena-site-7',
  iat: NOW_S,
  exp: NOW_S + 60,
}

let s: DefinedSetup | undefined
beforeEach(async () => {
  s = await definedSetup('arena', { type: 'arena', settings: { sso_issuer_id: 'arena-site-7' } })
})
afterEach(async () => closeDefined(s))

describe('arena', () => {
  it('known answer: RS256 with the JWKS key id, the documented claims, a one-minute exp', async () => {
    expect(await s!.tokens.issue('arena', '42')).toEqual({
      token: JWT,
      url: null,
      html: null,
      expires_at: '2026-01-01T00:01:00.000Z',
    })
  })

  it("PyJWT verifies it with the key the server publishes at /jwks, and with the sheet's PEM", async () => {
    const jwks = (await request(s!.t.app).get('/jwks').expect(200)).body as unknown
    const py = `import sys, json, jwt
i = json.load(sys.stdin)
kid = jwt.get_unverified_header(i['token'])['kid']
key = [k for k in i['jwks']['keys'] if k['kid'] == kid][0]
print(json.dumps(jwt.decode(i['token'], jwt.PyJWK(key).key, algorithms=['RS256'], issuer='arena-site-7', options={'verify_exp': False})))`
    expect(JSON.parse(runForeign(PYTHON, py, { token: JWT, jwks }))).toEqual(CLAIMS)

    const sheet = await request(s!.t.app)
      .get('/api/v1/integrations/arena/connection')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200)
    expect(sheet.body).toMatchObject({
      jwks_uri: expect.stringMatching(/\/jwks$/),
      browser_token_url: expect.stringMatching(/\/tokens\/arena$/),
    })
    const pem = sheet.body.public_key_pem as string
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    expect(JSON.stringify(sheet.body)).not.toMatch(/PRIVATE KEY|"d":/)
    const byPem = `import sys, json, jwt
i = json.load(sys.stdin)
print(json.dumps(jwt.decode(i['token'], i['pem'], algorithms=['RS256'], options={'verify_exp': False})))`
    expect(JSON.parse(runForeign(PYTHON, byPem, { token: JWT, pem }))).toEqual(CLAIMS)
  })

  it('no email: 422 account_incomplete; inspect verifies with the public key; HS256 with the PEM as secret is refused', async () => {
    await s!.t.services.accounts.put('8', { username: 'nomail' })
    await expect(s!.tokens.issue('arena', '8')).rejects.toMatchObject(incomplete('arena', 'sub'))
    expect(await s!.tokens.inspect('arena', JWT)).toMatchObject({ payload: CLAIMS, expired: false })
    const [, p] = JWT.split('.')
    const forged = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${p}.AAAA`
    await expect(s!.tokens.inspect('arena', forged)).rejects.toMatchObject({
      code: 'ERR_TOKEN_INVALID',
    })
  })

  it("Arena's JWT endpoint is the browser token URL: the signed-in member's token, CORS for the site only", async () => {
    await s!.t.services.integrations.put('arena', {
      type: 'arena',
      settings: { sso_issuer_id: 'arena-site-7', site_origins: ['https://www.example.com'] },
    })
    const res = await request(s!.t.app)
      .get('/tokens/arena')
      .set('Cookie', await sessionCookie(s!.t, '42'))
      .set('Origin', 'https://www.example.com')
      .set('Accept', 'application/json')
    expect(res.status).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBe('https://www.example.com')
    expect(res.headers['cache-control']).toContain('no-store')
    expect(res.body.token).toBe(JWT)
    const anon = await request(s!.t.app).get('/tokens/arena').set('Accept', 'application/json')
    expect([anon.status, anon.body.error]).toEqual([401, 'login_required'])
  })
})
