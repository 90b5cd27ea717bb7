/**
 * CometChat over a loopback stand-in of its REST API v3 (helpers/cometchat-server.ts, written from
 * cometchat.com/docs/rest-api/users/create and …/auth-tokens/create): the first token creates the
 * user with `withAuthToken`, later ones reuse the sealed stored token, a user that already exists
 * gets a token from Create Auth Token, a refused token is replaced without a second user, a
 * deleted account's token is forgotten. Then two real servers on one PostgreSQL race the first
 * token of one member: one Create User call.
 */
import request from 'supertest'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { startCluster, type Cluster } from '../helpers/cluster.ts'
import { dropFreshSchemas } from '../helpers/pg.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'
import { startCometChatServer, type CometChatServer } from './helpers/cometchat-server.ts'

const REST_KEY = 'cometchat-rest-api-key-0123456789abcdef'
const integration = (api: string, key = REST_KEY) => ({
  type: 'cometchat',
  settings: { app_id: '2487abc', region: 'eu', api_base_url: api },
  secrets: { rest_api_key: key },
})

let t: TestApp
let cc: CometChatServer

describe('cometchat', () => {
  beforeEach(async () => {
    t = makeTestApp()
    cc = await startCometChatServer(REST_KEY)
    await t.services.accounts.put('Rob-42', {
      username: 'rob',
      nickname: 'Rob Roy',
      picture: 'https://cdn.example/rob.png',
    })
    await t.services.integrations.put('chat', integration(cc.url))
  })
  afterEach(async () => {
    await cc.close()
    await t.close()
  })

  const issue = (externalId: string, extra: Record<string, unknown> = {}) =>
    request(t.app)
      .post('/api/v1/integrations/chat/tokens')
      .set(auth)
      .send({ external_id: externalId, ...extra })

  it('first token creates the user (with withAuthToken), the second reuses the stored one', async () => {
    const first = await issue('Rob-42')
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    expect(cc.calls).toEqual([
      {
        path: '/v3/users',
        apikey: REST_KEY,
        body: {
          uid: 'rob-42',
          name: 'Rob Roy',
          avatar: 'https://cdn.example/rob.png',
          withAuthToken: true,
        },
      },
    ])
    expect(cc.tokens.has(first.body.token)).toBe(true)
    expect(first.body).toMatchObject({ url: null, html: null, expires_at: null })
    expect(first.body.script).toBe(`CometChat.login(${JSON.stringify(first.body.token)})`)
    const second = await issue('Rob-42')
    expect(second.body.token).toBe(first.body.token)
    expect(cc.calls).toHaveLength(1)
    // Stored sealed: the token's text is nowhere in the stored entry.
    const account = await t.services.accounts.get('Rob-42')
    const stored = await t.services.store.kvGet('tokens:cometchat:chat', account.id)
    expect(JSON.stringify(stored)).not.toContain(first.body.token)
    expect(stored?.value).toMatchObject({ uid: 'rob-42', external_id: 'Rob-42' })
  })

  it('a user that already exists on CometChat gets a token from Create Auth Token; a refused token is replaced, no second user', async () => {
    cc.users.set('rob-42', { uid: 'rob-42', name: 'made by hand' })
    const first = await issue('Rob-42')
    expect(first.status).toBe(200)
    expect(cc.calls.map((c) => c.path)).toEqual(['/v3/users', '/v3/users/rob-42/auth_tokens'])
    const renewed = await issue('Rob-42', { rejected_token: first.body.token })
    expect(renewed.body.token).not.toBe(first.body.token)
    expect(cc.calls.map((c) => c.path).slice(2)).toEqual(['/v3/users/rob-42/auth_tokens'])
    // A stale report (the old token again) changes nothing.
    const stale = await issue('Rob-42', { rejected_token: first.body.token })
    expect(stale.body.token).toBe(renewed.body.token)
    expect(cc.calls).toHaveLength(3)
  })

  it('dry run: the Create User request that would be sent, without the key, and no call', async () => {
    const res = await request(t.app)
      .post('/api/v1/integrations/chat/dry-run')
      .set(auth)
      .send({ external_id: 'Rob-42' })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toMatchObject({
      payload: { uid: 'rob-42', name: 'Rob Roy', withAuthToken: true },
      token: null,
      signed: null,
    })
    expect(JSON.stringify(res.body)).not.toContain(REST_KEY)
    expect(cc.calls).toHaveLength(0)
  })

  it('the connection sheet says where the REST API key comes from, never its value', async () => {
    const res = await request(t.app).get('/api/v1/integrations/chat/connection').set(auth)
    expect(res.status).toBe(200)
    expect(JSON.stringify(res.body)).toMatch(/"into":"secrets.rest_api_key","set":true/)
    expect(JSON.stringify(res.body)).not.toContain(REST_KEY)
  })

  it('inspect names the member of a stored token; a deleted account forgets it', async () => {
    const first = await issue('Rob-42')
    const seen = await request(t.app)
      .post('/api/v1/integrations/chat/inspect')
      .set(auth)
      .send({ token: first.body.token })
    expect(seen.body.payload).toMatchObject({ uid: 'rob-42', external_id: 'Rob-42' })
    await request(t.app).delete('/api/v1/users/Rob-42').set(auth).expect(204)
    const gone = await request(t.app)
      .post('/api/v1/integrations/chat/inspect')
      .set(auth)
      .send({ token: first.body.token })
    expect(gone.status).toBe(400)
    expect(gone.body.error).toBe('token_invalid')
  })

  it('a uid CometChat would refuse is 422 account_incomplete, and nothing is called; a bad key is 502 and leaks nothing', async () => {
    await t.services.accounts.put('rob@example', { username: 'rob2' })
    const bad = await issue('rob@example')
    expect(bad.status).toBe(422)
    expect(bad.body.error).toBe('account_incomplete')
    expect(cc.calls).toHaveLength(0)
    await t.services.integrations.put('chat', integration(cc.url, 'wrong-rest-api-key-000000'))
    const refused = await issue('Rob-42')
    expect(refused.status).toBe(502)
    expect(refused.body.error).toBe('platform_unavailable')
    const account = await t.services.accounts.get('Rob-42')
    expect(await t.services.store.kvGet('tokens:cometchat:chat', account.id)).toBeNull()
    expect(`${JSON.stringify(refused.body)}${t.logText()}`).not.toContain('wrong-rest-api-key')
  })
})

describe('cometchat across instances', () => {
  let c: Cluster
  let api: CometChatServer
  afterAll(async () => {
    await c?.stop()
    await api?.close()
    await dropFreshSchemas()
  })

  it(
    "a member's first token asked of two instances at once: one Create User call, the same token from both",
    async () => {
      api = await startCometChatServer(REST_KEY)
      c = await startCluster()
      expect((await c.admin(0, 'PUT', '/users/77', { username: 'ana' })).status).toBe(201)
      expect((await c.admin(1, 'PUT', '/integrations/chat', integration(api.url))).status).toBe(201)
      const release = api.hold() // a slow API: the two requests overlap for certain
      const a = c.admin(0, 'POST', '/integrations/chat/tokens', { external_id: '77' })
      const b = c.admin(1, 'POST', '/integrations/chat/tokens', { external_id: '77' })
      await api.waitForCalls(1)
      // The other instance either waits on the claim (logs it) or, without the claim, calls too.
      const waiting = () =>
        c.instances.some((s) => s.logs().includes('another instance is creating this member'))
      let raced = false
      await Promise.race([
        api.waitForCalls(2),
        (async () => {
          while (!raced && !waiting()) await new Promise((r) => setTimeout(r, 50))
        })(),
      ])
      raced = true
      release()
      const [ra, rb] = await Promise.all([a, b])
      expect(ra.status, JSON.stringify(ra.body)).toBe(200)
      expect(rb.status, JSON.stringify(rb.body)).toBe(200)
      expect(rb.body.token).toBe(ra.body.token)
      expect(api.calls.filter((x) => x.path === '/v3/users')).toHaveLength(1)
      expect(api.users.size).toBe(1)
    },
    PROCESS_TEST_TIMEOUT,
  )
})
