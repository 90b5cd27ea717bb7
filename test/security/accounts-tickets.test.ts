/**
 * Issue #10, accounts part — site tickets:
 * - a ticket whose `aud` is an array holding the ticket URL was accepted (jose's audience check
 *   takes arrays); the README says `aud` is that URL, so anything else is refused;
 * - the conflict prompt stored the email the member typed as verified when the ticket said the
 *   site's email was: a typed value is never verified.
 * Real app, real SQLite store, tickets signed with jose and with jsonwebtoken (the library a site's
 * Node back end would likely use).
 */
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import jwt from 'jsonwebtoken'
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp, type TestAppOptions } from '../helpers/app.ts'

const ISSUER = 'http://localhost:3000'
const AUDIENCE = `${ISSUER}/ticket`
const SECRET = 'site-ticket-secret-for-tests-0123456789abcdef'
const SITE = 'https://www.example.com'
const CHAT = `${SITE}/chat`

let t: TestApp
afterEach(async () => t?.close())
const app = (opts: TestAppOptions = {}) =>
  (t = makeTestApp({ siteTicket: { secret: SECRET, origins: [SITE] }, ...opts }))
const now = () => Math.floor(Date.now() / 1000)
const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ iat: now(), exp: now() + 60, jti: randomUUID(), aud: AUDIENCE, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET))
const cookieOf = (res: request.Response, name: string) =>
  ([] as string[])
    .concat(res.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${name}=`))

describe('accounts: a ticket audience must be exactly the ticket URL (defect: aud array accepted)', () => {
  it.each([
    [
      'an array holding the ticket URL and another audience',
      [AUDIENCE, 'https://chat.example.com'],
    ],
    ['an array holding only the ticket URL', [AUDIENCE]],
  ])(
    'refuses %s with ticket_audience, writes nothing and starts no session',
    async (_name, aud) => {
      app()
      const res = await request(t.app)
        .get('/ticket')
        .query({ ticket: await sign({ external_id: 'aud1', aud }), return_to: CHAT })
      expect(res.status).toBe(400)
      expect(res.text).toContain('ticket_audience')
      expect(cookieOf(res, 'sso_bridge')).toBeUndefined()
      await request(t.app).get('/api/v1/users/aud1').set(auth).expect(404)
      expect(t.logs.some((l) => l.code === 'ERR_TICKET_AUDIENCE')).toBe(true)
    },
  )

  it('jsonwebtoken with audience: [url, other] is refused; audience: url signs in', async () => {
    app()
    const array = jwt.sign({ external_id: 'aud2', jti: randomUUID() }, SECRET, {
      algorithm: 'HS256',
      audience: [AUDIENCE, 'other'],
      expiresIn: 60,
    })
    expect(
      (await request(t.app).get('/ticket').query({ ticket: array, return_to: CHAT })).status,
    ).toBe(400)
    const single = jwt.sign({ external_id: 'aud2', jti: randomUUID() }, SECRET, {
      algorithm: 'HS256',
      audience: AUDIENCE,
      expiresIn: 60,
    })
    const ok = await request(t.app).get('/ticket').query({ ticket: single, return_to: CHAT })
    expect(ok.status).toBe(303)
    expect(cookieOf(ok, 'sso_bridge')).toBeDefined()
  })
})

describe('accounts: a typed email is never verified (defect: conflict prompt kept email_verified)', () => {
  it('the email answered on the conflict prompt is stored unverified though the ticket said verified', async () => {
    app({ conflicts: { username: 'reject', email: 'prompt' } })
    await request(t.app)
      .put('/api/v1/users/holder')
      .set(auth)
      .send({ email: 'shared@example.com', email_verified: true })
      .expect(201)
    const first = await request(t.app)
      .get('/ticket')
      .query({
        ticket: await sign({
          external_id: 'typist',
          email: 'shared@example.com',
          email_verified: true,
        }),
        return_to: CHAT,
      })
    expect(first.status).toBe(409)
    const action = /action="(\/ticket\/prompt\/[^"]+)"/.exec(first.text)![1]!
    const csrf = /name="csrf" value="([^"]+)"/.exec(first.text)![1]!
    const done = await request(t.app)
      .post(action)
      .set('Cookie', cookieOf(first, 'sso_csrf')!)
      .type('form')
      .send({ csrf, value: 'someone-else@example.org' })
    expect(done.status).toBe(303)
    const stored = (await request(t.app).get('/api/v1/users/typist').set(auth)).body
    expect(stored).toMatchObject({ email: 'someone-else@example.org', email_verified: false })
    // The holder keeps its own verified email.
    expect((await request(t.app).get('/api/v1/users/holder').set(auth)).body).toMatchObject({
      email: 'shared@example.com',
      email_verified: true,
    })
  })

  it('a username answered on the prompt keeps the email_verified the site vouched for', async () => {
    app({ conflicts: { username: 'prompt', email: 'reject' } })
    await request(t.app).put('/api/v1/users/holder').set(auth).send({ username: 'Rob' }).expect(201)
    const first = await request(t.app)
      .get('/ticket')
      .query({
        ticket: await sign({
          external_id: 'rob2',
          username: 'rob',
          email: 'rob2@example.com',
          email_verified: true,
        }),
        return_to: CHAT,
      })
    const action = /action="(\/ticket\/prompt\/[^"]+)"/.exec(first.text)![1]!
    const csrf = /name="csrf" value="([^"]+)"/.exec(first.text)![1]!
    expect(
      (
        await request(t.app)
          .post(action)
          .set('Cookie', cookieOf(first, 'sso_csrf')!)
          .type('form')
          .send({ csrf, value: 'robbie' })
      ).status,
    ).toBe(303)
    expect((await request(t.app).get('/api/v1/users/rob2').set(auth)).body).toMatchObject({
      username: 'robbie',
      email: 'rob2@example.com',
      email_verified: true,
    })
  })
})
