/**
 * Defect (issue #10, "Redirects, hosts and headers"): the CSRF token was an unbound double submit
 * — the hidden field had only to equal the `sso_csrf` cookie — so whoever could plant that cookie
 * (a sibling subdomain, a plain-http hop: cookie tossing) could forge every form, including a
 * sign-in as the attacker (login CSRF). Now the field is an HMAC of the browser's binding id and
 * its bridge session under a server key (web/csrf.ts): the cookie alone is not a token, and a
 * pair from another browser or another sign-in does not pass.
 */
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

const PASSWORD = 'correct horse battery staple'
const RETURN_TO = { return_to: '/healthz' }

let t: TestApp

type Res = { headers: Record<string, unknown>; text: string }
const cookiesOf = (res: Res) =>
  ((res.headers['set-cookie'] as string[] | undefined) ?? []).map((c) => c.split(';')[0]!)
const cookie = (res: Res, name: string) =>
  cookiesOf(res)
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1)
const fieldOf = (res: Res) => /name="csrf" value="([^"]+)"/.exec(res.text)![1]!

/** A browser's visit to the sign-in page: its CSRF cookie and the form's token. */
async function visit(extraCookie?: string) {
  const page = await request(t.app)
    .get('/login')
    .query(RETURN_TO)
    .set('Cookie', extraCookie ?? '')
    .expect(200)
  return { binding: cookie(page, 'sso_csrf')!, token: fieldOf(page) }
}

function post(cookies: string[], csrf: string, username: string) {
  return request(t.app)
    .post('/login')
    .query(RETURN_TO)
    .set('Cookie', cookies.join('; '))
    .type('form')
    .send({ csrf, username, password: PASSWORD })
}

beforeAll(async () => {
  t = makeTestApp({})
  await request(t.app)
    .put('/api/v1/users/victim')
    .set(auth)
    .send({ username: 'victim', password: PASSWORD })
    .expect(201)
  await request(t.app)
    .put('/api/v1/users/attacker')
    .set(auth)
    .send({ username: 'attacker', password: PASSWORD })
    .expect(201)
})
afterAll(() => t.close())

describe('web: the CSRF token is bound to the browser and its session', () => {
  it("a browser's own form still works", async () => {
    const { binding, token } = await visit()
    const res = await post([`sso_csrf=${binding}`], token, 'victim').expect(303)
    expect(cookie(res, 'sso_bridge')).toBeTruthy()
  })

  it("the cookie's value alone is not a token (the bare double submit is refused)", async () => {
    const { binding } = await visit()
    const res = await post([`sso_csrf=${binding}`], binding, 'attacker')
    expect(res.status).toBe(403)
    expect(res.body.error ?? res.text).toContain('csrf_failed')
    expect(cookie(res, 'sso_bridge')).toBeUndefined()
  })

  it('an attacker-chosen cookie and field (cookie tossing) cannot sign the browser in as the attacker', async () => {
    // Whatever value the attacker plants, it is no longer a matching field.
    const planted = 'A'.repeat(43)
    const res = await post([`sso_csrf=${planted}`], planted, 'attacker')
    expect(res.status).toBe(403)
    expect(cookie(res, 'sso_bridge')).toBeUndefined()
    expect(t.logs.some((l) => l.code === 'ERR_CSRF_FAILED')).toBe(true)
  })

  it('a token from another browser fails', async () => {
    const a = await visit()
    const b = await visit()
    await post([`sso_csrf=${a.binding}`], b.token, 'victim').expect(403)
  })

  it("a pair taken from the attacker's own browser fails in a signed-in victim's browser (bound to the session)", async () => {
    // The victim is signed in.
    const own = await visit()
    const signedIn = await post([`sso_csrf=${own.binding}`], own.token, 'victim').expect(303)
    const session = `sso_bridge=${cookie(signedIn, 'sso_bridge')}`
    // The attacker's pair, planted into the victim's browser next to the victim's session.
    const attacker = await visit()
    const res = await post([`sso_csrf=${attacker.binding}`, session], attacker.token, 'attacker')
    expect(res.status).toBe(403)
    // The victim's own page, rendered with the session, still works.
    const page = await request(t.app)
      .get('/login')
      .query({ ...RETURN_TO, force: '1' })
      .set('Cookie', [`sso_csrf=${own.binding}`, session].join('; '))
      .expect(200)
    expect(fieldOf(page)).not.toBe(own.token)
    await post([`sso_csrf=${own.binding}`, session], fieldOf(page), 'victim').expect(303)
  })

  it('with an https ISSUER the binding cookie is __Host- prefixed and Secure', async () => {
    const secure = makeTestApp({ issuer: 'https://sso.example.com', trustProxy: true })
    try {
      const page = await request(secure.app)
        .get('/login')
        .query(RETURN_TO)
        .set('X-Forwarded-Proto', 'https')
        .expect(200)
      const line = ((page.headers['set-cookie'] as unknown as string[]) ?? []).find((c) =>
        c.startsWith('__Host-sso_csrf='),
      )
      expect(line).toMatch(/; Path=\//)
      expect(line).toMatch(/; Secure/)
      expect(line).toMatch(/; HttpOnly/)
      expect(line).not.toMatch(/Domain=/i)
    } finally {
      await secure.close()
    }
  })
})
