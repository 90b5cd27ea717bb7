/**
 * Dead Simple Chat over a small local server that follows the documented Create User contract
 * (helpers/dsc-server.ts, the only stand-in): the first login creates the user, later logins
 * reuse the stored accessToken, a token the chat refused is replaced, a changed moderator flag
 * or username makes a new user, a failing API leaves nothing behind and leaks no key.
 */
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSessionManager } from '../../src/login/session.ts'
import { createTokenService, type TokenService } from '../../src/tokens/index.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { startDscServer, type DscServer } from './helpers/dsc-server.ts'
import { DSC_KEY, integrations, ROB } from './helpers/fixtures.ts'

let t: TestApp
let dsc: DscServer
let tokens: TokenService

beforeEach(async () => {
  t = makeTestApp()
  dsc = await startDscServer(DSC_KEY)
  tokens = createTokenService({
    accounts: t.services.accounts,
    integrations: t.services.integrations,
    kv: t.services.store,
    secrets: t.services.secrets,
  })
  await t.services.accounts.put('42', ROB)
  await t.services.accounts.put('43', { username: 'Ana', rank: 'regular' })
  await t.services.integrations.put('dsc', integrations.dsc(dsc.url))
})
afterEach(async () => {
  await dsc.close()
  await t.close()
})

describe('deadsimplechat', () => {
  it('first login creates the user, the second reuses the stored accessToken (one Create User call)', async () => {
    const first = await tokens.issue('dsc', '42')
    const second = await tokens.issue('dsc', '42')
    expect(second).toEqual(first)
    expect(dsc.calls).toHaveLength(1)
    // Stored with the account: namespace tokens:deadsimplechat:<integration>, key = account id, no expiry.
    const account = await t.services.accounts.get('42')
    const stored = await t.services.store.kvGet('tokens:deadsimplechat:dsc', account.id)
    // The accessToken is stored sealed (secrets at rest), bound to this integration and account.
    expect(stored).toMatchObject({
      value: {
        sealedToken: expect.stringMatching(/^sb1:[0-9a-f]{16}:/),
        userId: expect.stringMatching(/^[0-9a-f]{24}$/),
        external_id: '42',
      },
      expiresAt: null,
    })
    expect(stored!.value).not.toHaveProperty('accessToken')
    expect(
      t.services.secrets.open(
        stored!.value.sealedToken as string,
        `deadsimplechat:dsc:${account.id}`,
      ),
    ).toBe(first.token)
    // Another member gets their own user.
    const ana = await tokens.issue('dsc', '43')
    expect(ana.token).not.toBe(first.token)
    expect(dsc.calls.map((c) => c.body)).toEqual([
      { username: 'Rob', isModerator: true, externalUserId: '42' },
      { username: 'Ana', isModerator: false, externalUserId: '43' },
    ])
  })

  it('a token the chat rejected is replaced once; a stale report for a replaced token changes nothing', async () => {
    const first = await tokens.issue('dsc', '42')
    dsc.valid.delete(first.token) // the chat no longer accepts it
    const replaced = await tokens.issue('dsc', '42', { rejectedToken: first.token })
    expect(replaced.token).not.toBe(first.token)
    expect(dsc.valid.has(replaced.token)).toBe(true)
    expect(dsc.calls).toHaveLength(2)
    // The same stale report again (a second tab): the new token stands, no third user.
    expect((await tokens.issue('dsc', '42', { rejectedToken: first.token })).token).toBe(
      replaced.token,
    )
    expect((await tokens.issue('dsc', '42', { rejectedToken: 'some-other-token' })).token).toBe(
      replaced.token,
    )
    expect(dsc.calls).toHaveLength(2)
    // Over HTTP: rejected_token in the API body.
    const res = await request(t.app)
      .post('/api/v1/integrations/dsc/tokens')
      .set(auth)
      .send({ external_id: '42', rejected_token: replaced.token })
    expect(res.status).toBe(200)
    expect(res.body.token).not.toBe(replaced.token)
    expect(dsc.calls).toHaveLength(3)
  })

  it('deleting the account forgets its stored users and ends its bridge sessions; the same external_id later is a new user', async () => {
    const first = await tokens.issue('dsc', '42')
    await t.services.integrations.put('dsc2', integrations.dsc(dsc.url))
    await tokens.issue('dsc2', '42')
    const ana = await tokens.issue('dsc', '43')
    const rob = await t.services.accounts.get('42')
    const sessions = createSessionManager({ kv: t.services.store, ttlMs: 60_000 })
    const cookie = await sessions.create({ account_id: rob.id, auth_time: 1, amr: ['pwd'] })
    expect(await t.services.store.kvGet('tokens:deadsimplechat:dsc', rob.id)).not.toBeNull()

    await request(t.app).delete('/api/v1/users/42').set(auth).expect(204)
    expect(await t.services.store.kvGet('tokens:deadsimplechat:dsc', rob.id)).toBeNull()
    expect(await t.services.store.kvGet('tokens:deadsimplechat:dsc2', rob.id)).toBeNull()
    expect(await sessions.get(cookie)).toBeNull()
    // Another member's stored user stays.
    expect((await tokens.issue('dsc', '43')).token).toBe(ana.token)
    // A new account under the same external_id is a new member: a new Create User call.
    await t.services.accounts.put('42', ROB)
    const calls = dsc.calls.length
    expect((await tokens.issue('dsc', '42')).token).not.toBe(first.token)
    expect(dsc.calls).toHaveLength(calls + 1)
  })

  it('moderator rank sets isModerator; a demoted moderator gets a new, non-moderator user (no stale moderator token)', async () => {
    const mod = await tokens.issue('dsc', '42')
    expect(dsc.calls[0]!.body.isModerator).toBe(true)
    await t.services.accounts.put('42', { ...ROB, rank: 'regular' })
    const demoted = await tokens.issue('dsc', '42')
    expect(demoted.token).not.toBe(mod.token)
    expect(dsc.calls[1]!.body).toEqual({
      username: 'Rob',
      isModerator: false,
      externalUserId: '42',
    })
    for (const rank of ['manager', 'owner'] as const) {
      await t.services.accounts.put('42', { ...ROB, rank })
      await tokens.issue('dsc', '42')
      expect(dsc.calls.at(-1)!.body.isModerator, rank).toBe(true)
    }
  })

  it('room_id is sent as chatRoom (a moderator of this room only)', async () => {
    await t.services.integrations.put('dsc', {
      ...integrations.dsc(dsc.url),
      settings: { ...integrations.dsc(dsc.url).settings, room_id: 'CGOC0byXC' },
    })
    await tokens.issue('dsc', '42')
    expect(dsc.calls[0]!.body).toEqual({
      username: 'Rob',
      isModerator: true,
      externalUserId: '42',
      chatRoom: 'CGOC0byXC',
    })
  })

  it('concurrent first logins of one member make one Create User call', async () => {
    const all = await Promise.all(Array.from({ length: 5 }, () => tokens.issue('dsc', '42')))
    expect(new Set(all.map((o) => o.token)).size).toBe(1)
    expect(dsc.calls).toHaveLength(1)
  })

  it('no username: 422 naming the field and the integration, and no API call', async () => {
    await t.services.accounts.put('44', { email: 'x@example.com' })
    const res = await request(t.app)
      .post('/api/v1/integrations/dsc/tokens')
      .set(auth)
      .send({ external_id: '44' })
    expect(res.status).toBe(422)
    expect(res.body).toEqual({
      error: 'account_incomplete',
      message: expect.stringContaining('username'),
      details: { integration: 'dsc', field: 'username', reason: 'missing' },
    })
    expect(res.body.message).toContain('dsc')
    expect(dsc.calls).toHaveLength(0)
  })

  it('a failing or refusing API is a 502 platform_unavailable; nothing is stored; the private key appears nowhere', async () => {
    dsc.failNext(500)
    const failed = await request(t.app)
      .post('/api/v1/integrations/dsc/tokens')
      .set(auth)
      .send({ external_id: '42' })
    expect(failed.status).toBe(502)
    expect(failed.body).toEqual({
      error: 'platform_unavailable',
      message: "Dead Simple Chat's Create User API answered HTTP 500",
    })
    const account = await t.services.accounts.get('42')
    expect(await t.services.store.kvGet('tokens:deadsimplechat:dsc', account.id)).toBeNull()

    await t.services.integrations.put('dsc', {
      ...integrations.dsc(dsc.url),
      secrets: { private_key: 'wrong-private-key' },
    })
    const refused = await request(t.app)
      .post('/api/v1/integrations/dsc/tokens')
      .set(auth)
      .send({ external_id: '42' })
    expect(refused.body).toMatchObject({
      error: 'platform_unavailable',
      message: expect.stringContaining('401'),
    })

    await t.services.integrations.put('dsc', integrations.dsc('http://127.0.0.1:9'))
    const down = await request(t.app)
      .post('/api/v1/integrations/dsc/tokens')
      .set(auth)
      .send({ external_id: '42' })
    expect(down.body).toEqual({
      error: 'platform_unavailable',
      message: "Dead Simple Chat's Create User API could not be reached",
    })
    for (const text of [JSON.stringify([failed.body, refused.body, down.body]), t.logText()]) {
      expect(text).not.toContain(DSC_KEY)
      expect(text).not.toContain('wrong-private-key')
    }
  })

  it('inspect says which member a stored accessToken belongs to; anything else is token_invalid', async () => {
    const issued = await tokens.issue('dsc', '42')
    const res = await request(t.app)
      .post('/api/v1/integrations/dsc/inspect')
      .set(auth)
      .send({ token: issued.token })
    expect(res.body).toEqual({
      integration: 'dsc',
      type: 'deadsimplechat',
      payload: { userId: expect.any(String), external_id: '42', created_at: expect.any(String) },
      expires_at: null,
      expired: false,
    })
    const bad = await request(t.app)
      .post('/api/v1/integrations/dsc/inspect')
      .set(auth)
      .send({ token: `${issued.token}x` })
    expect(bad.status).toBe(400)
    expect(bad.body).toEqual({
      error: 'token_invalid',
      message: 'token is invalid for this integration',
    })
  })
})
