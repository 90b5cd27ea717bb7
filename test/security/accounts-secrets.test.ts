/**
 * Issue #10, accounts part — integration secrets:
 * - `{"env": NAME}` could name any variable of the server (SITE_TICKET_SECRET, DATABASE_URL,
 *   cloud credentials) and so send it to a URL the admin chose: only names with the configured
 *   prefix (SECRET_ENV_PREFIX, default SSO_BRIDGE_SECRET_) are accepted or ever read;
 * - a missing variable was accepted, reported `set: true` on the connection sheet and failed at
 *   use with a 500: it is refused at save (400 naming it) and shown as not set;
 * - secret names that are Object.prototype members (`toString`, `constructor`…) were accepted:
 *   only the type's own secret names are.
 * Real app over a real SQLite store; the generic `jwt` type signs with whatever its secret
 * resolves to, so a token verified with jsonwebtoken shows which value was used.
 */
import jwt from 'jsonwebtoken'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { integrations } from '../tokens/helpers/fixtures.ts'

const TICKET_SECRET = 'the-site-ticket-secret-must-never-leave-0123456789'
const DB_URL = 'postgres://admin:hunter2-db-password@db.internal:5432/sso'
const PLATFORM_KEY = 'platform-shared-secret-0123456789abcdef'

let t: TestApp
beforeEach(() => {
  t = makeTestApp({
    env: {
      SITE_TICKET_SECRET: TICKET_SECRET,
      DATABASE_URL: DB_URL,
      AWS_SECRET_ACCESS_KEY: 'aws-secret-0123456789abcdef0123456789',
      SSO_BRIDGE_SECRET_GENERIC: PLATFORM_KEY,
    },
  })
})
afterEach(async () => t.close())

const put = (id: string, body: object) =>
  request(t.app).put(`/api/v1/integrations/${id}`).set(auth).send(body)
const generic = (secret: unknown) => ({ ...integrations.generic, secrets: { secret } })
const spot = (secret: unknown) => ({ ...integrations.meltingspot, secrets: { jwt_secret: secret } })

describe('accounts: {env} secrets limited to SECRET_ENV_PREFIX (defect: any server variable could be sent out)', () => {
  it.each(['SITE_TICKET_SECRET', 'DATABASE_URL', 'AWS_SECRET_ACCESS_KEY', 'PATH'])(
    'refuses {"env": "%s"} with 400 at secrets.secret.env; nothing is stored',
    async (name) => {
      const res = await put('leak', generic({ env: name }))
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('validation_failed')
      expect(res.body.details.issues).toContainEqual({
        path: 'secrets.secret.env',
        message: expect.stringContaining('SSO_BRIDGE_SECRET_'),
      })
      await request(t.app).get('/api/v1/integrations/leak').set(auth).expect(404)
      for (const value of [TICKET_SECRET, DB_URL])
        expect(JSON.stringify(res.body) + t.logText()).not.toContain(value)
    },
  )

  it('a name under the prefix is accepted, and tokens are signed with that variable', async () => {
    const res = await put('ok', generic({ env: 'SSO_BRIDGE_SECRET_GENERIC' }))
    expect(res.status).toBe(201)
    expect(res.body.secrets.secret).toEqual({
      source: 'env',
      env: 'SSO_BRIDGE_SECRET_GENERIC',
      set: true,
    })
    await request(t.app)
      .put('/api/v1/users/42')
      .set(auth)
      .send({ username: 'rob', email: 'rob@example.com' })
      .expect(201)
    const issued = await request(t.app)
      .post('/api/v1/integrations/ok/tokens')
      .set(auth)
      .send({ external_id: '42' })
    expect(issued.status).toBe(200)
    expect(jwt.verify(issued.body.token, PLATFORM_KEY, { algorithms: ['HS256'] })).toMatchObject({
      sub: '42',
    })
  })

  it('a record stored before the rule, naming SITE_TICKET_SECRET, never resolves: not set on reads and the sheet, no token signed with it', async () => {
    // Written straight into the store, as an older version would have saved it.
    await t.services.store.putIntegration({
      id: 'legacy',
      type: 'jwt',
      settings: (await put('tmp', generic(PLATFORM_KEY))).body.settings,
      secrets: { secret: { env: 'SITE_TICKET_SECRET' } },
      mapping: null,
    })
    const view = await request(t.app).get('/api/v1/integrations/legacy').set(auth)
    expect(view.body.secrets.secret).toEqual({
      source: 'env',
      env: 'SITE_TICKET_SECRET',
      set: false,
    })
    await t.services.store.putIntegration({
      id: 'legacy-spot',
      type: 'meltingspot-jwt',
      settings: (await put('tmp2', spot(PLATFORM_KEY))).body.settings,
      secrets: { jwt_secret: { env: 'SITE_TICKET_SECRET' } },
      mapping: null,
    })
    const sheet = await request(t.app).get('/api/v1/integrations/legacy-spot/connection').set(auth)
    expect(sheet.body.copy_from_platform).toContainEqual(
      expect.objectContaining({ into: 'secrets.jwt_secret', set: false }),
    )
    expect((await t.services.integrations.load('legacy')).secret('secret')).toBeUndefined()
    await request(t.app)
      .put('/api/v1/users/42')
      .set(auth)
      .send({ username: 'rob', email: 'rob@example.com' })
      .expect(201)
    const issued = await request(t.app)
      .post('/api/v1/integrations/legacy/tokens')
      .set(auth)
      .send({ external_id: '42' })
    expect(issued.status).not.toBe(200)
    expect(JSON.stringify(issued.body) + t.logText()).not.toContain(TICKET_SECRET)
  })

  it("SECRET_ENV_PREFIX is configurable, defaults to SSO_BRIDGE_SECRET_, and may not open the server's own settings", () => {
    expect(loadConfig({}, { envFile: false }).secretEnvPrefix).toBe('SSO_BRIDGE_SECRET_')
    expect(loadConfig({ SECRET_ENV_PREFIX: 'CHAT_KEY_' }, { envFile: false }).secretEnvPrefix).toBe(
      'CHAT_KEY_',
    )
    for (const prefix of ['SITE_', 'DATABASE_', 'ADMIN', 'S']) {
      expect(() => loadConfig({ SECRET_ENV_PREFIX: prefix }, { envFile: false }), prefix).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      )
    }
    // Own keys only: `toString` is no environment variable.
    expect(loadConfig({}, { envFile: false }).readSecretEnv('toString')).toBeUndefined()
  })
})

describe('accounts: a missing {env} variable is refused at save (defect: accepted, set: true, 500 at use)', () => {
  it('400 naming the variable; nothing stored', async () => {
    const res = await put('missing', generic({ env: 'SSO_BRIDGE_SECRET_NOT_THERE' }))
    expect(res.status).toBe(400)
    expect(res.body.details.issues).toContainEqual({
      path: 'secrets.secret.env',
      message: expect.stringContaining('SSO_BRIDGE_SECRET_NOT_THERE'),
    })
    await request(t.app).get('/api/v1/integrations/missing').set(auth).expect(404)
  })

  it('a variable gone after the save shows as not set on reads and on the connection sheet', async () => {
    await put('gone', spot({ env: 'SSO_BRIDGE_SECRET_GENERIC' })).expect(201)
    const before = await request(t.app).get('/api/v1/integrations/gone/connection').set(auth)
    expect(before.body.copy_from_platform).toContainEqual(
      expect.objectContaining({ into: 'secrets.jwt_secret', set: true }),
    )
    delete t.env.SSO_BRIDGE_SECRET_GENERIC
    const after = await request(t.app).get('/api/v1/integrations/gone/connection').set(auth)
    expect(after.body.copy_from_platform).toContainEqual(
      expect.objectContaining({ into: 'secrets.jwt_secret', set: false }),
    )
    expect(
      (await request(t.app).get('/api/v1/integrations/gone').set(auth)).body.secrets.jwt_secret,
    ).toMatchObject({ set: false })
  })

  it('an oidc client secret from a missing variable: the sheet says it is not set', async () => {
    t.env.SSO_BRIDGE_SECRET_RP = 'r'.repeat(40)
    await put('rp', {
      type: 'oidc',
      settings: { redirect_uris: ['https://rp.example/cb'] },
      secrets: { client_secret: { env: 'SSO_BRIDGE_SECRET_RP' } },
    }).expect(201)
    delete t.env.SSO_BRIDGE_SECRET_RP
    const sheet = await request(t.app).get('/api/v1/integrations/rp/connection').set(auth)
    expect(sheet.body.client_secret).toMatch(/SSO_BRIDGE_SECRET_RP.*not set/)
  })
})

describe("accounts: secret names are the type's own (defect: Object.prototype names accepted)", () => {
  it.each(['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__'])(
    'refuses secrets.%s with 400; nothing stored',
    async (name) => {
      const body = JSON.parse(
        `{"type": "jwt", "settings": ${JSON.stringify(integrations.generic.settings)}, "secrets": {"secret": "${PLATFORM_KEY}", ${JSON.stringify(name)}: "x"}}`,
      )
      const res = await request(t.app)
        .put('/api/v1/integrations/proto')
        .set(auth)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(body))
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('validation_failed')
      await request(t.app).get('/api/v1/integrations/proto').set(auth).expect(404)
    },
  )
})
