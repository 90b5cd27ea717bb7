/**
 * Bad input at the OIDC door, one test each: the protocol's error (or a clear page), a log
 * entry with a code, and no data changed. No secret, password, token, code or cookie value
 * ever reaches the log.
 */
import * as client from 'openid-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSessionManager, SESSION_NAMESPACE } from '../../src/login/session.ts'
import {
  Browser,
  callbackParams,
  createAccount,
  isLoginPage,
  parseForms,
  PASSWORD,
  registerClient,
  startOidcServer,
  type OidcServer,
  type Page,
} from '../helpers/oidc.ts'

const REDIRECT = 'https://rp.example/cb'

let s: OidcServer
/** Values that must never appear in the log. */
let secrets: string[]

async function start(opts: Parameters<typeof startOidcServer>[0] = {}) {
  s = await startOidcServer(opts)
  await createAccount(s, '42', { username: 'rob', nickname: 'Rob' })
  const rp = await registerClient(s, 'rp', { redirect_uris: [REDIRECT] })
  const pub = await registerClient(s, 'spa', {
    redirect_uris: ['https://spa.example/cb'],
    public: true,
    first_party: true,
  })
  secrets.push(PASSWORD, rp.clientSecret!)
  return { rp, pub }
}

beforeEach(() => {
  secrets = []
})
afterEach(async () => {
  if (!s) return
  const text = s.t.logText()
  // Every cookie value but the interaction cookies', which hold the interaction's uid: that is in
  // the page URL by design and useless without the cookies' signatures (which are checked).
  for (const b of browsers)
    for (const c of b.allCookies())
      if (!/^_interaction(_resume)?$/.test(c.name)) secrets.push(c.value)
  browsers.length = 0
  for (const secret of secrets.filter((v) => v.length >= 8))
    expect(text, 'a secret value reached the log').not.toContain(secret)
  await s.close()
})

const browsers: Browser[] = []
function browser(opts: { tlsProxy?: boolean } = {}): Browser {
  const b = new Browser(s.issuer, opts)
  browsers.push(b)
  return b
}

function authUrl(params: Record<string, string>): string {
  return `${s.issuer}/auth?${new URLSearchParams({ response_type: 'code', scope: 'openid', ...params })}`
}

/** Log entries carrying `code`. */
const logged = (code: string) => s.t.logs.filter((l) => l.code === code)

async function bridgeSessionOf(externalId: string) {
  const account = await s.t.services.accounts.get(externalId)
  return s.t.services.store.kvFindBy(SESSION_NAMESPACE, 'account', account.id)
}

/** Signs in through a confidential client and returns the code and its browser. */
async function codeFor(b: Browser, params: Record<string, string> = {}): Promise<URLSearchParams> {
  let page = await b.go(
    authUrl({ client_id: 'rp', redirect_uri: REDIRECT, state: 'st', ...params }),
  )
  if (isLoginPage(page)) page = await b.login(page, 'rob', PASSWORD)
  if (!page.left) page = await b.consent(page, 'allow')
  const q = callbackParams(page)
  secrets.push(q.get('code')!)
  return q
}

async function token(body: Record<string, string>, basic?: [string, string]) {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' }
  if (basic)
    headers.Authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`
  const res = await fetch(`${s.url}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(body),
  })
  const json = (await res.json()) as Record<string, string>
  for (const k of ['access_token', 'refresh_token', 'id_token']) if (json[k]) secrets.push(json[k]!)
  return { status: res.status, json, headers: res.headers }
}

const me = (accessToken: string) =>
  fetch(`${s.url}/me`, { headers: { Authorization: `Bearer ${accessToken}` } })

describe('OIDC door: bad input', () => {
  it('wrong redirect_uri: an error page, never a redirect to it; logged', async () => {
    await start()
    const b = browser()
    const page = await b.go(
      authUrl({ client_id: 'rp', redirect_uri: 'https://evil.example/cb', state: 'st' }),
    )
    expect(page.left).toBeUndefined()
    expect(page.visited.some((u) => u.includes('evil.example/cb') && !u.startsWith(s.issuer))).toBe(
      false,
    )
    expect(page.status).toBe(400)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(page.html).toContain('invalid_redirect_uri')
    expect(logged('ERR_OIDC_INVALID_REDIRECT_URI')).toHaveLength(1)
    // A redirect URI is matched exactly: a longer path or another query is as wrong.
    for (const uri of [`${REDIRECT}/x`, `${REDIRECT}?a=1`, REDIRECT.replace('https', 'http')]) {
      const p = await b.go(authUrl({ client_id: 'rp', redirect_uri: uri }))
      expect(p.left).toBeUndefined()
      expect(p.status).toBe(400)
    }
    expect(b.cookie('sso_bridge')).toBeUndefined()
  })

  it('unknown client: an error page; logged', async () => {
    await start()
    const page = await browser().go(authUrl({ client_id: 'nobody', redirect_uri: REDIRECT }))
    expect(page.left).toBeUndefined()
    expect(page.status).toBe(400)
    expect(page.html).toContain('invalid_client')
    expect(logged('ERR_OIDC_INVALID_CLIENT')).toHaveLength(1)
    // At the token endpoint too.
    const res = await token(
      { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT },
      ['nobody', 'x'.repeat(40)],
    )
    expect(res.status).toBe(401)
    expect(res.json.error).toBe('invalid_client')
  })

  it('a confidential client whose secret is an unset environment variable: invalid_client until it is set; logged why', async () => {
    await start()
    // Saved while the variable was set (a missing one is refused at save), then gone: a restart without it.
    s.t.env.SSO_BRIDGE_SECRET_ENVC = 'e'.repeat(40)
    secrets.push(s.t.env.SSO_BRIDGE_SECRET_ENVC)
    expect(
      (
        await s.admin('PUT', '/integrations/envc', {
          type: 'oidc',
          settings: { redirect_uris: [REDIRECT] },
          secrets: { client_secret: { env: 'SSO_BRIDGE_SECRET_ENVC' } },
        })
      ).status,
    ).toBe(201)
    delete s.t.env.SSO_BRIDGE_SECRET_ENVC
    const b = browser()
    const page = await b.go(authUrl({ client_id: 'envc', redirect_uri: REDIRECT }))
    expect(page.status).toBe(400)
    expect(page.left).toBeUndefined()
    expect(page.html).toContain('invalid_client')
    expect(logged('ERR_OIDC_CLIENT_SECRET_UNSET')[0]).toMatchObject({
      client_id: 'envc',
      env: 'SSO_BRIDGE_SECRET_ENVC',
    })
    s.t.env.SSO_BRIDGE_SECRET_ENVC = 'e'.repeat(40)
    expect(isLoginPage(await b.go(authUrl({ client_id: 'envc', redirect_uri: REDIRECT })))).toBe(
      true,
    )
  })

  it('PKCE missing for a public client: invalid_request to the client, no sign-in asked; logged', async () => {
    await start()
    const b = browser()
    const page = await b.go(
      authUrl({ client_id: 'spa', redirect_uri: 'https://spa.example/cb', state: 'st' }),
    )
    const q = callbackParams(page)
    expect(q.get('error')).toBe('invalid_request')
    expect(q.get('error_description')).toMatch(/PKCE/)
    expect(q.get('state')).toBe('st')
    expect(q.get('code')).toBeNull()
    expect(logged('ERR_OIDC_INVALID_REQUEST')).toHaveLength(1)
    // plain is not S256
    const plain = await b.go(
      authUrl({
        client_id: 'spa',
        redirect_uri: 'https://spa.example/cb',
        code_challenge: 'a'.repeat(43),
        code_challenge_method: 'plain',
      }),
    )
    expect(callbackParams(plain).get('error')).toBe('invalid_request')
  })

  it('PKCE wrong or missing verifier: invalid_grant, no tokens, the code still unused', async () => {
    await start()
    const b = browser()
    const verifier = client.randomPKCECodeVerifier()
    const challenge = await client.calculatePKCECodeChallenge(verifier)
    let page = await b.go(
      authUrl({
        client_id: 'spa',
        redirect_uri: 'https://spa.example/cb',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    )
    page = await b.login(page, 'rob', PASSWORD)
    const code = callbackParams(page).get('code')!
    secrets.push(code)
    const base = {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      redirect_uri: 'https://spa.example/cb',
    }
    const wrong = await token({ ...base, code_verifier: client.randomPKCECodeVerifier() })
    expect(wrong.status).toBe(400)
    expect(wrong.json).toMatchObject({ error: 'invalid_grant' })
    expect(wrong.json.access_token).toBeUndefined()
    const missing = await token(base)
    expect(missing.status).toBe(400)
    expect(missing.json.error).toBe('invalid_grant')
    expect(logged('ERR_OIDC_INVALID_GRANT').length).toBeGreaterThanOrEqual(2)
    // Nothing changed: the code was not burnt by the bad attempts.
    const right = await token({ ...base, code_verifier: verifier })
    expect(right.status).toBe(200)
    expect(right.json.access_token).toEqual(expect.any(String))
  })

  it("reused authorization code: the second exchange fails and the first exchange's tokens are revoked", async () => {
    const { rp } = await start()
    const code = (await codeFor(browser())).get('code')!
    const body = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }
    const first = await token(body, ['rp', rp.clientSecret!])
    expect(first.status).toBe(200)
    expect((await me(first.json.access_token!)).status).toBe(200)
    const second = await token(body, ['rp', rp.clientSecret!])
    expect(second.status).toBe(400)
    expect(second.json).toMatchObject({ error: 'invalid_grant' })
    expect(second.json.access_token).toBeUndefined()
    const after = await me(first.json.access_token!)
    expect(after.status).toBe(401)
    expect(await after.json()).toMatchObject({ error: 'invalid_token' })
    expect(after.headers.get('www-authenticate')).toMatch(/error="invalid_token"/)
    const refresh = await token(
      { grant_type: 'refresh_token', refresh_token: first.json.refresh_token! },
      ['rp', rp.clientSecret!],
    )
    expect(refresh.json.error).toBe('invalid_grant')
    expect(logged('ERR_OIDC_INVALID_GRANT').length).toBeGreaterThanOrEqual(1)
    expect(logged('ERR_ACCESS_TOKEN_INVALID').length).toBeGreaterThanOrEqual(1)
  })

  it('reused authorization code, twice at once: at most one exchange wins', async () => {
    const { rp } = await start()
    const code = (await codeFor(browser())).get('code')!
    const body = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }
    const results = await Promise.all([1, 2, 3].map(() => token(body, ['rp', rp.clientSecret!])))
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1)
    for (const r of results.filter((r) => r.status !== 200))
      expect(r.json.error).toBe('invalid_grant')
  })

  it('bad client secret: invalid_client 401 (basic and post); the code stays usable', async () => {
    const { rp } = await start()
    const code = (await codeFor(browser())).get('code')!
    const body = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }
    const basic = await token(body, ['rp', 'not-the-secret-0123456789abcdef0123456789'])
    expect(basic.status).toBe(401)
    expect(basic.json.error).toBe('invalid_client')
    expect(basic.headers.get('www-authenticate')).toMatch(/^Basic/)
    const post = await token({
      ...body,
      client_id: 'rp',
      client_secret: 'not-the-secret-0123456789abcdef0123456789',
    })
    expect(post.status).toBe(401)
    expect(post.json.error).toBe('invalid_client')
    const none = await token({ ...body, client_id: 'rp' })
    expect(none.status).toBe(401)
    expect(none.json.error).toBe('invalid_client')
    expect(logged('ERR_OIDC_INVALID_CLIENT').length).toBe(3)
    const good = await token(body, ['rp', rp.clientSecret!])
    expect(good.status).toBe(200)
  })

  it('wrong password: 401 sign-in page with a message, no session, nothing changed; ERR_LOGIN_FAILED', async () => {
    await start()
    const before = await s.t.services.accounts.get('42')
    const b = browser()
    const page = await b.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT }))
    const wrong = await b.login(page, 'rob', 'not the password')
    secrets.push('not the password')
    expect(wrong.status).toBe(401)
    expect(isLoginPage(wrong)).toBe(true)
    expect(wrong.html).toContain('That username or password is not right.')
    expect(wrong.html).toContain('value="rob"')
    expect(wrong.headers.get('cache-control')).toBe('no-store')
    const unknown = await b.login(wrong, 'nobody-here', PASSWORD)
    expect(unknown.status).toBe(401)
    expect(b.cookie('sso_bridge')).toBeUndefined()
    expect(await bridgeSessionOf('42')).toBeNull()
    expect(await s.t.services.accounts.get('42')).toEqual(before)
    expect(logged('ERR_LOGIN_FAILED')).toHaveLength(2)
    // The page still works: the right password now signs in.
    const ok = await b.login(unknown, 'rob', PASSWORD)
    expect(isLoginPage(ok)).toBe(false)
    expect(b.cookie('sso_bridge')).toBeDefined()
  })

  it('disabled account: refused with a clear message, no session; ERR_ACCOUNT_DISABLED', async () => {
    await start()
    await createAccount(s, '42', { username: 'rob', status: 'disabled' })
    const b = browser()
    const page = await b.login(
      await b.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT })),
      'rob',
      PASSWORD,
    )
    expect(page.status).toBe(401)
    expect(page.html).toContain('This account is disabled.')
    expect(b.cookie('sso_bridge')).toBeUndefined()
    expect(await bridgeSessionOf('42')).toBeNull()
    expect(logged('ERR_ACCOUNT_DISABLED')).toHaveLength(1)
  })

  it('throttling: 429 with Retry-After after N failures per account, and per IP; ERR_LOGIN_THROTTLED', async () => {
    await start({
      throttle: { ip: { max: 5, windowMs: 60_000 }, account: { max: 3, windowMs: 60_000 } },
    })
    const b = browser()
    let page = await b.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT }))
    for (let i = 0; i < 3; i++) {
      page = await b.login(page, 'rob', `wrong password ${i}`)
      expect(page.status).toBe(401)
    }
    // Even the right password is refused now, without being checked.
    page = await b.login(page, 'rob', PASSWORD)
    expect(page.status).toBe(429)
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(Number(page.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    expect(page.html).toMatch(/Too many attempts\. Try again in 1 minute/)
    expect(isLoginPage(page)).toBe(true)
    expect(b.cookie('sso_bridge')).toBeUndefined()
    expect(logged('ERR_LOGIN_THROTTLED')).toHaveLength(1)
    // Per IP: two more failures on other names reach the IP's limit of 5; then any name is refused.
    await createAccount(s, '43', { username: 'ann' })
    for (const name of ['x1', 'x2'])
      expect((page = await b.login(page, name, 'wrong password')).status).toBe(401)
    page = await b.login(page, 'ann', PASSWORD)
    expect(page.status).toBe(429)
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(logged('ERR_LOGIN_THROTTLED')).toHaveLength(2)
  })

  it('CSRF: a sign-in POST without or with a wrong token is 403 and starts no session', async () => {
    await start()
    const b = browser()
    const page = await b.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT }))
    const form = parseForms(page.html).find((f) => f.action.endsWith('/login'))!
    for (const csrf of [undefined, 'x'.repeat(43), '']) {
      const body = new URLSearchParams({
        username: 'rob',
        password: PASSWORD,
        ...(csrf === undefined ? {} : { csrf }),
      })
      const res = await b.go(new URL(form.action, page.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      })
      expect(res.status).toBe(403)
      expect(res.html).toContain('csrf_failed')
      expect(res.left).toBeUndefined()
    }
    // The right token in the field but no cookie (another site posting a stolen field) fails too.
    const stranger = browser()
    const res = await stranger.request(new URL(form.action, page.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        csrf: form.fields.csrf!,
        username: 'rob',
        password: PASSWORD,
      }).toString(),
    })
    expect(res.status).toBe(403)
    expect(b.cookie('sso_bridge')).toBeUndefined()
    expect(stranger.cookie('sso_bridge')).toBeUndefined()
    expect(await bridgeSessionOf('42')).toBeNull()
    expect(logged('ERR_CSRF_FAILED')).toHaveLength(4)
  })

  it('CSRF: consent and abort forms need the token too', async () => {
    await start()
    const b = browser()
    const consent = await b.login(
      await b.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT })),
      'rob',
      PASSWORD,
    )
    const form = parseForms(consent.html).find((f) => f.action.endsWith('/confirm'))!
    for (const action of [form.action, form.action.replace('/confirm', '/abort')]) {
      const res = await b.go(new URL(action, consent.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'csrf=nope',
      })
      expect(res.status).toBe(403)
      expect(res.left).toBeUndefined()
    }
  })

  it('interaction pages are Cache-Control: no-store (and carry no ETag)', async () => {
    await start()
    const b = browser()
    const login = await b.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT }))
    expect(login.headers.get('cache-control')).toBe('no-store')
    expect(login.headers.get('etag')).toBeNull()
    const consent = await b.login(login, 'rob', PASSWORD)
    expect(consent.headers.get('cache-control')).toBe('no-store')
    const failed = await b.go(new URL(parseForms(consent.html)[0]!.action, consent.url), {
      method: 'POST',
      body: new URLSearchParams({ csrf: 'bad' }),
    })
    expect(failed.status).toBe(403)
    expect(failed.headers.get('cache-control')).toBe('no-store')
  })

  it('session cookie: HttpOnly, SameSite=Lax, no Secure over http', async () => {
    await start()
    const b = browser()
    await b.login(await b.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT })), 'rob', PASSWORD)
    const cookie = b.setCookies.find((c) => c.name === 'sso_bridge')!
    expect(cookie.attributes).toMatchObject({ httponly: true, samesite: 'Lax', path: '/' })
    expect(cookie.attributes.secure).toBeUndefined()
    for (const c of b.setCookies) expect(c.attributes.httponly, c.name).toBe(true)
  })

  it('session cookie: Secure too when the issuer is https', async () => {
    await start({ tls: true })
    const b = browser({ tlsProxy: true })
    const page = await b.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT }))
    expect(isLoginPage(page)).toBe(true)
    await b.login(page, 'rob', PASSWORD)
    const cookie = b.setCookies.find((c) => c.name === 'sso_bridge')!
    expect(cookie.attributes).toMatchObject({ httponly: true, samesite: 'Lax', secure: true })
    for (const c of b.setCookies) {
      expect(c.attributes.secure, c.name).toBe(true)
      expect(c.attributes.httponly, c.name).toBe(true)
    }
  })

  it('the session id changes on each sign-in, and the old id no longer works', async () => {
    await start()
    const sessions = createSessionManager({ kv: s.t.services.store, ttlMs: 60_000 })
    const b = browser()
    await codeFor(b)
    const first = b.cookie('sso_bridge')!
    expect(await sessions.get(first)).toMatchObject({
      account_id: (await s.t.services.accounts.get('42')).id,
      amr: ['pwd'],
    })
    // prompt=login asks again even with a live session.
    const again = await b.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT, prompt: 'login' }))
    expect(isLoginPage(again)).toBe(true)
    const done: Page = await b.login(again, 'rob', PASSWORD)
    expect(done.left?.searchParams.get('code')).toEqual(expect.any(String))
    const second = b.cookie('sso_bridge')!
    expect(second).not.toBe(first)
    expect(await sessions.get(first)).toBeNull()
    expect(await sessions.get(second)).not.toBeNull()
    // A session id planted before sign-in (fixation) is not kept either.
    // (Planted before the page is shown: the form's CSRF token is bound to the session cookie the
    // page was rendered with, so a cookie changed between page and POST is refused anyway.)
    const planted = browser()
    planted.setCookie('sso_bridge', 'planted-session-id-0123456789')
    const fixed = await planted.go(authUrl({ client_id: 'rp', redirect_uri: REDIRECT }))
    expect(isLoginPage(fixed)).toBe(true)
    await planted.login(fixed, 'rob', PASSWORD)
    expect(planted.cookie('sso_bridge')).not.toBe('planted-session-id-0123456789')
    expect(await sessions.get(planted.cookie('sso_bridge'))).not.toBeNull()
  })
})
