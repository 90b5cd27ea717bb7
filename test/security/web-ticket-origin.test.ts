/**
 * Defect (issue #10, "Redirects, hosts and headers"): `POST /ticket` from a cross-site `Origin`
 * outside SITE_ORIGINS signed the browser in as whoever the ticket named (login CSRF: an attacker
 * auto-submits a ticket minted for their own account, and the victim then acts as the attacker).
 * Now such a POST is refused (403 origin_not_allowed, log ERR_TICKET_ORIGIN) before the ticket is
 * read: nothing changes and the ticket stays usable. The site's own auto-submitted form still works.
 */
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TICKET_JTI_NAMESPACE } from '../../src/login/ticket.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

const ISSUER = 'https://sso.example.com'
const SECRET = 'site-ticket-secret-for-tests-0123456789abcdef'
const SITE = 'https://www.example.com'
const CHAT = `${SITE}/chat`

let t: TestApp

async function ticketFor(externalId: string, jti = randomUUID()) {
  const now = Math.floor(Date.now() / 1000)
  const ticket = await new SignJWT({
    external_id: externalId,
    username: externalId,
    iat: now,
    exp: now + 60,
    aud: `${ISSUER}/ticket`,
    jti,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET))
  return { ticket, jti }
}

const post = (ticket: string, headers: Record<string, string>) =>
  request(t.app)
    .post('/ticket')
    .set({ 'X-Forwarded-Proto': 'https', ...headers })
    .type('form')
    .send({ ticket, return_to: CHAT })

const sessionSet = (res: { headers: Record<string, unknown> }) =>
  ((res.headers['set-cookie'] as string[] | undefined) ?? []).some((c) =>
    c.startsWith('sso_bridge='),
  )

beforeAll(() => {
  t = makeTestApp({
    issuer: ISSUER,
    trustProxy: true,
    siteTicket: { secret: SECRET, origins: [SITE] },
  })
})
afterAll(() => t.close())

describe('web: POST /ticket from a cross-site origin is refused (login CSRF)', () => {
  for (const [name, headers] of [
    ['Origin of another site', { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' }],
    [
      'Origin of a look-alike (scheme differs from SITE_ORIGINS)',
      { Origin: 'http://www.example.com' },
    ],
    ['Origin: null (sandboxed frame)', { Origin: 'null', 'Sec-Fetch-Site': 'cross-site' }],
    ['no Origin, Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
  ] as const) {
    it(`${name}: 403 origin_not_allowed, no session, the ticket unused, no account written`, async () => {
      const external = `victim-${randomUUID()}`
      const { ticket, jti } = await ticketFor(external)
      const res = await post(ticket, headers)
      expect(res.status).toBe(403)
      expect(res.text).toContain('origin_not_allowed')
      expect(sessionSet(res)).toBe(false)
      expect(res.headers.location).toBeUndefined()
      expect(await t.services.store.kvGet(TICKET_JTI_NAMESPACE, jti)).toBeNull()
      await request(t.app).get(`/api/v1/users/${external}`).set(auth).expect(404)
      expect(t.logs.some((l) => l.code === 'ERR_TICKET_ORIGIN')).toBe(true)
      // The same ticket still works from the site's own page.
      const ok = await post(ticket, { Origin: SITE, 'Sec-Fetch-Site': 'same-site' })
      expect(ok.status).toBe(303)
      expect(ok.headers.location).toBe(CHAT)
    })
  }

  for (const [name, headers] of [
    [
      "the site's own auto-submitted form (Origin in SITE_ORIGINS)",
      { Origin: SITE, 'Sec-Fetch-Site': 'cross-site' },
    ],
    ['a form on this server', { Origin: ISSUER, 'Sec-Fetch-Site': 'same-origin' }],
    ['a server-side caller without Origin or Sec-Fetch-Site', {}],
  ] as const) {
    it(`${name} signs in`, async () => {
      const { ticket } = await ticketFor(`member-${randomUUID()}`)
      const res = await post(ticket, headers)
      expect(res.status).toBe(303)
      expect(sessionSet(res)).toBe(true)
    })
  }
})
