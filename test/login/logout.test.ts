/**
 * The site's sign-out at /logout (README "Signing out", the site contract §4), over the real app
 * (SQLite store): logout tickets signed with jose, from the browser (GET and POST) and server to
 * server; every bridge session of the member ends, in every browser; refusals change nothing and
 * are logged with their code; a sign-in ticket and a logout ticket never stand in for each other.
 * The README's Node, PHP and Python snippets sign logout tickets and send them, as written, to a
 * real server on a real port.
 */
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { createSessionManager } from '../../src/login/session.ts'
import { auth, makeTestApp, type TestApp, type TestAppOptions } from '../helpers/app.ts'
import { startOidcServer } from '../helpers/oidc.ts'
import { docPage } from '../helpers/readme.ts'
import { NODE, PROCESS_TEST_TIMEOUT } from '../helpers/server.ts'
import { codeBlock, interpreter, runSnippet } from '../helpers/snippets.ts'

const ISSUER = 'http://localhost:3000'
const SECRET = 'site-ticket-secret-for-tests-0123456789abcdef'
const SITE = 'https://www.example.com'
const HOME = `${SITE}/?signed_out=1`

let t: TestApp
/** The issuer of the app under test (tickets name it in `aud`). */
let issuer = ISSUER
const apps: TestApp[] = []
function app(opts: TestAppOptions = {}): TestApp {
  issuer = ISSUER
  t = makeTestApp({ siteTicket: { secret: SECRET, origins: [SITE] }, ...opts })
  apps.push(t)
  return t
}
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close()
})

const now = () => Math.floor(Date.now() / 1000)

/** A ticket for `aud` (`/logout` or `/ticket`), signed with the site's secret. */
function sign(claims: Record<string, unknown>, path = '/logout', jti = randomUUID()) {
  return new SignJWT({ aud: `${issuer}${path}`, iat: now(), exp: now() + 60, jti, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(SECRET))
}

function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const set = (res.headers['set-cookie'] as string[] | undefined) ?? []
  const line = set.find((c) => c.startsWith('sso_bridge='))
  return line ? decodeURIComponent(line.slice('sso_bridge='.length).split(';')[0]!) : undefined
}

/** Whether the response clears the bridge cookie (empty value, expired). */
const clearsCookie = (res: { headers: Record<string, unknown> }) =>
  ((res.headers['set-cookie'] as string[] | undefined) ?? []).some(
    (c) => /^sso_bridge=;/.test(c) && /Expires=Thu, 01 Jan 1970/.test(c) && /HttpOnly/.test(c),
  )

/** A browser signed in through a sign-in ticket: its bridge-session cookie value. */
async function signedIn(externalId: string): Promise<string> {
  const res = await request(t.app)
    .get('/ticket')
    .query({
      ticket: await sign({ external_id: externalId }, '/ticket'),
      return_to: `${SITE}/chat`,
    })
  expect(res.status, res.text).toBe(303)
  return sessionCookie(res)!
}

const sessions = () => createSessionManager({ kv: t.services.store, ttlMs: 3_600_000 })

/**
 * Whether the cookie still signs in without the site: /login with a live session skips the
 * form (303 to return_to); with none it shows the form (200), i.e. the next sign-in goes to
 * the site again.
 */
async function answersSignIn(cookie: string): Promise<boolean> {
  const res = await request(t.app)
    .get('/login')
    .query({ return_to: '/somewhere' })
    .set('Cookie', `sso_bridge=${cookie}`)
  expect([200, 303]).toContain(res.status)
  return res.status === 303
}

const codes = () => t.logs.filter((l) => l.msg === 'logout ticket refused').map((l) => l.code)

async function expectRefused(res: request.Response, status: number, error: string, code: string) {
  expect(res.status, res.text).toBe(status)
  expect(res.type).toBe('text/html')
  expect(res.text).toContain(error)
  expect(res.headers['cache-control']).toBe('no-store')
  expect(res.headers.location).toBeUndefined()
  expect(clearsCookie(res)).toBe(false)
  expect(codes().at(-1)).toBe(code)
}

describe('/logout: a logout ticket ends every bridge session of the member', () => {
  it('server to server (POST, no return_to): 204, every browser of the member signed out, others kept', async () => {
    app()
    const laptop = await signedIn('42')
    const phone = await signedIn('42')
    const someoneElse = await signedIn('7')
    expect(await answersSignIn(laptop)).toBe(true)

    const res = await request(t.app)
      .post('/logout')
      .type('form')
      .send({ ticket: await sign({ external_id: '42' }) })
    expect(res.status).toBe(204)
    expect(res.text).toBe('')
    expect(await sessions().get(laptop)).toBeNull()
    expect(await sessions().get(phone)).toBeNull()
    expect(await answersSignIn(laptop)).toBe(false)
    expect(await answersSignIn(phone)).toBe(false)
    // Another member's session is not touched.
    expect(await answersSignIn(someoneElse)).toBe(true)
    expect(t.logs.find((l) => l.code === 'LOGOUT_TICKET_SIGNED_OUT')).toMatchObject({
      external_id: '42',
      known: true,
      sessions: 2,
    })
  })

  it('from the browser (GET with return_to): 303 to return_to, the cookie cleared, every session ended', async () => {
    app()
    const here = await signedIn('42')
    const elsewhere = await signedIn('42')
    const res = await request(t.app)
      .get('/logout')
      .query({ ticket: await sign({ external_id: '42' }), return_to: HOME })
      .set('Cookie', `sso_bridge=${here}`)
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe(HOME)
    expect(clearsCookie(res)).toBe(true)
    expect(res.headers['referrer-policy']).toBe('no-referrer')
    expect(res.headers['cache-control']).toBe('no-store')
    expect(await answersSignIn(here)).toBe(false)
    expect(await answersSignIn(elsewhere)).toBe(false)
  })

  it('from the browser (auto-submitted POST form with return_to): 303; without return_to, a GET or a form shows the signed-out page', async () => {
    app()
    const a = await signedIn('42')
    const posted = await request(t.app)
      .post('/logout')
      .type('form')
      .set('Origin', SITE)
      .send({ ticket: await sign({ external_id: '42' }), return_to: '/' })
    expect(posted.status).toBe(303)
    expect(posted.headers.location).toBe(`${ISSUER}/`)
    expect(clearsCookie(posted)).toBe(true)
    expect(await answersSignIn(a)).toBe(false)

    const b = await signedIn('42')
    const page = await request(t.app)
      .get('/logout')
      .query({ ticket: await sign({ external_id: '42' }) })
    expect(page.status).toBe(200)
    expect(page.text).toContain('You are signed out')
    expect(clearsCookie(page)).toBe(true)
    expect(await answersSignIn(b)).toBe(false)

    // A browser's form without return_to (a navigation) gets the page too, not an empty 204.
    const c = await signedIn('42')
    const navigated = await request(t.app)
      .post('/logout')
      .type('form')
      .set('Sec-Fetch-Mode', 'navigate')
      .send({ ticket: await sign({ external_id: '42' }) })
    expect(navigated.status).toBe(200)
    expect(navigated.text).toContain('You are signed out')
    expect(clearsCookie(navigated)).toBe(true)
    expect(await answersSignIn(c)).toBe(false)
  })

  it('an unknown external_id: answered as for a known one, and nothing changes', async () => {
    app()
    const member = await signedIn('42')
    const before = await t.services.store.countAccounts()
    const res = await request(t.app)
      .post('/logout')
      .type('form')
      .send({ ticket: await sign({ external_id: 'nobody' }) })
    expect(res.status).toBe(204)
    const page = await request(t.app)
      .get('/logout')
      .query({ ticket: await sign({ external_id: 'nobody' }), return_to: HOME })
    expect(page.status).toBe(303)
    expect(page.headers.location).toBe(HOME)
    expect(await t.services.store.countAccounts()).toBe(before)
    expect((await request(t.app).get('/api/v1/users/nobody').set(auth)).status).toBe(404)
    expect(await answersSignIn(member)).toBe(true)
  })

  it('a disabled member is signed out too', async () => {
    app()
    const cookie = await signedIn('42')
    await request(t.app).put('/api/v1/users/42').set(auth).send({ status: 'disabled' }).expect(200)
    expect(await sessions().get(cookie)).not.toBeNull()
    const res = await request(t.app)
      .post('/logout')
      .type('form')
      .send({ ticket: await sign({ external_id: '42' }) })
    expect(res.status).toBe(204)
    expect(await sessions().get(cookie)).toBeNull()
  })
})

describe('/logout: refusals change nothing', () => {
  it('a replayed logout ticket is refused', async () => {
    app()
    const ticket = await sign({ external_id: '42' })
    expect((await request(t.app).post('/logout').type('form').send({ ticket })).status).toBe(204)
    const cookie = await signedIn('42')
    await expectRefused(
      await request(t.app).post('/logout').type('form').send({ ticket }),
      400,
      'ticket_replayed',
      'ERR_TICKET_REPLAYED',
    )
    expect(await answersSignIn(cookie)).toBe(true)
  })

  it('a sign-in ticket at /logout is ticket_audience; so is a logout ticket at /ticket', async () => {
    app()
    const cookie = await signedIn('42')
    const signInTicket = await sign({ external_id: '42' }, '/ticket')
    await expectRefused(
      await request(t.app)
        .get('/logout')
        .query({ ticket: signInTicket, return_to: HOME })
        .set('Cookie', `sso_bridge=${cookie}`),
      400,
      'ticket_audience',
      'ERR_TICKET_AUDIENCE',
    )
    expect(await answersSignIn(cookie)).toBe(true)
    // Refused before it was used: the sign-in ticket still signs in.
    const used = await request(t.app)
      .get('/ticket')
      .query({ ticket: signInTicket, return_to: HOME })
    expect(used.status).toBe(303)

    const logoutTicket = await sign({ external_id: '99' })
    const res = await request(t.app).get('/ticket').query({ ticket: logoutTicket, return_to: HOME })
    expect(res.status).toBe(400)
    expect(res.text).toContain('ticket_audience')
    expect(sessionCookie(res)).toBeUndefined()
    expect((await request(t.app).get('/api/v1/users/99').set(auth)).status).toBe(404)
  })

  it('one jti namespace: a jti a sign-in ticket used is refused in a logout ticket', async () => {
    app()
    const jti = randomUUID()
    const res = await request(t.app)
      .get('/ticket')
      .query({ ticket: await sign({ external_id: '42' }, '/ticket', jti), return_to: HOME })
    const cookie = sessionCookie(res)!
    await expectRefused(
      await request(t.app)
        .post('/logout')
        .type('form')
        .send({ ticket: await sign({ external_id: '42' }, '/logout', jti) }),
      400,
      'ticket_replayed',
      'ERR_TICKET_REPLAYED',
    )
    expect(await answersSignIn(cookie)).toBe(true)
  })

  it('a foreign return_to is refused before the ticket is used', async () => {
    app()
    const cookie = await signedIn('42')
    const ticket = await sign({ external_id: '42' })
    for (const returnTo of ['https://evil.example/', '//evil.example/', '/.//evil.example/']) {
      await expectRefused(
        await request(t.app)
          .get('/logout')
          .query({ ticket, return_to: returnTo })
          .set('Cookie', `sso_bridge=${cookie}`),
        400,
        'return_to_invalid',
        'ERR_TICKET_RETURN_TO',
      )
    }
    expect(await answersSignIn(cookie)).toBe(true)
    const ok = await request(t.app).get('/logout').query({ ticket, return_to: HOME })
    expect(ok.status).toBe(303)
    expect(await answersSignIn(cookie)).toBe(false)
  })

  it('account fields, a forged signature, an expired ticket, no ticket: refused with their codes', async () => {
    app()
    const cookie = await signedIn('42')
    const post = (ticket: string | undefined) =>
      request(t.app)
        .post('/logout')
        .type('form')
        .send(ticket === undefined ? {} : { ticket })
    for (const extra of [{ username: 'x' }, { auth_time: now() }])
      await expectRefused(
        await post(await sign({ external_id: '42', ...extra })),
        400,
        'ticket_invalid',
        'ERR_TICKET_INVALID',
      )
    const [h, p] = (await sign({ external_id: '42' })).split('.')
    await expectRefused(await post(`${h}.${p}.AAAA`), 400, 'ticket_invalid', 'ERR_TICKET_INVALID')
    const expired = await new SignJWT({
      external_id: '42',
      aud: `${ISSUER}/logout`,
      iat: now() - 200,
      exp: now() - 100,
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET))
    await expectRefused(await post(expired), 400, 'ticket_expired', 'ERR_TICKET_EXPIRED')
    await expectRefused(await post(undefined), 400, 'ticket_invalid', 'ERR_TICKET_INVALID')
    await expectRefused(
      await post(await sign({ external_id: ' 42' })),
      400,
      'ticket_invalid',
      'ERR_TICKET_INVALID',
    )
    expect(await answersSignIn(cookie)).toBe(true)
  })

  it('HEAD does not use a ticket up; without a ticket key /logout answers 404', async () => {
    app()
    const ticket = await sign({ external_id: '42' })
    expect((await request(t.app).head('/logout').query({ ticket })).status).toBe(405)
    expect((await request(t.app).post('/logout').type('form').send({ ticket })).status).toBe(204)

    app({ siteTicket: { origins: [] } })
    const off = await request(t.app)
      .post('/logout')
      .type('form')
      .send({ ticket: await sign({ external_id: '42' }) })
    expect(off.status).toBe(404)
    expect(codes().at(-1)).toBe('ERR_TICKET_DISABLED')
  })

  it('no ticket, secret or cookie value reaches the log', async () => {
    app()
    const cookie = await signedIn('42')
    const ticket = await sign({ external_id: '42' })
    await request(t.app).get('/logout').query({ ticket, return_to: HOME })
    await request(t.app).get('/logout').query({ ticket, return_to: HOME }) // replayed
    const text = t.logText()
    for (const part of ticket.split('.')) expect(text).not.toContain(part)
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain(cookie)
  })
})

describe("/logout: the README's snippets, run as written against a real server", () => {
  const section = docPage('signing-out')

  /** A member signed in through a ticket in two browsers; the snippet signs them out of both. */
  async function run(lang: string, command: string, file: string, call: string) {
    const s = await startOidcServer({ siteTicket: { secret: SECRET, origins: [SITE] } })
    try {
      t = s.t
      issuer = s.issuer
      const cookies = [await signedIn('1001'), await signedIn('1001')]
      const other = await signedIn('7')
      for (const c of cookies) expect(await answersSignIn(c)).toBe(true)
      const code = codeBlock(section, lang).replaceAll('https://sso.example.com', s.issuer)
      // The snippet signs with the issuer it was given: the test server's own URL.
      const out = await runSnippet(command, file, `${code}\n${call}\n`, {
        SITE_TICKET_SECRET: SECRET,
      })
      expect(out).toMatch(/^(true|1|True)$/)
      for (const c of cookies) expect(await answersSignIn(c)).toBe(false)
      expect(await answersSignIn(other)).toBe(true)
      expect(s.t.logs.find((l) => l.code === 'LOGOUT_TICKET_SIGNED_OUT')).toMatchObject({
        external_id: '1001',
        sessions: 2,
      })
    } finally {
      await s.close()
    }
  }

  it(
    'Node.js (node:crypto and fetch only)',
    () => run('js', NODE, 'logout.mjs', "console.log(await signOutOfBridge('1001'))"),
    PROCESS_TEST_TIMEOUT,
  )
  it(
    'PHP (hash_hmac and file_get_contents only)',
    () =>
      run(
        'php',
        interpreter('/usr/bin/php', 'php'),
        'logout.php',
        "echo sign_out_of_bridge('1001') ? 'true' : 'false', \"\\n\";",
      ),
    PROCESS_TEST_TIMEOUT,
  )
  it(
    'Python (hmac and urllib only)',
    () =>
      run(
        'python',
        interpreter('/usr/bin/python3', 'python3'),
        'logout.py',
        "print(sign_out_of_bridge('1001'))",
      ),
    PROCESS_TEST_TIMEOUT,
  )
})
