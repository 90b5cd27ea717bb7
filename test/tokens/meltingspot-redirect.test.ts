/**
 * Named security regressions: MeltingSpot's authorization URL (GET /tokens/{id}/redirect) must
 * only ever send a member — with a fresh token — to the configured spot's `/spot/<id>/sso/jwt`
 * on the configured host, and `referrerUrl` only to a path of that spot. Both documented flows:
 * (a) the site's link, (b) the spot's redirect with redirectUrl.
 */
import jsonwebtoken from 'jsonwebtoken'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { makeTestApp, type TestApp } from '../helpers/app.ts'
import {
  integrations,
  MELTINGSPOT_SECRET,
  ROB,
  sessionCookie,
  SPOT_ID,
} from './helpers/fixtures.ts'

const SPOT = `https://app.meltingspot.io/spot/${SPOT_ID}`
const SSO = `${SPOT}/sso/jwt`

let t: TestApp
let cookie: string

beforeEach(async () => {
  t = makeTestApp()
  await t.services.accounts.put('42', ROB)
  await t.services.integrations.put('ms', {
    ...integrations.meltingspot,
    settings: { ...integrations.meltingspot.settings, login_url: 'https://www.example.com/login' },
  })
  cookie = await sessionCookie(t, '42')
})
afterEach(async () => {
  await t.close()
})

const go = (query: Record<string, string>, withCookie = true) => {
  const r = request(t.app).get('/tokens/ms/redirect').query(query).set('Accept', 'text/html')
  return withCookie ? r.set('Cookie', cookie) : r
}

/** The redirect's target with its ms_token checked and removed. */
function landing(location: string): string {
  const u = new URL(location)
  const token = u.searchParams.get('ms_token')!
  expect(jsonwebtoken.verify(token, MELTINGSPOT_SECRET, { algorithms: ['HS256'] })).toMatchObject({
    sub: '42',
    email: 'rob@example.com',
  })
  u.searchParams.delete('ms_token')
  return u.href
}

describe('MeltingSpot authorization URL', () => {
  it('flow (a), from the site: mints a token and redirects to the spot, with a checked referrerUrl', async () => {
    const plain = await go({})
    expect(plain.status).toBe(302)
    expect(plain.headers['cache-control']).toBe('no-store')
    expect(landing(plain.headers.location!)).toBe(SSO)
    expect(plain.headers.location).toMatch(new RegExp(`^${SSO}\\?ms_token=ey`))
    const deep = await go({ referrerUrl: `/spot/${SPOT_ID}/lives?tab=next#top` })
    expect(landing(deep.headers.location!)).toBe(
      `${SSO}?referrerUrl=${encodeURIComponent(`/spot/${SPOT_ID}/lives?tab=next#top`)}`,
    )
  })

  it('flow (b), from the spot: accepts its own redirectUrl and keeps the referrerUrl inside it', async () => {
    const redirectUrl = `${SSO}?referrerUrl=${encodeURIComponent(`/spot/${SPOT_ID}/lives`)}`
    const res = await go({ redirectUrl })
    expect(res.status).toBe(302)
    expect(landing(res.headers.location!)).toBe(`${SSO}?referrerUrl=%2Fspot%2F${SPOT_ID}%2Flives`)
    // Parameters other than referrerUrl are not carried over to the target.
    expect(landing((await go({ redirectUrl: `${SSO}?x=1` })).headers.location!)).toBe(SSO)
  })

  const refusedRedirects: Record<string, string> = {
    'foreign host': `https://evil.example/spot/${SPOT_ID}/sso/jwt`,
    'look-alike host': `https://app.meltingspot.io.evil.example/spot/${SPOT_ID}/sso/jwt`,
    'userinfo trick': `https://app.meltingspot.io@evil.example/spot/${SPOT_ID}/sso/jwt`,
    'credentials on the right host': `https://user:pw@app.meltingspot.io/spot/${SPOT_ID}/sso/jwt`,
    'other spot id': 'https://app.meltingspot.io/spot/00000000-0000-0000-0000-000000000000/sso/jwt',
    'spot id prefix': `https://app.meltingspot.io/spot/${SPOT_ID}-x/sso/jwt`,
    'other path on the spot': `${SPOT}/members`,
    'http downgrade': `http://app.meltingspot.io/spot/${SPOT_ID}/sso/jwt`,
    'other port': `https://app.meltingspot.io:8443/spot/${SPOT_ID}/sso/jwt`,
    'protocol-relative': `//evil.example/spot/${SPOT_ID}/sso/jwt`,
    'relative path': `/spot/${SPOT_ID}/sso/jwt`,
    'javascript:': 'javascript:alert(document.cookie)//app.meltingspot.io',
    'data:': 'data:text/html,<script>alert(1)</script>',
    backslash: `https:\\\\evil.example/spot/${SPOT_ID}/sso/jwt`,
    fragment: `${SSO}#x`,
    'encoded path': `https://app.meltingspot.io/spot/${SPOT_ID}/sso%2Fjwt`,
    'referrerUrl inside: absolute': `${SSO}?referrerUrl=${encodeURIComponent('https://evil.example/')}`,
    'referrerUrl inside: twice': `${SSO}?referrerUrl=${encodeURIComponent(`/spot/${SPOT_ID}`)}&referrerUrl=${encodeURIComponent(`/spot/${SPOT_ID}`)}`,
  }
  it.each(Object.entries(refusedRedirects))(
    'refuses redirectUrl: %s',
    async (_name, redirectUrl) => {
      const res = await go({ redirectUrl })
      expect(res.status).toBe(400)
      expect(res.headers.location).toBeUndefined()
      expect(res.text).toContain('validation_failed')
      expect(res.text).not.toContain('ms_token')
    },
  )

  const refusedReferrers: Record<string, string> = {
    absolute: 'https://evil.example/',
    'absolute on the spot host': `https://app.meltingspot.io/spot/${SPOT_ID}/lives`,
    'protocol-relative': '//evil.example/x',
    'backslash protocol-relative': '/\\evil.example/x',
    'javascript:': 'javascript:alert(1)',
    'other spot': '/spot/00000000-0000-0000-0000-000000000000/lives',
    'spot id prefix': `/spot/${SPOT_ID}evil`,
    'outside the spot': '/admin',
    'dot segments': `/spot/${SPOT_ID}/../other-spot`,
    'encoded dot segments': `/spot/${SPOT_ID}/%2e%2e/other-spot`,
    'encoded slash': `/spot/${SPOT_ID}%2f..%2fother`,
    'relative without slash': `spot/${SPOT_ID}/lives`,
    'control character': `/spot/${SPOT_ID}/\nSet-Cookie:x`,
    space: `/spot/${SPOT_ID}/a b`,
  }
  it.each(Object.entries(refusedReferrers))(
    'refuses referrerUrl: %s (flow a and inside redirectUrl)',
    async (_name, referrerUrl) => {
      for (const query of [
        { referrerUrl },
        { redirectUrl: `${SSO}?referrerUrl=${encodeURIComponent(referrerUrl)}` },
      ] as Record<string, string>[]) {
        const res = await go(query)
        expect(res.status, JSON.stringify(query)).toBe(400)
        expect(res.headers.location).toBeUndefined()
      }
    },
  )

  it('the server-to-server API applies the same checks to referrer_url and redirect_url', async () => {
    const { auth } = await import('../helpers/app.ts')
    const bad = await request(t.app)
      .post('/api/v1/integrations/ms/tokens')
      .set(auth)
      .send({ external_id: '42', referrer_url: '//evil.example' })
    expect(bad.status).toBe(400)
    expect(bad.body.details.issues).toEqual([
      { path: 'referrerUrl', message: expect.stringContaining(`/spot/${SPOT_ID}/`) },
    ])
    const good = await request(t.app)
      .post('/api/v1/integrations/ms/tokens')
      .set(auth)
      .send({ external_id: '42', redirect_url: SSO })
    expect(good.body.url).toMatch(new RegExp(`^${SSO}\\?ms_token=`))
  })

  it('without a bridge session and no login_url: a 401 page saying to sign in on the site first, no token', async () => {
    await t.services.integrations.put('ms', integrations.meltingspot)
    const res = await go({}, false)
    expect(res.status).toBe(401)
    expect(res.headers['content-type']).toMatch(/html/)
    expect(res.text).toContain('Sign in on Test Site first')
    expect(res.text).not.toContain('ms_token')
    const json = await request(t.app).get('/tokens/ms/redirect').set('Accept', 'application/json')
    expect(json.status).toBe(401)
    expect(json.body).toEqual({
      error: 'login_required',
      message: expect.any(String),
      login_url: null,
    })
    // A bad redirect is refused before the session matters.
    expect((await go({ redirectUrl: 'https://evil.example/' }, false)).status).toBe(400)
  })

  it("without a bridge session, with login_url: to the site's sign-in page with the way back (flow b resumes after /ticket)", async () => {
    const redirectUrl = `${SSO}?referrerUrl=${encodeURIComponent(`/spot/${SPOT_ID}/lives`)}`
    const res = await go({ redirectUrl }, false)
    expect(res.status).toBe(302)
    const login = new URL(res.headers.location!)
    expect(login.origin + login.pathname).toBe('https://www.example.com/login')
    const back = login.searchParams.get('return_to')!
    expect(back).toBe(
      `http://localhost:3000/tokens/ms/redirect?redirectUrl=${encodeURIComponent(redirectUrl)}`,
    )
    // Once signed in (the site's ticket starts the session), the same URL completes flow (b).
    const resumed = await request(t.app)
      .get(new URL(back).pathname + new URL(back).search)
      .set('Cookie', cookie)
    expect(landing(resumed.headers.location!)).toBe(
      `${SSO}?referrerUrl=%2Fspot%2F${SPOT_ID}%2Flives`,
    )
    const json = await request(t.app).get('/tokens/ms/redirect').set('Accept', 'application/json')
    expect(json.body).toEqual({
      error: 'login_required',
      message: expect.any(String),
      login_url: `https://www.example.com/login?return_to=${encodeURIComponent('http://localhost:3000/tokens/ms/redirect')}`,
    })
  })

  it("login_url may be sso-bridge's own sign-in page: return_to is then a path, as /login takes it", async () => {
    await t.services.integrations.put('ms', {
      ...integrations.meltingspot,
      settings: { ...integrations.meltingspot.settings, login_url: 'http://localhost:3000/login' },
    })
    const res = await go({ referrerUrl: `/spot/${SPOT_ID}/lives` }, false)
    expect(res.status).toBe(302)
    const login = new URL(res.headers.location!)
    expect(login.pathname).toBe('/login')
    expect(login.searchParams.get('return_to')).toBe(
      `/tokens/ms/redirect?referrerUrl=${encodeURIComponent(`/spot/${SPOT_ID}/lives`)}`,
    )
  })

  it('a member without the required fields gets a 422 page, not a redirect', async () => {
    await t.services.accounts.put('42', { ...ROB, given_name: null })
    const res = await go({})
    expect(res.status).toBe(422)
    expect(res.text).toContain('account_incomplete')
    expect(res.headers.location).toBeUndefined()
  })
})

describe('MeltingSpot flow (b) end to end with a site ticket', () => {
  it('spot → authorization URL → site sign-in → /ticket → authorization URL again → spot with ms_token', async () => {
    const { createHmac, randomUUID } = await import('node:crypto')
    const secret = 'site-ticket-secret-0123456789abcdef0123'
    const app = makeTestApp({ siteTicket: { secret, origins: [] } })
    try {
      await app.services.integrations.put('ms', {
        ...integrations.meltingspot,
        settings: {
          ...integrations.meltingspot.settings,
          login_url: 'https://www.example.com/login',
        },
      })
      // 1. The spot sends the member to the authorization URL; no bridge session yet.
      const redirectUrl = `${SSO}?referrerUrl=${encodeURIComponent(`/spot/${SPOT_ID}/lives`)}`
      const first = await request(app.app)
        .get('/tokens/ms/redirect')
        .query({ redirectUrl })
        .set('Accept', 'text/html')
      const returnTo = new URL(first.headers.location!).searchParams.get('return_to')!
      // 2. The site signs the member in and sends them through /ticket with that return_to.
      const now = Math.floor(Date.now() / 1000)
      const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')
      const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ aud: 'http://localhost:3000/ticket', iat: now, exp: now + 60, jti: randomUUID(), external_id: '77', email: 'lea@example.com', given_name: 'Léa', family_name: 'Martin' })}`
      const ticket = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
      const signedIn = await request(app.app).get('/ticket').query({ ticket, return_to: returnTo })
      expect(signedIn.status).toBe(303)
      expect(signedIn.headers.location).toBe(returnTo)
      const cookies = ([] as string[])
        .concat(signedIn.headers['set-cookie'] ?? [])
        .map((c) => c.split(';')[0])
        .join('; ')
      // 3. Back at the authorization URL with the bridge session: on to the spot with the token.
      const back = new URL(returnTo)
      const done = await request(app.app)
        .get(back.pathname + back.search)
        .set('Cookie', cookies)
      expect(done.status).toBe(302)
      const target = new URL(done.headers.location!)
      expect(target.origin + target.pathname).toBe(SSO)
      expect(target.searchParams.get('referrerUrl')).toBe(`/spot/${SPOT_ID}/lives`)
      expect(
        jsonwebtoken.verify(target.searchParams.get('ms_token')!, MELTINGSPOT_SECRET, {
          algorithms: ['HS256'],
        }),
      ).toMatchObject({
        sub: '77',
        firstName: 'Léa',
        lastName: 'Martin',
        email: 'lea@example.com',
      })
    } finally {
      await app.close()
    }
  })
})
