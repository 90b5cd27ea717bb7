/**
 * The oidc-provider adapter over a real SQLite store: first driven call by call the way
 * oidc-provider drives an adapter, then under a real `Provider` (models saved and found through
 * it, and one authorization request over HTTP storing its Interaction).
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Provider, { type AdapterFactory, type AdapterPayload } from 'oidc-provider'
import request from 'supertest'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOidcAdapter, oidcNamespace, oidcRecordKey } from '../../src/oidc/adapter.ts'
import type { Store } from '../../src/store/ports.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-oidc-adapter-'))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const T0 = Date.UTC(2030, 0, 1)
const epoch = (ms = Date.now()) => Math.floor(ms / 1000)

let store: Store
beforeEach(() => {
  store = createSqliteStore(path.join(dir, `a${n++}.sqlite`))
})
afterEach(async () => {
  vi.useRealTimers()
  await store.close()
})

describe('adapter, driven as oidc-provider drives it', () => {
  let factory: AdapterFactory
  beforeEach(() => {
    factory = createOidcAdapter(store)
    vi.useFakeTimers({ toFake: ['Date'], now: T0 })
  })
  const advance = (seconds: number) => vi.setSystemTime(Date.now() + seconds * 1000)

  it('is a factory oidc-provider calls (not a class it would `new`)', () => {
    expect(typeof factory).toBe('function')
    expect((factory as unknown as { prototype?: unknown }).prototype).toBeUndefined()
    // oidc-provider refuses async functions as factories.
    expect(factory.constructor.name).toBe('Function')
  })

  it('upserts with expiresIn (seconds) into oidc:<Model>; find returns the payload until it expires', async () => {
    const at = factory('AccessToken')
    const payload: AdapterPayload = {
      jti: 'at-1',
      kind: 'AccessToken',
      accountId: 'acc',
      grantId: 'g1',
      exp: epoch() + 60,
      iat: epoch(),
      scope: 'openid',
      extra: { nested: ['Zoë'] },
    }
    await at.upsert('at-1', payload, 60)
    expect(await at.find('at-1')).toEqual(payload)
    // Stored under the SHA-256 of the token, without the token (its jti): secrets at rest.
    const { jti: _jti, ...stored } = payload
    expect(await store.kvGet(oidcNamespace('AccessToken'), 'at-1')).toBeNull()
    expect(
      await store.kvGet(oidcNamespace('AccessToken'), oidcRecordKey('AccessToken', 'at-1')),
    ).toEqual({
      value: stored,
      expiresAt: T0 + 60_000,
    })
    expect(oidcRecordKey('AccessToken', 'at-1')).toBe(
      `sha256:${createHash('sha256').update('at-1').digest('base64url')}`,
    )
    expect(await factory('RefreshToken').find('at-1')).toBeUndefined()
    advance(59)
    expect(await at.find('at-1')).toEqual(payload)
    advance(1)
    expect(await at.find('at-1')).toBeUndefined()
    expect(await at.find('never-stored')).toBeUndefined()
  })

  it('finds, consumes and destroys a token record written under its plain id (before ids were hashed)', async () => {
    const rt = factory('RefreshToken')
    const legacy = { jti: 'rt-old', kind: 'RefreshToken', grantId: 'g0' }
    await store.kvSet(oidcNamespace('RefreshToken'), 'rt-old', legacy, { ttlMs: 60_000 })
    expect(await rt.find('rt-old')).toEqual(legacy)
    await rt.consume('rt-old')
    expect(await rt.find('rt-old')).toEqual({ ...legacy, consumed: epoch() })
    await expect(rt.consume('rt-old')).rejects.toMatchObject({ error: 'invalid_grant' })
    await rt.destroy('rt-old')
    expect(await rt.find('rt-old')).toBeUndefined()
    expect(await store.kvGet(oidcNamespace('RefreshToken'), 'rt-old')).toBeNull()
  })

  it('keeps records clockTolerance seconds past expiresIn when asked', async () => {
    const at = createOidcAdapter(store, { clockTolerance: 5 })('AccessToken')
    await at.upsert('t', { jti: 't' }, 10)
    advance(14)
    expect(await at.find('t')).toBeDefined()
    advance(1)
    expect(await at.find('t')).toBeUndefined()
    expect(() => createOidcAdapter(store, { clockTolerance: -1 })).toThrow(TypeError)
  })

  it('without expiresIn a record does not expire; an upsert replaces the record and its lifetime', async () => {
    const grant = factory('Grant')
    await grant.upsert('g', { jti: 'g', kind: 'Grant', accountId: 'a' })
    advance(10 * 365 * 86_400)
    expect(await grant.find('g')).toMatchObject({ accountId: 'a' })
    await grant.upsert('g', { jti: 'g', kind: 'Grant', accountId: 'b' }, 30)
    advance(30)
    expect(await grant.find('g')).toBeUndefined()
  })

  it('findByUid finds a Session by its uid, in the Session model only', async () => {
    const sessions = factory('Session')
    const payload = {
      jti: 'sess-1',
      kind: 'Session',
      uid: 'uid-1',
      accountId: 'acc',
      loginTs: epoch(),
      exp: epoch() + 3600,
    }
    await sessions.upsert('sess-1', payload, 3600)
    expect(await sessions.findByUid('uid-1')).toEqual(payload)
    expect(await factory('Interaction').findByUid('uid-1')).toBeUndefined()
    expect(await sessions.findByUid('uid-2')).toBeUndefined()
    // A rotated session id (same uid) is found under its new id once the old one is destroyed.
    await sessions.upsert('sess-2', { ...payload, jti: 'sess-2' }, 3600)
    await sessions.destroy('sess-1')
    expect(await sessions.findByUid('uid-1')).toMatchObject({ jti: 'sess-2' })
    advance(3600)
    expect(await sessions.findByUid('uid-1')).toBeUndefined()
  })

  it('findByUserCode finds a DeviceCode by its user code', async () => {
    const codes = factory('DeviceCode')
    await codes.upsert(
      'dc-1',
      { jti: 'dc-1', kind: 'DeviceCode', userCode: 'WDJB-MJHT', grantId: 'g' },
      600,
    )
    expect(await codes.findByUserCode('WDJB-MJHT')).toMatchObject({ jti: 'dc-1' })
    expect(await codes.findByUserCode('XXXX-XXXX')).toBeUndefined()
  })

  it('consume marks the record consumed (epoch seconds) and find shows it; lifetime unchanged', async () => {
    const codes = factory('AuthorizationCode')
    await codes.upsert('code-1', { jti: 'code-1', kind: 'AuthorizationCode', grantId: 'g' }, 60)
    advance(3)
    await codes.consume('code-1')
    expect(await codes.find('code-1')).toEqual({
      jti: 'code-1',
      kind: 'AuthorizationCode',
      grantId: 'g',
      consumed: epoch(),
    })
    expect(
      (await store.kvGet(
        oidcNamespace('AuthorizationCode'),
        oidcRecordKey('AuthorizationCode', 'code-1'),
      ))!.expiresAt,
    ).toBe(T0 + 60_000)
    await codes.consume('absent') // no record: nothing to do, nothing created
    expect(await codes.find('absent')).toBeUndefined()
  })

  it('revokeByGrantId removes every record of the grant in that model, and nothing else', async () => {
    const at = factory('AccessToken')
    const rt = factory('RefreshToken')
    for (const id of ['a1', 'a2', 'a3']) await at.upsert(id, { jti: id, grantId: 'g1' }, 3600)
    await at.upsert('a4', { jti: 'a4', grantId: 'g2' }, 3600)
    await rt.upsert('r1', { jti: 'r1', grantId: 'g1' }, 3600)
    await at.revokeByGrantId('g1')
    for (const id of ['a1', 'a2', 'a3']) expect(await at.find(id)).toBeUndefined()
    expect(await at.find('a4')).toBeDefined()
    expect(await rt.find('r1')).toBeDefined() // oidc-provider calls revokeByGrantId on each model
    await rt.revokeByGrantId('g1')
    expect(await rt.find('r1')).toBeUndefined()
  })

  it('destroy removes the record and its lookups', async () => {
    const sessions = factory('Session')
    await sessions.upsert('s', { jti: 's', uid: 'u' }, 60)
    await sessions.destroy('s')
    expect(await sessions.find('s')).toBeUndefined()
    expect(await sessions.findByUid('u')).toBeUndefined()
    await sessions.destroy('s') // twice is fine
  })

  it('Client: find asks the registry hook; writes throw and store nothing', async () => {
    const asked: string[] = []
    const clients = createOidcAdapter(store, {
      findClient: async (id) => {
        asked.push(id)
        return id === 'rp'
          ? { client_id: 'rp', redirect_uris: ['https://rp.example.test/cb'] }
          : undefined
      },
    })('Client')
    expect(await clients.find('rp')).toEqual({
      client_id: 'rp',
      redirect_uris: ['https://rp.example.test/cb'],
    })
    expect(await clients.find('other')).toBeUndefined()
    expect(asked).toEqual(['rp', 'other'])
    await expect(clients.upsert('rp', { client_id: 'rp' })).rejects.toThrow(/integrations registry/)
    await expect(clients.destroy('rp')).rejects.toThrow(/cannot delete OIDC client "rp"/)
    expect(await store.kvGet(oidcNamespace('Client'), 'rp')).toBeNull()
    expect(await createOidcAdapter(store)('Client').find('rp')).toBeUndefined()
  })
})

describe('adapter under a real oidc-provider', () => {
  const ISSUER = 'http://localhost:3000'
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test', alg: 'RS256', use: 'sig' }

  // The typings give Interaction and Session no public constructor; oidc-provider itself builds them so.
  type InteractionModel = InstanceType<Provider['Interaction']>
  type SessionModel = InstanceType<Provider['Session']>
  const newInteraction = (
    provider: Provider,
    jti: string,
    payload: Record<string, unknown>,
  ): InteractionModel =>
    new (
      provider.Interaction as unknown as new (
        jti: string,
        payload: Record<string, unknown>,
      ) => InteractionModel
    )(jti, payload)
  const newSession = (provider: Provider, payload: Record<string, unknown>): SessionModel =>
    new (provider.Session as unknown as new (payload: Record<string, unknown>) => SessionModel)(
      payload,
    )

  function makeProvider(): Provider {
    return new Provider(ISSUER, {
      adapter: createOidcAdapter(store, {
        findClient: async (id) =>
          id === 'registry-rp'
            ? {
                client_id: 'registry-rp',
                client_secret: 'registry-secret-0123456789abcdef',
                redirect_uris: ['https://registry.example.test/cb'],
              }
            : undefined,
      }),
      clients: [
        {
          client_id: 'static-rp',
          client_secret: 'static-secret-0123456789abcdef',
          redirect_uris: ['https://rp.example.test/cb'],
        },
      ],
      jwks: { keys: [jwk] },
      cookies: { keys: ['test-cookie-key-0123456789'] },
      features: { devInteractions: { enabled: false } },
      ttl: {
        AccessToken: 600,
        Grant: 86_400,
        Interaction: 600,
        RefreshToken: 86_400,
        Session: 86_400,
      },
    })
  }

  it('saves and finds an Interaction and a Session through the store', async () => {
    const provider = makeProvider()
    const interaction = newInteraction(provider, 'int-1', {
      params: { client_id: 'static-rp', scope: 'openid' },
      prompt: { name: 'login', reasons: ['no_session'], details: {} },
      returnTo: `${ISSUER}/auth/int-1`,
    })
    await interaction.save(60)
    const stored = await store.kvGet(oidcNamespace('Interaction'), 'int-1')
    expect(stored!.value).toMatchObject({
      kind: 'Interaction',
      jti: 'int-1',
      returnTo: `${ISSUER}/auth/int-1`,
    })
    expect(await provider.Interaction.find('int-1')).toMatchObject({
      uid: 'int-1',
      params: { client_id: 'static-rp' },
    })

    const session = newSession(provider, { accountId: 'acc-1', loginTs: epoch() })
    await session.save(3600)
    expect((await provider.Session.find(session.jti))!.accountId).toBe('acc-1')
    expect((await provider.Session.findByUid(session.uid))!.jti).toBe(session.jti)
    await session.destroy()
    expect(await provider.Session.findByUid(session.uid)).toBeUndefined()
  })

  it('an expired Interaction is gone for the provider', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T0 })
    const provider = makeProvider()
    await newInteraction(provider, 'short', {
      params: {},
      prompt: { name: 'login', reasons: [], details: {} },
      returnTo: ISSUER,
    }).save(5)
    expect(await provider.Interaction.find('short')).toBeDefined()
    vi.setSystemTime(T0 + 5000)
    expect(await provider.Interaction.find('short')).toBeUndefined()
  })

  it("issues tokens under a grant, consumes a refresh token, and revokes the grant's tokens", async () => {
    const provider = makeProvider()
    const client = (await provider.Client.find('static-rp'))!
    const grant = new provider.Grant({ accountId: 'acc-1', clientId: 'static-rp' })
    grant.addOIDCScope('openid')
    const grantId = await grant.save()
    expect((await provider.Grant.find(grantId))!.accountId).toBe('acc-1')

    const accessTokens = await Promise.all(
      [1, 2].map(() =>
        new provider.AccessToken({
          accountId: 'acc-1',
          client,
          grantId,
          scope: 'openid',
          gty: 'authorization_code',
        }).save(),
      ),
    )
    const refresh = await new provider.RefreshToken({
      accountId: 'acc-1',
      client,
      grantId,
      scope: 'openid',
      gty: 'authorization_code',
    }).save()
    for (const value of accessTokens)
      expect(await provider.AccessToken.find(value)).toMatchObject({ accountId: 'acc-1', grantId })

    const rt = (await provider.RefreshToken.find(refresh))!
    expect(rt.consumed).toBeUndefined()
    await rt.consume()
    expect((await provider.RefreshToken.find(refresh))!.consumed).toEqual(expect.any(Number))

    await provider.AccessToken.revokeByGrantId(grantId)
    for (const value of accessTokens) expect(await provider.AccessToken.find(value)).toBeUndefined()
    expect(await provider.RefreshToken.find(refresh)).toBeDefined()
    await provider.RefreshToken.revokeByGrantId(grantId)
    expect(await provider.RefreshToken.find(refresh)).toBeUndefined()
  })

  it('serves clients from the registry hook, static clients from config', async () => {
    const provider = makeProvider()
    expect(await provider.Client.find('registry-rp')).toMatchObject({
      clientId: 'registry-rp',
      redirectUris: ['https://registry.example.test/cb'],
    })
    expect(await provider.Client.find('static-rp')).toMatchObject({ clientId: 'static-rp' })
    expect(await provider.Client.find('nobody')).toBeUndefined()
  })

  it('an authorization request over HTTP stores its Interaction, which the provider then finds', async () => {
    const provider = makeProvider()
    const verifier = randomBytes(32).toString('base64url')
    const res = await request(provider.callback())
      .get('/auth')
      .query({
        client_id: 'registry-rp',
        response_type: 'code',
        scope: 'openid',
        redirect_uri: 'https://registry.example.test/cb',
        state: 'st',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      })
    expect(res.status).toBe(303)
    const uid = /\/interaction\/([\w-]+)$/.exec(res.headers.location ?? '')?.[1]
    expect(uid, res.headers.location).toBeDefined()
    const stored = await store.kvGet(oidcNamespace('Interaction'), uid!)
    expect(stored!.value).toMatchObject({
      kind: 'Interaction',
      params: { client_id: 'registry-rp', state: 'st' },
    })
    expect(stored!.expiresAt).toBeGreaterThan(Date.now())
    expect(await provider.Interaction.find(uid!)).toMatchObject({ uid, prompt: { name: 'login' } })
  })
})
