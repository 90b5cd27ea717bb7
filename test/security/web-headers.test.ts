/**
 * Defect (issue #10, "Redirects, hosts and headers"): no page set a Content-Security-Policy,
 * frame-ancestors or X-Frame-Options, so the sign-in and consent pages could be framed
 * (clickjacking), and there was no HSTS with an https ISSUER. Now helmet sets a strict CSP on
 * every answer (web/security-headers.ts) and the pages carry no inline script or style (they
 * load /assets/*). test/browser/login.test.ts proves in Chromium that the flows still work.
 */
import { createHash } from 'node:crypto'
import { SignJWT } from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

const ISSUER = 'http://localhost:3000'
const ACS = 'https://sp.example/saml/acs'

let t: TestApp
let https: TestApp
let session: string

function directives(header: unknown): Map<string, string[]> {
  expect(typeof header, 'a Content-Security-Policy header').toBe('string')
  return new Map(
    (header as string)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  )
}

/**
 * Inline script, inline event handlers and inline styles: what a strict CSP would block. An inline
 * script whose hash the policy lists (oidc-provider's form_post page adds its own) is allowed.
 */
function inlineCode(html: string, allowedHashes: readonly string[] = []): string[] {
  return [
    ...[...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)]
      .filter(
        (m) =>
          !allowedHashes.includes(
            `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`,
          ),
      )
      .map((m) => m[0].slice(0, 80)),
    ...[...html.matchAll(/<style\b[^>]*>/gi)].map((m) => m[0]),
    ...[...html.matchAll(/\s(on[a-z]+|style)\s*=/gi)].map((m) => m[0].trim()),
  ]
}

async function signIn(app: TestApp): Promise<string> {
  const page = await request(app.app).get('/login').query({ return_to: '/healthz' }).expect(200)
  const cookies = (page.headers['set-cookie'] as unknown as string[])
    .map((c) => c.split(';')[0]!)
    .join('; ')
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!
  const res = await request(app.app)
    .post('/login')
    .query({ return_to: '/healthz' })
    .set('Cookie', cookies)
    .type('form')
    .send({ csrf, username: 'ada', password: 'correct horse battery staple' })
    .expect(303)
  return (res.headers['set-cookie'] as unknown as string[])
    .find((c) => c.startsWith('sso_bridge='))!
    .split(';')[0]!
}

beforeAll(async () => {
  t = makeTestApp({ issuer: ISSUER })
  https = makeTestApp({ issuer: 'https://sso.example.com', trustProxy: true })
  await request(t.app)
    .put('/api/v1/users/u1')
    .set(auth)
    .send({ username: 'ada', password: 'correct horse battery staple' })
    .expect(201)
  await request(t.app)
    .put('/api/v1/integrations/chat')
    .set(auth)
    .send({
      type: 'oidc',
      settings: {
        redirect_uris: ['https://rp.example/cb'],
        post_logout_redirect_uris: ['https://rp.example/bye'],
      },
    })
    .expect(201)
  await request(t.app)
    .put('/api/v1/integrations/wiki')
    .set(auth)
    .send({
      type: 'saml',
      settings: {
        entity_id: 'https://sp.example/saml/metadata',
        acs_urls: [{ url: ACS, binding: 'HTTP-POST' }],
      },
    })
    .expect(201)
  session = await signIn(t)
})
afterAll(async () => {
  await t.close()
  await https.close()
})

describe('web: strict CSP, frame-ancestors, X-Frame-Options, HSTS (helmet)', () => {
  const pages: [string, () => request.Test][] = [
    ['the sign-in page', () => request(t.app).get('/login').query({ return_to: '/healthz' })],
    [
      'an error page',
      () =>
        request(t.app)
          .get('/login')
          .query({ return_to: '//evil.example/' })
          .set('Accept', 'text/html'),
    ],
    // Without an OIDC session, oidc-provider answers with its auto-submitted form (an inline script, allowed by hash).
    [
      'the sign-out step (oidc-provider form_post page)',
      () => request(t.app).get('/session/end').query({ client_id: 'chat' }),
    ],
    ['the home page', () => request(t.app).get('/')],
    ['the documentation', () => request(t.app).get('/docs')],
  ]
  for (const [name, get] of pages) {
    it(`${name}: a strict CSP, no framing, no inline script or style`, async () => {
      const res = await get()
      expect(res.headers['content-type']).toMatch(/^text\/html/)
      const csp = directives(res.headers['content-security-policy'])
      expect(csp.get('default-src')).toEqual(["'none'"])
      const [self, ...hashes] = csp.get('script-src') ?? []
      expect(self).toBe("'self'")
      for (const hash of hashes) expect(hash).toMatch(/^'sha256-[A-Za-z0-9+/]+={0,2}'$/)
      expect(csp.get('style-src')).toEqual(["'self'"])
      expect(csp.get('frame-ancestors')).toEqual(["'none'"])
      expect(csp.get('form-action'), String(res.headers['content-security-policy'])).toEqual([
        "'self'",
      ])
      expect(csp.get('base-uri')).toEqual(["'none'"])
      expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval|\*/)
      expect(res.headers['x-frame-options']).toBe('DENY')
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['referrer-policy']).toBe('no-referrer')
      expect(inlineCode(res.text, hashes)).toEqual([])
    })
  }

  it("the SAML auto-post page runs only /assets/auto-post.js and may post only to the SP's ACS origin", async () => {
    const res = await request(t.app)
      .get('/saml/idp-initiated/wiki')
      .set('Cookie', session)
      .expect(200)
    expect(res.text).toContain('<script src="/assets/auto-post.js"></script>')
    expect(inlineCode(res.text)).toEqual([])
    const csp = directives(res.headers['content-security-policy'])
    expect(csp.get('form-action')).toEqual(["'self'", new URL(ACS).origin])
    expect(csp.get('frame-ancestors')).toEqual(["'none'"])
  })

  it('the sign-out step may post on only to the registered post_logout_redirect_uri origin', async () => {
    const res = await request(t.app)
      .get('/session/end')
      .query({ client_id: 'chat', post_logout_redirect_uri: 'https://rp.example/bye' })
      .set('Cookie', session)
      .expect(200)
    expect(directives(res.headers['content-security-policy']).get('form-action')).toEqual([
      "'self'",
      'https://rp.example',
    ])
    // An unregistered one is refused by oidc-provider and names no origin.
    const bad = await request(t.app)
      .get('/session/end')
      .query({ client_id: 'chat', post_logout_redirect_uri: 'https://evil.example/bye' })
      .set('Cookie', session)
    expect(bad.status).toBe(400)
    expect(bad.headers['content-security-policy']).not.toContain('evil.example')
  })

  it("/login on to a token redirect may post on to that integration's platform origin only", async () => {
    await request(t.app)
      .put('/api/v1/integrations/board')
      .set(auth)
      .send({
        type: 'jwt',
        settings: { target_url: 'https://board.example.net/sso' },
        secrets: { secret: 's'.repeat(32) },
      })
      .expect(201)
    const res = await request(t.app)
      .get('/login')
      .query({ return_to: '/tokens/board/redirect', force: '1' })
      .set('Cookie', session)
      .expect(200)
    expect(directives(res.headers['content-security-policy']).get('form-action')).toEqual([
      "'self'",
      'https://board.example.net',
    ])
    const plain = await request(t.app)
      .get('/login')
      .query({ return_to: '/saml/continue/x' })
      .expect(200)
    expect(directives(plain.headers['content-security-policy']).get('form-action')).toEqual([
      "'self'",
    ])
  })

  it("the ticket's conflict prompt may post on only to the ticket's return_to origin", async () => {
    const prompt = makeTestApp({
      issuer: ISSUER,
      conflicts: { username: 'prompt', email: 'reject' },
      siteTicket: {
        secret: 'site-ticket-secret-for-tests-0123456789abcdef',
        origins: ['https://www.example.com'],
      },
    })
    try {
      await request(prompt.app)
        .put('/api/v1/users/holder')
        .set(auth)
        .send({ username: 'Rob' })
        .expect(201)
      const now = Math.floor(Date.now() / 1000)
      const ticket = await new SignJWT({
        external_id: 'newbie',
        username: 'rob',
        iat: now,
        exp: now + 60,
        aud: `${ISSUER}/ticket`,
        jti: 'prompt-csp-1',
      })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode('site-ticket-secret-for-tests-0123456789abcdef'))
      const res = await request(prompt.app)
        .get('/ticket')
        .query({ ticket, return_to: 'https://www.example.com/chat' })
        .expect(409)
      expect(directives(res.headers['content-security-policy']).get('form-action')).toEqual([
        "'self'",
        'https://www.example.com',
      ])
      expect(inlineCode(res.text)).toEqual([])
    } finally {
      await prompt.close()
    }
  })

  it('the stylesheet and the script are served as files (with the site colour)', async () => {
    const css = await request(t.app).get('/assets/layout.css').expect(200)
    expect(css.headers['content-type']).toMatch(/^text\/css/)
    expect(css.text).toContain('--accent: #2a6df4;')
    const js = await request(t.app).get('/assets/auto-post.js').expect(200)
    expect(js.headers['content-type']).toMatch(/^text\/javascript/)
    await request(t.app).get('/assets/constructor').expect(404)
    await request(t.app).get('/assets/__proto__').expect(404)
  })

  it('HSTS only when ISSUER is https; JSON answers carry the defaults too', async () => {
    const plain = await request(t.app).get('/healthz')
    expect(plain.headers['strict-transport-security']).toBeUndefined()
    expect(plain.headers['x-frame-options']).toBe('DENY')
    const secure = await request(https.app).get('/healthz').set('X-Forwarded-Proto', 'https')
    expect(secure.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains')
    expect(secure.headers['content-security-policy']).toContain('upgrade-insecure-requests')
    expect(plain.headers['content-security-policy']).not.toContain('upgrade-insecure-requests')
  })
})
