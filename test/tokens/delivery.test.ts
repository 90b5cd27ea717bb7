/**
 * Delivery over real HTTP (supertest on the real app over real SQLite): the server-to-server
 * API with the admin token or a per-integration api_key, the browser token URL with the bridge
 * session and CORS for the configured site origins, inspect without an oracle, error codes, and
 * the connection sheet of each token type.
 */
import { gzipSync } from 'node:zlib'
import jsonwebtoken from 'jsonwebtoken'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import {
  BOOSTGPT_SECRET,
  integrations,
  MINNIT_KEY,
  ROB,
  sessionCookie,
} from './helpers/fixtures.ts'
import { referenceDecrypt, referenceEncrypt } from './helpers/minnit-reference.ts'

const SITE = 'https://www.example.com'
const API_KEY = 'site-server-key-0123456789abcdef'
const OTHER_KEY = 'other-server-key-0123456789abcdef'

let t: TestApp

beforeEach(async () => {
  t = makeTestApp()
  await request(t.app).put('/api/v1/users/42').set(auth).send(ROB).expect(201)
  await request(t.app)
    .put('/api/v1/integrations/minnit')
    .set(auth)
    .send({
      ...integrations.minnit,
      settings: { ...integrations.minnit.settings, site_origins: [SITE] },
      secrets: { ...integrations.minnit.secrets, api_key: API_KEY },
    })
    .expect(201)
  await request(t.app)
    .put('/api/v1/integrations/boostgpt')
    .set(auth)
    .send({
      ...integrations.boostgpt,
      settings: {
        ...integrations.boostgpt.settings,
        site_origins: [SITE],
        login_url: `${SITE}/login`,
      },
      secrets: { ...integrations.boostgpt.secrets, api_key: OTHER_KEY },
    })
    .expect(201)
})
afterEach(async () => {
  await t.close()
})

const issue = (id: string, body: unknown, headers: Record<string, string> = auth) =>
  request(t.app)
    .post(`/api/v1/integrations/${id}/tokens`)
    .set(headers)
    .send(body as object)

describe('POST /api/v1/integrations/{id}/tokens', () => {
  it('admin token → {token, url, html, expires_at}, no-store; the token decrypts with the documented format', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000 // max_valid_ts is in whole seconds
    const res = await issue('minnit', { external_id: '42' })
    const after = Date.now()
    expect(res.status).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(Object.keys(res.body).sort()).toEqual(['expires_at', 'html', 'token', 'url'])
    expect(JSON.parse(referenceDecrypt(MINNIT_KEY, res.body.token))).toMatchObject({
      userid: '42',
      username: 'Rob',
      rank: 'moderator',
    })
    expect(new URL(res.body.url).searchParams.get('ssotoken')).toBe(res.body.token)
    // token_ttl (3600 s) from the moment of issue, which lies between the two clock readings.
    expect(Date.parse(res.body.expires_at)).toBeGreaterThanOrEqual(before + 3600_000)
    expect(Date.parse(res.body.expires_at)).toBeLessThanOrEqual(after + 3600_000)
    // Tokens are credentials: never in the log.
    expect(t.logText()).not.toContain(res.body.token.slice(0, 40))
  })

  it("an integration's api_key opens that integration only; anything else is 401, unknown integrations included", async () => {
    const bearer = (key: string) => ({ Authorization: `Bearer ${key}` })
    expect((await issue('minnit', { external_id: '42' }, bearer(API_KEY))).status).toBe(200)
    expect((await issue('boostgpt', { external_id: '42' }, bearer(OTHER_KEY))).status).toBe(200)
    const cases = [
      await issue('boostgpt', { external_id: '42' }, bearer(API_KEY)),
      await issue('minnit', { external_id: '42' }, bearer(OTHER_KEY)),
      await issue('minnit', { external_id: '42' }, bearer(`${API_KEY}x`)),
      await issue('nope', { external_id: '42' }, bearer(API_KEY)),
      await issue('minnit', { external_id: '42' }, {}),
    ]
    for (const res of cases) {
      expect(res.status).toBe(401)
      expect(res.body.error).toBe('unauthorized')
      expect(res.headers['www-authenticate']).toContain('Bearer')
    }
    // The api_key opens nothing else of the admin API.
    expect((await request(t.app).get('/api/v1/users/42').set(bearer(API_KEY))).status).toBe(401)
    expect(
      (
        await request(t.app)
          .post('/api/v1/integrations/minnit/inspect')
          .set(bearer(API_KEY))
          .send({ token: 'x' })
      ).status,
    ).toBe(401)
  })

  it('unknown integration or account → 404; missing field → 422 naming field and integration; bad body → 400', async () => {
    expect((await issue('nope', { external_id: '42' })).body).toMatchObject({
      error: 'integration_not_found',
    })
    expect((await issue('nope', { external_id: '42' })).status).toBe(404)
    const ghost = await issue('minnit', { external_id: 'ghost' })
    expect([ghost.status, ghost.body.error]).toEqual([404, 'user_not_found'])
    await request(t.app).put('/api/v1/users/7').set(auth).send({ username: 'seven' }).expect(201)
    const incomplete = await issue('boostgpt', { external_id: '7' })
    expect(incomplete.status).toBe(422)
    expect(incomplete.body).toEqual({
      error: 'account_incomplete',
      message: 'integration boostgpt requires email, which this account does not have',
      details: { integration: 'boostgpt', field: 'email', reason: 'missing' },
    })
    expect((await issue('minnit', {})).body).toMatchObject({
      error: 'validation_failed',
      details: { issues: [{ path: 'external_id' }] },
    })
    expect((await issue('minnit', [1])).status).toBe(400)
    const bad = await request(t.app)
      .post('/api/v1/integrations/minnit/tokens')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('{"external_id":')
    expect([bad.status, bad.body.error]).toEqual([400, 'invalid_json'])
    await request(t.app)
      .put('/api/v1/users/8')
      .set(auth)
      .send({ username: 'eight', status: 'disabled' })
      .expect(201)
    expect((await issue('minnit', { external_id: '8' })).body).toMatchObject({
      error: 'account_disabled',
    })
    await request(t.app)
      .put('/api/v1/integrations/rp')
      .set(auth)
      .send({ type: 'oidc', settings: { redirect_uris: ['https://rp.example.com/cb'] } })
      .expect(201)
    expect((await issue('rp', { external_id: '42' })).body).toMatchObject({
      error: 'validation_failed',
      details: { issues: [{ path: 'integration' }] },
    })
  })
})

describe("the token API's own body reader (src/web/json-body.ts) answers as express.json does", () => {
  const post = () => request(t.app).post('/api/v1/integrations/minnit/tokens').set(auth)
  /** The same request against the admin API, which reads bodies with express.json. */
  const viaExpressJson = () => request(t.app).post('/api/v1/inspect/paths').set(auth)

  it('a body over MAX_BODY_BYTES → 413 payload_too_large, declared or streamed (chunked), and no token', async () => {
    const big = JSON.stringify({ external_id: '42', pad: 'x'.repeat(1_100_000) })
    const declared = await post().set('Content-Type', 'application/json').send(big)
    expect([declared.status, declared.body.error]).toEqual([413, 'payload_too_large'])
    expect([
      (await viaExpressJson().set('Content-Type', 'application/json').send(big)).status,
    ]).toEqual([413])
    // No Content-Length: the limit is counted while reading.
    const chunked = post()
      .set('Content-Type', 'application/json')
      .set('Transfer-Encoding', 'chunked')
    chunked.write(big.slice(0, 600_000))
    chunked.write(big.slice(600_000))
    const streamed = await chunked
    expect([streamed.status, streamed.body.error]).toEqual([413, 'payload_too_large'])
    expect(streamed.body.token).toBeUndefined()
  })

  it('broken JSON → 400 invalid_json; whitespace only is broken JSON too; an empty body reads as {}', async () => {
    for (const body of ['{"external_id":', '   ', 'nul']) {
      const res = await post().set('Content-Type', 'application/json').send(body)
      const reference = await viaExpressJson().set('Content-Type', 'application/json').send(body)
      expect([res.status, res.body.error]).toEqual([400, 'invalid_json'])
      expect(reference.body.error).toBe('invalid_json')
    }
    const empty = await post().set('Content-Type', 'application/json').set('Content-Length', '0')
    expect(empty.body).toMatchObject({
      error: 'validation_failed',
      details: { issues: [{ path: 'external_id' }] },
    })
  })

  it('any content type is read as JSON; gzip and other charsets go through express.json itself', async () => {
    const body = JSON.stringify({ external_id: '42' })
    expect((await post().set('Content-Type', 'text/plain').send(body)).status).toBe(200)
    expect(
      (await post().set('Content-Type', 'application/json; charset=UTF-8').send(body)).status,
    ).toBe(200)
    // write(), not send(): superagent would serialize a Buffer as JSON under a JSON content type.
    const gzipped = post().set('Content-Type', 'application/json').set('Content-Encoding', 'gzip')
    gzipped.write(gzipSync(body))
    const zipped = await gzipped
    expect([zipped.status, typeof zipped.body.token]).toEqual([200, 'string'])
    const latin1 = await post()
      .set('Content-Type', 'application/json; charset=iso-8859-1')
      .send(body)
    expect([latin1.status, latin1.body.error]).toEqual([415, 'unsupported_media_type'])
  })

  it('the answer is written directly: JSON with its length, no-store, no ETag', async () => {
    const res = await post().send({ external_id: '42' })
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(res.body)))
    expect(res.headers.etag).toBeUndefined()
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })
})

describe('POST /api/v1/integrations/{id}/inspect', () => {
  it('decrypts a zero-click token made from the documented format and verifies a JWT, with expiry', async () => {
    const foreign = referenceEncrypt(
      MINNIT_KEY,
      JSON.stringify({ userid: '1', username: 'Minnit', max_valid_ts: 1640653895 }),
    )
    const res = await request(t.app)
      .post('/api/v1/integrations/minnit/inspect')
      .set(auth)
      .send({ token: foreign })
    expect(res.body).toEqual({
      integration: 'minnit',
      type: 'minnit-zero-click',
      payload: { userid: '1', username: 'Minnit', max_valid_ts: 1640653895 },
      expires_at: '2021-12-28T01:11:35.000Z',
      expired: true,
    })
    const jwt = (await issue('boostgpt', { external_id: '42' })).body.token
    const verified = await request(t.app)
      .post('/api/v1/integrations/boostgpt/inspect')
      .set(auth)
      .send({ token: jwt })
    expect(verified.body).toMatchObject({
      payload: { email: 'rob@example.com', name: 'Robbie', external_id: '42' },
      expired: false,
    })
  })

  it('tampered, wrong-key, garbage and foreign-format tokens all get the same 400 token_invalid (no oracle)', async () => {
    const good = (await issue('minnit', { external_id: '42' })).body.token as string
    const raw = Buffer.from(good, 'base64')
    raw[raw.length - 1]! ^= 1
    const bodies = []
    for (const token of [
      raw.toString('base64'),
      referenceEncrypt('W'.repeat(32), '{"userid":"1","username":"x"}'),
      'garbage',
      jsonwebtoken.sign({ a: 1 }, BOOSTGPT_SECRET),
      good.slice(0, 30),
    ]) {
      const res = await request(t.app)
        .post('/api/v1/integrations/minnit/inspect')
        .set(auth)
        .send({ token })
      expect(res.status).toBe(400)
      bodies.push(JSON.stringify(res.body))
    }
    expect(new Set(bodies)).toEqual(
      new Set([
        JSON.stringify({
          error: 'token_invalid',
          message: 'token is invalid for this integration',
        }),
      ]),
    )
    const jwtBodies = new Set<string>()
    for (const token of [
      jsonwebtoken.sign({ a: 1 }, 'f'.repeat(64)),
      jsonwebtoken.sign({ a: 1 }, BOOSTGPT_SECRET, { algorithm: 'HS384' }),
      'a.b.c',
    ]) {
      jwtBodies.add(
        JSON.stringify(
          (
            await request(t.app)
              .post('/api/v1/integrations/boostgpt/inspect')
              .set(auth)
              .send({ token })
          ).body,
        ),
      )
    }
    expect(jwtBodies.size).toBe(1)
    expect(
      (await request(t.app).post('/api/v1/integrations/minnit/inspect').set(auth).send({})).body
        .error,
    ).toBe('validation_failed')
  })
})

describe('GET /tokens/{id}: the browser token URL', () => {
  it("no bridge session → 401 login_required with the login URL; a session → the member's token", async () => {
    const anonymous = await request(t.app).get('/tokens/boostgpt').set('Origin', SITE)
    expect(anonymous.status).toBe(401)
    expect(anonymous.body).toEqual({
      error: 'login_required',
      message: expect.any(String),
      login_url: `${SITE}/login`,
    })
    expect(anonymous.headers['access-control-allow-origin']).toBe(SITE) // the site's script can read the 401
    const cookie = await sessionCookie(t, '42')
    const res = await request(t.app)
      .get('/tokens/boostgpt')
      .set('Origin', SITE)
      .set('Cookie', cookie)
    expect(res.status).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(
      jsonwebtoken.verify(res.body.token, BOOSTGPT_SECRET, { algorithms: ['HS256'] }),
    ).toMatchObject({ email: 'rob@example.com' })
    expect(res.body.script).toContain('BoostGPTWidget.init')
    expect(
      (await request(t.app).get('/tokens/minnit').set('Cookie', 'sso_bridge=forged')).status,
    ).toBe(401)
  })

  it('CORS with credentials for the configured site origins only', async () => {
    const cookie = await sessionCookie(t, '42')
    const allowed = await request(t.app)
      .get('/tokens/minnit')
      .set('Origin', SITE)
      .set('Cookie', cookie)
    expect(allowed.headers['access-control-allow-origin']).toBe(SITE)
    expect(allowed.headers['access-control-allow-credentials']).toBe('true')
    expect(allowed.headers.vary).toMatch(/Origin/)
    for (const origin of [
      'https://evil.example',
      'https://www.example.com.evil.example',
      'null',
      `${SITE}:443`,
    ]) {
      const res = await request(t.app)
        .get('/tokens/minnit')
        .set('Origin', origin)
        .set('Cookie', cookie)
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined()
      expect(res.headers['access-control-allow-credentials'], origin).toBeUndefined()
    }
    const preflight = await request(t.app)
      .options('/tokens/minnit')
      .set('Origin', SITE)
      .set('Access-Control-Request-Method', 'GET')
    expect(preflight.status).toBe(204)
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': SITE,
      'access-control-allow-methods': 'GET',
      'access-control-allow-credentials': 'true',
    })
    const foreign = await request(t.app)
      .options('/tokens/minnit')
      .set('Origin', 'https://evil.example')
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('a disabled member is treated as signed out; an unknown integration is 404', async () => {
    await request(t.app)
      .put('/api/v1/users/9')
      .set(auth)
      .send({ username: 'nine', email: 'nine@example.com' })
      .expect(201)
    const cookie = await sessionCookie(t, '9')
    await request(t.app)
      .put('/api/v1/users/9')
      .set(auth)
      .send({ username: 'nine', email: 'nine@example.com', status: 'disabled' })
      .expect(200)
    expect((await request(t.app).get('/tokens/minnit').set('Cookie', cookie)).status).toBe(401)
    expect((await request(t.app).get('/tokens/nope').set('Cookie', cookie)).body.error).toBe(
      'integration_not_found',
    )
  })

  it('the redirect route sends a signed-in member to the embed URL; BoostGPT has no URL to go to', async () => {
    const cookie = await sessionCookie(t, '42')
    const res = await request(t.app).get('/tokens/minnit/redirect').set('Cookie', cookie)
    expect(res.status).toBe(302)
    expect(
      JSON.parse(
        referenceDecrypt(MINNIT_KEY, new URL(res.headers.location!).searchParams.get('ssotoken')!),
      ),
    ).toMatchObject({ userid: '42' })
    const boost = await request(t.app)
      .get('/tokens/boostgpt/redirect')
      .set('Cookie', cookie)
      .set('Accept', 'application/json')
    expect([boost.status, boost.body.error]).toEqual([400, 'validation_failed'])
  })

  it("Discourse: the browser token URL refuses the member's sync payload (400 validation_failed, session or not); the token API and the dry run still serve the server", async () => {
    await request(t.app)
      .put('/api/v1/integrations/forum')
      .set(auth)
      .send({
        type: 'discourse',
        settings: { discourse_url: 'https://forum.example.com', site_origins: [SITE] },
        secrets: { connect_secret: 'discourse-connect-secret-0123456789' },
      })
      .expect(201)
    const cookie = await sessionCookie(t, '42')
    for (const headers of [{ Cookie: cookie }, {}]) {
      const res = await request(t.app)
        .get('/tokens/forum')
        .set({ Origin: SITE, Accept: 'application/json', ...headers })
      expect(res.status).toBe(400)
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.body.error).toBe('validation_failed')
      expect(JSON.stringify(res.body)).not.toMatch(/sso=|sig=/)
    }
    const server = await issue('forum', { external_id: '42' })
    expect(server.status).toBe(200)
    expect(new URLSearchParams(server.body.token).get('sig')).toMatch(/^[0-9a-f]{64}$/)
    const dry = await request(t.app)
      .post('/api/v1/integrations/forum/dry-run')
      .set(auth)
      .send({ external_id: '42' })
    expect(dry.status).toBe(200)
    expect(dry.body.token).toBe(server.body.token)
  })
})

describe('connection sheet', () => {
  it('each token type lists what to paste into the platform and what to copy from it, never a secret value', async () => {
    await request(t.app)
      .put('/api/v1/integrations/ms')
      .set(auth)
      .send(integrations.meltingspot)
      .expect(201)
    await request(t.app)
      .put('/api/v1/integrations/dsc')
      .set(auth)
      .send(integrations.dsc('https://api.deadsimplechat.com'))
      .expect(201)
    await request(t.app)
      .put('/api/v1/integrations/generic')
      .set(auth)
      .send(integrations.generic)
      .expect(201)
    const sheet = async (id: string) =>
      (await request(t.app).get(`/api/v1/integrations/${id}/connection`).set(auth)).body
    const ms = await sheet('ms')
    expect(ms.paste_into_platform).toEqual([
      {
        setting: 'Spot settings → SSO → Authorisation URL',
        value: 'http://localhost:3000/tokens/ms/redirect',
      },
    ])
    expect(ms.copy_from_platform).toEqual([
      { setting: 'Spot settings → SSO → private key', into: 'secrets.jwt_secret', set: true },
    ])
    const minnit = await sheet('minnit')
    expect(minnit).toMatchObject({
      paste_into_platform: [],
      copy_from_platform: [{ into: 'secrets.encryption_key', set: true }],
      token_api: 'http://localhost:3000/api/v1/integrations/minnit/tokens',
      browser_token_url: 'http://localhost:3000/tokens/minnit',
      site_origins: [SITE],
      keys: { unique_user_key: 'userid', username_key: 'username', nickname_key: 'nickname' },
    })
    const dsc = await sheet('dsc')
    expect(dsc.paste_into_platform).toEqual([])
    expect(dsc.notes.join(' ')).toContain('Nothing secret leaves the server')
    expect((await sheet('boostgpt')).copy_from_platform[0].into).toBe('secrets.sso_secret')
    expect((await sheet('generic')).paste_into_platform).toContainEqual({
      setting: 'expected audience (aud)',
      value: 'https://platform.example',
    })
    const all = JSON.stringify(
      await Promise.all(['ms', 'minnit', 'dsc', 'boostgpt', 'generic'].map(sheet)),
    )
    for (const secret of [
      MINNIT_KEY,
      BOOSTGPT_SECRET,
      API_KEY,
      OTHER_KEY,
      integrations.meltingspot.secrets.jwt_secret,
      integrations.generic.secrets.secret,
    ]) {
      expect(all).not.toContain(secret)
    }
  })
})

describe('a secret the server cannot see', () => {
  it('an {env} secret missing or unusable where the server runs: 500 config_invalid naming it, never its value', async () => {
    // Saved while the variable was set (a missing one is refused at save), then gone: a restart without it.
    t.env.SSO_BRIDGE_SECRET_MINNIT_ENV_KEY = MINNIT_KEY
    await request(t.app)
      .put('/api/v1/integrations/envkey')
      .set(auth)
      .send({
        ...integrations.minnit,
        secrets: { encryption_key: { env: 'SSO_BRIDGE_SECRET_MINNIT_ENV_KEY' } },
      })
      .expect(201)
    delete t.env.SSO_BRIDGE_SECRET_MINNIT_ENV_KEY
    const missing = await issue('envkey', { external_id: '42' })
    expect(missing.status).toBe(500)
    expect(missing.body).toEqual({
      error: 'config_invalid',
      message: expect.stringContaining(
        'integrations.envkey.secrets.encryption_key: is not set: environment variable SSO_BRIDGE_SECRET_MINNIT_ENV_KEY is missing',
      ),
    })
    t.env.SSO_BRIDGE_SECRET_MINNIT_ENV_KEY = 'only-31-bytes-long-0123456789ab'
    const bad = await issue('envkey', { external_id: '42' })
    expect(bad.body).toEqual({
      error: 'config_invalid',
      message: expect.stringContaining('must be exactly 32 bytes'),
    })
    expect(JSON.stringify(bad.body)).not.toContain(t.env.SSO_BRIDGE_SECRET_MINNIT_ENV_KEY)
    t.env.SSO_BRIDGE_SECRET_MINNIT_ENV_KEY = MINNIT_KEY
    expect((await issue('envkey', { external_id: '42' })).status).toBe(200)
  })
})
