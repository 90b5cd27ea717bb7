/**
 * Defect (issue #10, "Redirects, hosts and headers"): `/login?return_to=/.//evil.example/` (and
 * `/%2e//…`, `/..//…`, `/x/..//…`) sent a signed-in member to `//evil.example/`, because the
 * target was checked before it was normalised and written as the browser gave it. The same
 * spellings reached `/ticket` as this server's `//evil.example/` path. Now the target is
 * normalised against ISSUER first (web/return-to.ts), then checked, and only the normalised form
 * is written.
 */
import fc from 'fast-check'
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { safeReturnTo } from '../../src/login/routes/login.ts'
import { allowedReturnTo } from '../../src/login/routes/ticket.ts'
import { localReturnTo } from '../../src/web/return-to.ts'
import { TICKET_JTI_NAMESPACE } from '../../src/login/ticket.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

const ISSUER = 'http://localhost:3000'
const ORIGIN = new URL(ISSUER).origin
const SECRET = 'site-ticket-secret-for-tests-0123456789abcdef'
const SITE = 'https://www.example.com'

/** Every spelling the issue lists, and their cousins (backslashes, upper-case `%2E`, nesting). */
const ESCAPES = [
  '/.//evil.example/',
  '/%2e//evil.example/',
  '/%2E//evil.example/',
  '/..//evil.example/',
  '/x/..//evil.example/',
  '/x/%2e%2e//evil.example/',
  '/a/b/../..//evil.example/x?y=1',
  '/./\\evil.example/',
  '/.\\/evil.example/',
  '/x/..\\\\evil.example/',
  '/\\evil.example/',
  '//evil.example/',
]

let t: TestApp
let cookie: string

async function signIn(): Promise<string> {
  await request(t.app)
    .put('/api/v1/users/u1')
    .set(auth)
    .send({ username: 'ada', email: 'ada@example.com', password: 'correct horse battery staple' })
    .expect(201)
  const page = await request(t.app).get('/login').query({ return_to: '/healthz' }).expect(200)
  const csrfCookie = (page.headers['set-cookie'] as unknown as string[])
    .map((c) => c.split(';')[0]!)
    .join('; ')
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!
  const res = await request(t.app)
    .post('/login')
    .query({ return_to: '/healthz' })
    .set('Cookie', csrfCookie)
    .type('form')
    .send({ csrf, username: 'ada', password: 'correct horse battery staple' })
    .expect(303)
  const session = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
    c.startsWith('sso_bridge='),
  )!
  return session.split(';')[0]!
}

beforeAll(async () => {
  t = makeTestApp({ issuer: ISSUER, siteTicket: { secret: SECRET, origins: [SITE] } })
  cookie = await signIn()
})
afterAll(() => t.close())

describe('web: return_to is checked after normalisation (open redirect to //evil.example/)', () => {
  for (const spelling of ESCAPES) {
    it(`GET /login?return_to=${spelling} with a live session is refused, never a redirect off-site`, async () => {
      const res = await request(t.app)
        .get('/login')
        .query({ return_to: spelling })
        .set('Cookie', cookie)
      expect(res.status, `Location: ${res.headers.location}`).toBe(400)
      expect(res.headers.location).toBeUndefined()
      expect(res.text).toContain('invalid_return_to')
    })
  }

  it('a safe return_to is followed in its normalised form', async () => {
    const res = await request(t.app)
      .get('/login')
      .query({ return_to: '/x/../saml/%2e/continue/abc?z=1#frag' })
      .set('Cookie', cookie)
      .expect(303)
    expect(res.headers.location).toBe('/saml/continue/abc?z=1')
  })

  it('the refusal is logged with its code', async () => {
    await request(t.app)
      .get('/login')
      .query({ return_to: '/.//evil.example/' })
      .set('Cookie', cookie)
      .expect(400)
    expect(t.logs.some((l) => l.code === 'ERR_LOGIN_RETURN_TO')).toBe(true)
  })

  for (const spelling of ESCAPES.slice(0, 6)) {
    it(`/ticket refuses return_to=${spelling} and leaves the ticket unused`, async () => {
      const jti = randomUUID()
      const now = Math.floor(Date.now() / 1000)
      const ticket = await new SignJWT({
        external_id: 'u2',
        iat: now,
        exp: now + 60,
        aud: `${ISSUER}/ticket`,
        jti,
      })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(SECRET))
      const res = await request(t.app).get('/ticket').query({ ticket, return_to: spelling })
      expect(res.status, `Location: ${res.headers.location}`).toBe(400)
      expect(res.text).toContain('return_to_invalid')
      expect(await t.services.store.kvGet(TICKET_JTI_NAMESPACE, jti)).toBeNull()
    })
  }

  it("property: no accepted return_to yields a Location that leaves ISSUER's origin", () => {
    const piece = fc.constantFrom(
      '/',
      '//',
      '\\',
      '.',
      '..',
      '%2e',
      '%2E',
      '%2f',
      '%5c',
      'evil.example',
      'x',
      '?',
      '#',
      '@',
      ':',
      '%09',
      'https:',
      '\t',
      ' ',
    )
    const candidate = fc.oneof(
      fc.array(piece, { maxLength: 10 }).map((a) => `/${a.join('')}`),
      fc.string({ maxLength: 40 }).map((s) => `/${s}`),
      fc.webUrl(),
    )
    fc.assert(
      fc.property(
        candidate,
        fc.constantFrom('/login', '/saml/sso', '/a/b/c'),
        (value, requestPath) => {
          for (const accepted of [safeReturnTo(value, ISSUER), localReturnTo(value, ISSUER)]) {
            if (accepted === null) continue
            // The browser resolves the Location header against the URL it asked for.
            expect(
              accepted.startsWith('/') &&
                !accepted.startsWith('//') &&
                !accepted.split('?')[0]!.includes('\\'),
            ).toBe(true)
            expect(new URL(accepted, `${ISSUER}${requestPath}`).origin).toBe(ORIGIN)
          }
          const ticketTarget = allowedReturnTo(value, ORIGIN, new Set([SITE]))
          if (ticketTarget !== null) {
            expect([ORIGIN, SITE]).toContain(new URL(ticketTarget).origin)
            if (new URL(ticketTarget).origin === ORIGIN)
              expect(new URL(ticketTarget).pathname.startsWith('//')).toBe(false)
          }
        },
      ),
      { numRuns: 1000 },
    )
  })
})
