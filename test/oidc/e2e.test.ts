/**
 * The OIDC door end to end, with openid-client 6 as the relying party and a scripted browser
 * as the member, against the real app on a real port.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import * as client from 'openid-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSessionManager } from '../../src/login/session.ts'
import {
  Browser,
  callbackParams,
  createAccount,
  isConsentPage,
  isLoginPage,
  parseForms,
  PASSWORD,
  registerClient,
  startOidcServer,
  type ClientSpec,
  type OidcServer,
  type Page,
} from '../helpers/oidc.ts'

const RP_CB = 'https://rp.example/cb'
const RP_BYE = 'https://rp.example/bye'
const NICKNAMES = {
  'names.nicknames.0': 'profile.nicknames.0',
  'names.nicknames.1': 'profile.nicknames.1',
}

let s: OidcServer
/** Secrets, tokens and cookie values handed out during a test: none may reach the log. */
let handedOut: string[]
beforeEach(async () => {
  handedOut = [PASSWORD]
  s = await startOidcServer()
  await createAccount(s, '42', {
    username: 'rob',
    nickname: 'Rob',
    given_name: 'Robert',
    family_name: 'Smith',
    email_verified: true,
    profile: { nicknames: ['Rob', 'Robbie'] },
  })
})
afterEach(async () => {
  const log = s.t.logText()
  for (const value of handedOut) expect(log, 'a secret value reached the log').not.toContain(value)
  await s.close()
})

/** A relying party: an `oidc` integration plus openid-client's configuration for it. */
async function rp(
  id: string,
  spec: ClientSpec = {},
  metadata: Partial<client.ClientMetadata> = {},
) {
  const { clientSecret } = await registerClient(s, id, {
    redirect_uris: [RP_CB],
    post_logout_redirect_uris: [RP_BYE],
    ...spec,
  })
  const auth = spec.public ? client.None() : client.ClientSecretBasic(clientSecret)
  if (clientSecret) handedOut.push(clientSecret)
  const config = await client.discovery(
    new URL(s.issuer),
    id,
    { ...(clientSecret ? { client_secret: clientSecret } : {}), ...metadata },
    auth,
    { execute: [client.allowInsecureRequests] },
  )
  return { id, config, clientSecret, redirectUri: spec.redirect_uris?.[0] ?? RP_CB }
}
type Rp = Awaited<ReturnType<typeof rp>>

/** Starts an authorization request as the RP would (PKCE S256, state, nonce) and lets the browser go. */
async function authorize(b: Browser, r: Rp, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(r.config, {
    redirect_uri: r.redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  })
  return {
    page: await b.go(url),
    checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
  }
}

/** The whole sign-in: authorize, the password form when asked, Allow when asked, then the code exchange. */
async function signIn(
  b: Browser,
  r: Rp,
  opts: { expectLogin?: boolean; expectConsent?: boolean; params?: Record<string, string> } = {},
) {
  const auth = await authorize(b, r, opts.params)
  const { checks } = auth
  let { page } = auth
  if (opts.expectLogin !== undefined)
    expect(isLoginPage(page), 'sign-in form shown').toBe(opts.expectLogin)
  if (isLoginPage(page)) page = await b.login(page, 'rob', PASSWORD)
  if (opts.expectConsent !== undefined)
    expect(isConsentPage(page), 'consent shown').toBe(opts.expectConsent)
  if (isConsentPage(page)) page = await b.consent(page, 'allow')
  expect(
    page.left?.href.startsWith(r.redirectUri),
    `redirected to ${r.redirectUri}: ${page.url} ${page.status}`,
  ).toBe(true)
  const tokens = await client.authorizationCodeGrant(r.config, page.left!, checks)
  for (const v of [
    page.left!.searchParams.get('code'),
    tokens.access_token,
    tokens.refresh_token,
    tokens.id_token,
    b.cookie('sso_bridge'),
    b.cookie('_session'),
  ])
    if (v) handedOut.push(v)
  return { tokens, claims: tokens.claims()! }
}

const me = (accessToken: string) =>
  fetch(`${s.url}/me`, { headers: { Authorization: `Bearer ${accessToken}` } })

async function verifyIdToken(idToken: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL(`${s.issuer}/jwks`))
  return jwtVerify(idToken, jwks, { issuer: s.issuer, audience })
}

describe('OIDC door with openid-client', () => {
  it('discovery names our endpoints, methods and algorithms', async () => {
    const { config } = await rp('rp')
    const m = config.serverMetadata()
    expect(m).toMatchObject({
      issuer: s.issuer,
      userinfo_endpoint: `${s.issuer}/me`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      subject_types_supported: expect.arrayContaining(['public', 'pairwise']),
      id_token_signing_alg_values_supported: expect.arrayContaining(['RS256', 'ES256']),
    })
    expect(new Set(m.token_endpoint_auth_methods_supported)).toEqual(
      new Set(['client_secret_basic', 'client_secret_post', 'none']),
    )
    for (const key of [
      'introspection_endpoint',
      'revocation_endpoint',
      'end_session_endpoint',
      'jwks_uri',
      'token_endpoint',
    ] as const)
      expect(m[key]).toMatch(new RegExp(`^${s.issuer}/`))
  })

  it('authorization code + PKCE: an RS256 ID token and user-info shaped by the mapping, nested output included', async () => {
    const r = await rp('rp', { mapping: NICKNAMES })
    const b = new Browser(s.issuer)
    const { tokens, claims } = await signIn(b, r, { expectLogin: true, expectConsent: true })
    expect(tokens.token_type.toLowerCase()).toBe('bearer')
    expect(tokens.refresh_token).toEqual(expect.any(String))
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256')
    const { payload } = await verifyIdToken(tokens.id_token!, 'rp')
    expect(payload).toMatchObject({
      sub: '42',
      preferred_username: 'rob',
      name: 'Robert Smith',
      email_verified: true,
      names: { nicknames: ['Rob', 'Robbie'] },
    })
    expect(claims.sub).toBe('42')
    const info = await client.fetchUserInfo(r.config, tokens.access_token, claims.sub)
    expect(info).toMatchObject({
      sub: '42',
      preferred_username: 'rob',
      nickname: 'Rob',
      email: 'user42@example.test',
      names: { nicknames: ['Rob', 'Robbie'] },
    })
    // The user-info document is the integration's preview document (all scopes were granted).
    const preview = await s.admin('POST', '/integrations/rp/preview', { external_id: '42' })
    expect(info).toEqual(preview.body.document)
  })

  it('a public client: PKCE and no secret', async () => {
    const r = await rp('spa', {
      public: true,
      first_party: true,
      redirect_uris: ['https://spa.example/cb'],
    })
    const { tokens, claims } = await signIn(new Browser(s.issuer), r, {
      expectLogin: true,
      expectConsent: false,
    })
    expect(claims.sub).toBe('42')
    expect((await client.fetchUserInfo(r.config, tokens.access_token, '42')).sub).toBe('42')
  })

  it('refresh tokens rotate: the new pair works, the old refresh token is refused', async () => {
    const r = await rp('rp')
    const { tokens } = await signIn(new Browser(s.issuer), r)
    const refreshed = await client.refreshTokenGrant(r.config, tokens.refresh_token!)
    expect(refreshed.refresh_token).toEqual(expect.any(String))
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    expect(refreshed.access_token).not.toBe(tokens.access_token)
    expect((await me(refreshed.access_token)).status).toBe(200)
    expect(refreshed.claims()?.sub).toBe('42')
    await expect(client.refreshTokenGrant(r.config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
    // Replaying a rotated refresh token is taken as theft: the whole grant goes.
    await expect(
      client.refreshTokenGrant(r.config, refreshed.refresh_token!),
    ).rejects.toMatchObject({ error: 'invalid_grant' })
    expect((await me(refreshed.access_token)).status).toBe(401)
  })

  it('introspection, then revocation: /me says invalid_token', async () => {
    const r = await rp('rp')
    const { tokens } = await signIn(new Browser(s.issuer), r)
    expect(await client.tokenIntrospection(r.config, tokens.access_token)).toMatchObject({
      active: true,
      client_id: 'rp',
      sub: '42',
      token_type: 'Bearer',
      scope: 'openid profile email',
    })
    expect(await client.tokenIntrospection(r.config, tokens.refresh_token!)).toMatchObject({
      active: true,
      client_id: 'rp',
      sub: '42',
    })
    expect((await me(tokens.access_token)).status).toBe(200)
    await client.tokenRevocation(r.config, tokens.access_token)
    const res = await me(tokens.access_token)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: 'invalid_token' })
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
    expect(await client.tokenIntrospection(r.config, tokens.access_token)).toEqual({
      active: false,
    })
    // Another client cannot introspect this client's tokens.
    const other = await rp('other')
    expect(await client.tokenIntrospection(other.config, tokens.refresh_token!)).toEqual({
      active: false,
    })
  })

  it('RP-initiated logout: confirmation page, then the bridge session is gone and /auth asks to sign in again', async () => {
    const r = await rp('rp')
    const b = new Browser(s.issuer)
    const { tokens } = await signIn(b, r, { expectLogin: true })
    const bridge = b.cookie('sso_bridge')!
    const sessions = createSessionManager({ kv: s.t.services.store, ttlMs: 60_000 })
    expect(await sessions.get(bridge)).not.toBeNull()

    const url = client.buildEndSessionUrl(r.config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: RP_BYE,
      state: 'bye-state',
    })
    const confirm = await b.go(url)
    expect(confirm.status).toBe(200)
    expect(confirm.html).toContain('Do you want to sign out')
    expect(parseForms(confirm.html).some((f) => f.id === 'op.logoutForm')).toBe(true)
    expect(confirm.headers.get('cache-control')).toMatch(/no-store/)
    // Nothing ends before the member confirms.
    expect(await sessions.get(bridge)).not.toBeNull()

    const done = await b.confirmLogout(confirm)
    expect(done.left?.origin + done.left!.pathname).toBe(RP_BYE)
    expect(done.left!.searchParams.get('state')).toBe('bye-state')
    expect(b.cookie('sso_bridge')).toBeUndefined()
    expect(await sessions.get(bridge)).toBeNull()
    expect((await me(tokens.access_token)).status).toBe(401)

    const again = await authorize(b, r)
    expect(isLoginPage(again.page)).toBe(true)
    // The old cookie, replayed, does not bring the session back either.
    b.setCookie('sso_bridge', bridge)
    expect(isLoginPage((await authorize(b, r)).page)).toBe(true)
  })

  it('logout without post_logout_redirect_uri ends on our "signed out" page', async () => {
    const r = await rp('rp')
    const b = new Browser(s.issuer)
    await signIn(b, r)
    const done = await b.confirmLogout(
      await b.go(client.buildEndSessionUrl(r.config, { client_id: 'rp' })),
    )
    expect(done.left).toBeUndefined()
    expect(done.status).toBe(200)
    expect(done.html).toContain('You are signed out')
    expect(b.cookie('sso_bridge')).toBeUndefined()
  })

  it('"Stay signed in" on the logout page keeps the bridge session', async () => {
    const r = await rp('rp', { first_party: true })
    const b = new Browser(s.issuer)
    await signIn(b, r)
    const confirm = await b.go(
      client.buildEndSessionUrl(r.config, { post_logout_redirect_uri: RP_BYE }),
    )
    const done = await b.submit(confirm, {}, (f) => f.id === 'op.logoutForm')
    expect(done.left?.href.startsWith(RP_BYE)).toBe(true)
    expect(b.cookie('sso_bridge')).toBeDefined()
    const again = await authorize(b, r)
    expect(isLoginPage(again.page)).toBe(false)
    expect(callbackParams(again.page).get('code')).toEqual(expect.any(String))
  })

  it('a first-party client skips consent', async () => {
    const r = await rp('fp', { first_party: true })
    const b = new Browser(s.issuer)
    const { page } = await authorize(b, r)
    const after = await b.login(page, 'rob', PASSWORD)
    expect(isConsentPage(after)).toBe(false)
    expect(callbackParams(after).get('code')).toEqual(expect.any(String))
  })

  it('a non-first-party client asks for consent; Deny returns access_denied', async () => {
    const r = await rp('rp')
    const b = new Browser(s.issuer)
    const { page, checks } = await authorize(b, r)
    const consent = await b.login(page, 'rob', PASSWORD)
    expect(isConsentPage(consent)).toBe(true)
    expect(consent.html).toContain('would like to know who you are as rob')
    expect(consent.headers.get('cache-control')).toBe('no-store')
    const denied = await b.consent(consent, 'deny')
    const q = callbackParams(denied)
    expect(q.get('error')).toBe('access_denied')
    expect(q.get('state')).toBe(checks.expectedState)
    expect(q.get('code')).toBeNull()
    await expect(
      client.authorizationCodeGrant(r.config, denied.left!, checks),
    ).rejects.toMatchObject({ error: 'access_denied' })
    // Consent once given is remembered for that client.
    const allowed = await b.consent(await b.go((await authorize(b, r)).page.url), 'allow')
    expect(callbackParams(allowed).get('code')).toEqual(expect.any(String))
    const third = await authorize(b, r)
    expect(isConsentPage(third.page)).toBe(false)
    expect(callbackParams(third.page).get('code')).toEqual(expect.any(String))
  })

  it('ES256 ID tokens when the integration asks for them', async () => {
    const r = await rp(
      'es',
      { id_token_signing_alg: 'ES256', first_party: true },
      { id_token_signed_response_alg: 'ES256' },
    )
    const { tokens, claims } = await signIn(new Browser(s.issuer), r)
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256')
    const { payload, protectedHeader } = await verifyIdToken(tokens.id_token!, 'es')
    expect(protectedHeader.alg).toBe('ES256')
    expect(payload.sub).toBe('42')
    expect(claims.sub).toBe('42')
  })

  it('pairwise sub: differs between clients on different hosts, never the external_id, and equals what /me returns', async () => {
    const a = await rp('pa', {
      subject_type: 'pairwise',
      first_party: true,
      redirect_uris: ['https://a.example/cb'],
    })
    const c = await rp('pb', {
      subject_type: 'pairwise',
      first_party: true,
      redirect_uris: ['https://b.example/cb'],
    })
    const b = new Browser(s.issuer)
    const one = await signIn(b, a)
    const two = await signIn(b, c, { expectLogin: false })
    expect(one.claims.sub).not.toBe('42')
    expect(two.claims.sub).not.toBe('42')
    expect(one.claims.sub).not.toBe(two.claims.sub)
    expect(
      (await client.fetchUserInfo(a.config, one.tokens.access_token, one.claims.sub)).sub,
    ).toBe(one.claims.sub)
    expect(
      (await client.fetchUserInfo(c.config, two.tokens.access_token, two.claims.sub)).sub,
    ).toBe(two.claims.sub)
    expect(await client.tokenIntrospection(a.config, one.tokens.access_token)).toMatchObject({
      sub: one.claims.sub,
    })
    // Stable: the same client sees the same pseudonym next time.
    expect((await signIn(new Browser(s.issuer), a)).claims.sub).toBe(one.claims.sub)
  })

  it('the bridge session alone (a sign-in at another door) signs in without the form, unless the client asks for prompt=login', async () => {
    const r = await rp('rp', { first_party: true })
    const b = new Browser(s.issuer)
    const one = await signIn(b, r, { expectLogin: true, params: { max_age: '3600' } })
    // Forget oidc-provider's own session: only the bridge cookie is left, as after a SAML or ticket sign-in.
    b.deleteCookie('_session')
    b.deleteCookie('_session.sig')
    const two = await signIn(b, r, { expectLogin: false, params: { max_age: '3600' } })
    expect(two.claims.sub).toBe('42')
    expect(two.claims.auth_time).toBe(one.claims.auth_time)
    b.deleteCookie('_session')
    const forced = await authorize(b, r, { prompt: 'login' })
    expect(isLoginPage(forced.page)).toBe(true)
  })

  it("one session: a second client is not asked to sign in; a disabled account's session signs in nowhere", async () => {
    const first = await rp('rp', { mapping: NICKNAMES })
    const second = await rp('chat', {
      first_party: true,
      redirect_uris: ['https://chat.example/cb'],
    })
    const b = new Browser(s.issuer)
    // max_age makes auth_time part of the ID token: both clients see the same sign-in.
    const one = await signIn(b, first, {
      expectLogin: true,
      expectConsent: true,
      params: { max_age: '3600' },
    })
    const two = await signIn(b, second, {
      expectLogin: false,
      expectConsent: false,
      params: { max_age: '3600' },
    })
    expect(two.claims.sub).toBe('42')
    expect(one.claims.auth_time).toEqual(expect.any(Number))
    expect(two.claims.auth_time).toBe(one.claims.auth_time)

    await createAccount(s, '42', { username: 'rob', status: 'disabled' })
    for (const r of [first, second]) {
      const { page } = await authorize(b, r)
      expect(isLoginPage(page), `${r.id}: sign-in form, not a code`).toBe(true)
      const refused: Page = await b.login(page, 'rob', PASSWORD)
      expect(refused.status).toBe(401)
      expect(refused.html).toContain('This account is disabled.')
    }
    // Tokens already out stop working too.
    expect((await me(one.tokens.access_token)).status).toBe(401)
    await expect(
      client.refreshTokenGrant(first.config, one.tokens.refresh_token!),
    ).rejects.toMatchObject({ error: 'invalid_grant' })
  })
})
