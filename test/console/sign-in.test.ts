/**
 * The /console sign-in (issue #14) over HTTP against the real app and a real SQLite store:
 * password, TOTP (codes computed from the seed with otpauth, at the injected clock), its own
 * cookie, CSRF, the members' throttle, idle and absolute timeouts (the clock is moved, nothing
 * sleeps), an operator disabled mid-session, and the wall between member and operator sessions.
 * Every refusal is a page with a stable code, and changes nothing.
 */
import request from 'supertest'
import { Secret, TOTP } from 'otpauth'
import { afterEach, describe, expect, it } from 'vitest'
import { signMemberIn } from '../../src/login/session.ts'
import { makeTestApp, type TestApp, type TestAppOptions } from '../helpers/app.ts'

const PASSWORD = 'operator password 1'
const IDLE = 15 * 60_000
const ABSOLUTE = 60 * 60_000

let t: TestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

/** An app whose console reads `clock.now`, with one operator "alice". */
async function setup(opts: TestAppOptions & { totp?: boolean } = {}) {
  const clock = { now: Date.parse('2026-12-04T12:00:00Z') }
  t = makeTestApp({
    console: { requireTotp: false, idleMs: IDLE, absoluteMs: ABSOLUTE },
    now: () => clock.now,
    ...opts,
  })
  await t.services.operators.add('alice', PASSWORD, 'test')
  let seed: string | undefined
  if (opts.totp) {
    const { uri } = await t.services.operators.setupTotp('alice', 'Test Site', 'test')
    seed = new URL(uri).searchParams.get('secret')!
  }
  const agent = request.agent(t.app)
  const code = (at = clock.now) =>
    TOTP.generate({ secret: Secret.fromBase32(seed!), timestamp: at, period: 30, digits: 6 })
  return { t, clock, agent, code }
}

/** The Set-Cookie lines of a response. */
const setCookies = (res: request.Response): string[] =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? [])
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!
const codeOf = (html: string) => /data-code="([a-z_]+)"/.exec(html)?.[1]

async function signIn(agent: request.Agent, password = PASSWORD, name = 'alice') {
  const form = await agent.get('/console/login').expect(200)
  return agent
    .post('/console/login')
    .type('form')
    .send({ csrf: csrfOf(form.text), name, password })
}

const auditActions = async (app: TestApp) =>
  (await app.services.operators.listAudit()).filter((a) => a.actor !== 'test')

describe('/console sign-in', () => {
  it('password sign-in sets its own strict cookie; the landing page; sign-out; both audited', async () => {
    const { agent, t } = await setup()
    await agent.get('/console').expect(303).expect('Location', '/console/login')

    const ok = await signIn(agent)
    expect(ok.status).toBe(303)
    expect(ok.headers.location).toBe('/console')
    const cookie = setCookies(ok).find((c) => c.startsWith('sso_console='))!
    expect(cookie).toMatch(/; Path=\/console/)
    expect(cookie).toMatch(/; HttpOnly/)
    expect(cookie).toMatch(/; SameSite=Strict/)
    expect(cookie).not.toMatch(/Secure/) // plain-http issuer

    const home = await agent.get('/console').expect(200)
    expect(home.text).toContain('id="operator">alice<')
    expect(home.headers['cache-control']).toMatch(/no-store/)

    await agent
      .post('/console/logout')
      .type('form')
      .send({ csrf: csrfOf(home.text) })
      .expect(303)
    await agent.get('/console').expect(303).expect('Location', '/console/login')
    expect((await auditActions(t)).map((a) => [a.actor, a.action, a.target])).toEqual([
      ['operator:alice', 'console_sign_in', 'operator:alice'],
      ['operator:alice', 'console_sign_out', 'operator:alice'],
    ])
    // The password never reaches the log.
    expect(t.logText()).not.toContain(PASSWORD)
  })

  it('on an https issuer the cookie is Secure and __Secure- prefixed', async () => {
    const { t } = await setup({ issuer: 'https://sso.example.test', trustProxy: true })
    const agent = request.agent(t.app)
    const form = await agent
      .get('/console/login')
      .set('Host', 'sso.example.test')
      .set('X-Forwarded-Proto', 'https')
      .expect(200)
    const res = await agent
      .post('/console/login')
      .set('Host', 'sso.example.test')
      .set('X-Forwarded-Proto', 'https')
      .set(
        'Cookie',
        setCookies(form)
          .map((c) => c.split(';')[0])
          .join('; '),
      )
      .type('form')
      .send({ csrf: csrfOf(form.text), name: 'alice', password: PASSWORD })
      .expect(303)
    const cookie = setCookies(res).find((c) => c.includes('sso_console='))!
    expect(cookie).toMatch(
      /^__Secure-sso_console=.*; Path=\/console.*; HttpOnly; Secure; SameSite=Strict/,
    )
  })

  it('a wrong password or unknown name: 401 login_failed, no session, no audit entry', async () => {
    const { agent, t } = await setup()
    for (const [name, password] of [
      ['alice', 'wrong password'],
      ['nobody', PASSWORD],
    ] as const) {
      const res = await signIn(agent, password, name)
      expect(res.status).toBe(401)
      expect(codeOf(res.text)).toBe('login_failed')
      expect(String(res.headers['set-cookie'] ?? '')).not.toContain('sso_console=')
    }
    await agent.get('/console').expect(303)
    expect(await auditActions(t)).toEqual([])
  })

  it('a form without its CSRF token: 403 csrf_failed and nothing changes', async () => {
    const { agent, t } = await setup()
    await agent.get('/console/login')
    const res = await agent
      .post('/console/login')
      .type('form')
      .set('Accept', 'text/html')
      .send({ name: 'alice', password: PASSWORD })
    expect(res.status).toBe(403)
    expect(res.text).toContain('csrf_failed')
    await agent.get('/console').expect(303)

    // Signed in, a sign-out without the token leaves the session alone.
    await signIn(agent)
    const out = await agent
      .post('/console/logout')
      .type('form')
      .set('Accept', 'text/html')
      .send({ csrf: 'forged' })
    expect(out.status).toBe(403)
    expect(out.text).toContain('csrf_failed')
    await agent.get('/console').expect(200)
    expect((await auditActions(t)).map((a) => a.action)).toEqual(['console_sign_in'])
  })

  it('the members’ throttle applies: over the limit, 429 login_throttled even with the right password', async () => {
    const { agent } = await setup({
      throttle: { ip: { max: 50, windowMs: 60_000 }, account: { max: 2, windowMs: 60_000 } },
    })
    expect((await signIn(agent, 'wrong one here')).status).toBe(401)
    expect((await signIn(agent, 'wrong two here')).status).toBe(401)
    const res = await signIn(agent)
    expect(res.status).toBe(429)
    expect(codeOf(res.text)).toBe('login_throttled')
    expect(res.headers['retry-after']).toMatch(/^\d+$/)
    await agent.get('/console').expect(303)
  })
})

describe('/console TOTP step', () => {
  it('password then the right code signs in; the half session opens nothing', async () => {
    const { agent, code, t } = await setup({ totp: true })
    const pw = await signIn(agent)
    expect(pw.status).toBe(303)
    expect(pw.headers.location).toBe('/console/totp')
    // Password alone opens nothing but the TOTP form.
    await agent.get('/console').expect(303).expect('Location', '/console/totp')
    expect(await auditActions(t)).toEqual([])

    const form = await agent.get('/console/totp').expect(200)
    const wrong = await agent
      .post('/console/totp')
      .type('form')
      .send({ csrf: csrfOf(form.text), code: code() === '000000' ? '111111' : '000000' })
    expect(wrong.status).toBe(401)
    expect(codeOf(wrong.text)).toBe('totp_failed')
    await agent.get('/console').expect(303).expect('Location', '/console/totp')

    const ok = await agent
      .post('/console/totp')
      .type('form')
      .send({ csrf: csrfOf(wrong.text), code: code() })
    expect(ok.status).toBe(303)
    expect(ok.headers.location).toBe('/console')
    await agent.get('/console').expect(200)
    expect((await auditActions(t)).map((a) => a.action)).toEqual(['console_sign_in'])
  })

  it('a replayed code (already used, same step) is refused: 401 totp_replayed', async () => {
    const { agent, code } = await setup({ totp: true })
    const used = code()
    await signIn(agent)
    let form = await agent.get('/console/totp')
    await agent
      .post('/console/totp')
      .type('form')
      .send({ csrf: csrfOf(form.text), code: used })
      .expect(303)
    const home = await agent.get('/console').expect(200)
    await agent
      .post('/console/logout')
      .type('form')
      .send({ csrf: csrfOf(home.text) })
      .expect(303)

    // Another browser replays the same code within its 30 s step.
    const other = request.agent(t!.app)
    await signIn(other)
    form = await other.get('/console/totp')
    const replay = await other
      .post('/console/totp')
      .type('form')
      .send({ csrf: csrfOf(form.text), code: used })
    expect(replay.status).toBe(401)
    expect(codeOf(replay.text)).toBe('totp_replayed')
    await other.get('/console').expect(303).expect('Location', '/console/totp')
  })

  it('CONSOLE_REQUIRE_TOTP=true: an operator without TOTP is refused with totp_required', async () => {
    const { agent, t } = await setup({
      console: { requireTotp: true, idleMs: IDLE, absoluteMs: ABSOLUTE },
    })
    const res = await signIn(agent)
    expect(res.status).toBe(403)
    expect(res.text).toContain('totp_required')
    expect(res.text).toContain('operators totp alice')
    expect(String(res.headers['set-cookie'] ?? '')).not.toContain('sso_console=')
    await agent.get('/console').expect(303)
    expect(await auditActions(t)).toEqual([])
  })
})

describe('/console session lifetime', () => {
  it('idle timeout: a request just before keeps it; none for CONSOLE_IDLE_TIMEOUT ends it (401 console_session_expired)', async () => {
    const { agent, clock } = await setup()
    await signIn(agent)
    clock.now += IDLE - 1000
    await agent.get('/console').expect(200)
    clock.now += IDLE
    const res = await agent.get('/console')
    expect(res.status).toBe(401)
    expect(res.text).toContain('console_session_expired')
    // The session is gone, not only refused once.
    clock.now -= IDLE
    await agent.get('/console').expect(303)
  })

  it('absolute timeout: active all along, it still ends CONSOLE_ABSOLUTE_TIMEOUT after sign-in', async () => {
    const { agent, clock } = await setup()
    await signIn(agent)
    for (let spent = 0; spent + IDLE / 2 < ABSOLUTE; spent += IDLE / 2) {
      clock.now += IDLE / 2
      await agent.get('/console').expect(200)
    }
    clock.now += IDLE / 2
    const res = await agent.get('/console')
    expect(res.status).toBe(401)
    expect(res.text).toContain('console_session_expired')
  })

  it('an operator disabled mid-session is signed out at the next request (403 operator_disabled)', async () => {
    const { agent, t } = await setup()
    await signIn(agent)
    await agent.get('/console').expect(200)
    await t.services.operators.setDisabled('alice', true, 'cli')
    const res = await agent.get('/console')
    expect(res.status).toBe(403)
    expect(res.text).toContain('operator_disabled')
    // Enabled again, the old session does not come back.
    await t.services.operators.setDisabled('alice', false, 'cli')
    await agent.get('/console').expect(303).expect('Location', '/console/login')
    // And a disabled operator cannot sign in.
    await t.services.operators.setDisabled('alice', true, 'cli')
    const again = await signIn(agent)
    expect(again.status).toBe(403)
    expect(codeOf(again.text)).toBe('operator_disabled')
  })
})

describe('member and operator sessions are apart', () => {
  it('a member session cannot open the console, and an operator session is not a member session', async () => {
    const { agent, t } = await setup()
    const { account } = await t.services.accounts.put(
      'm1',
      { username: 'alice', email: 'alice@example.test', password: PASSWORD },
      'test',
    )
    const { cookie: member } = await signMemberIn(t.doors.login.sessions, account, ['pwd'])
    // The member's cookie, as itself or passed off as the console's: no console.
    await request(t.app).get('/console').set('Cookie', `sso_bridge=${member}`).expect(303)
    await request(t.app).get('/console').set('Cookie', `sso_console=${member}`).expect(303)
    // A member with the operator's name and password does not sign in to the console either:
    // only the operator table counts (here they share both, and it is the operator who signs in).
    const res = await signIn(agent)
    expect(res.status).toBe(303)
    const operatorCookie = /sso_console=([^;]+)/.exec(String(res.headers['set-cookie']))![1]!
    // The operator's session value opens no member page: /login shows the form, no redirect.
    await request(t.app)
      .get('/login?return_to=/docs')
      .set('Cookie', `sso_bridge=${operatorCookie}`)
      .expect(200)
    // While the member's own session does skip the form (the check above can fail).
    await request(t.app)
      .get('/login?return_to=/docs')
      .set('Cookie', `sso_bridge=${member}`)
      .expect(303)
  })
})
