/**
 * Site tickets, end to end over the real app (SQLite store, real OIDC provider): tickets signed
 * with jose, forged by hand, and signed by docs/site-tickets.md's own Node, PHP and Python snippets run as
 * subprocesses. Every refusal is checked to change nothing and to be logged with its code.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { decodeJwt, SignJWT } from 'jose'
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { createSessionManager } from '../../src/login/session.ts'
import { allowedReturnTo } from '../../src/login/routes/ticket.ts'
import {
  applyTicket,
  createTicketVerifier,
  TICKET_JTI_NAMESPACE,
  TicketRefused,
  type VerifiedTicket,
} from '../../src/login/ticket.ts'
import { auth, makeTestApp, type TestApp, type TestAppOptions } from '../helpers/app.ts'
import { docPage } from '../helpers/readme.ts'
import { NODE, PROCESS_TEST_TIMEOUT } from '../helpers/server.ts'
import { codeBlock, interpreter, runSnippet as runCode } from '../helpers/snippets.ts'

const ISSUER = 'http://localhost:3000'
const AUDIENCE = `${ISSUER}/ticket`
const SECRET = 'site-ticket-secret-for-tests-0123456789abcdef'
const SITE = 'https://www.example.com'
const CHAT = `${SITE}/chat?room=lobby`

let t: TestApp
const apps: TestApp[] = []
function app(opts: TestAppOptions = {}): TestApp {
  t = makeTestApp({ siteTicket: { secret: SECRET, origins: [SITE] }, ...opts })
  apps.push(t)
  return t
}
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close()
})

const now = () => Math.floor(Date.now() / 1000)

interface SignOptions {
  alg?: 'HS256' | 'RS256' | 'ES256'
  key?: KeyObject | Uint8Array
  iat?: number | null
  exp?: number | null
  aud?: string | null
  jti?: string | null
}

/** A ticket signed with jose; claims override, `null` leaves a registered claim out. */
async function sign(claims: Record<string, unknown>, o: SignOptions = {}): Promise<string> {
  const iat = o.iat === undefined ? now() : o.iat
  const body: Record<string, unknown> = { ...claims }
  if (iat !== null) body.iat = iat
  const exp = o.exp === undefined ? (iat ?? now()) + 60 : o.exp
  if (exp !== null) body.exp = exp
  const aud = o.aud === undefined ? AUDIENCE : o.aud
  if (aud !== null) body.aud = aud
  const jti = o.jti === undefined ? randomUUID() : o.jti
  if (jti !== null) body.jti = jti
  return new SignJWT(body)
    .setProtectedHeader({ alg: o.alg ?? 'HS256', typ: 'JWT' })
    .sign(o.key ?? new TextEncoder().encode(SECRET))
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

/** GET /ticket; `null` leaves a parameter out. */
function visit(ticket: string | null, returnTo: string | null = CHAT, cookie?: string) {
  const query: Record<string, string> = {}
  if (ticket !== null) query.ticket = ticket
  if (returnTo !== null) query.return_to = returnTo
  const req = request(t.app).get('/ticket').query(query)
  return cookie ? req.set('Cookie', `sso_bridge=${cookie}`) : req
}

function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const set = (res.headers['set-cookie'] as string[] | undefined) ?? []
  const line = set.find((c) => c.startsWith('sso_bridge='))
  return line ? decodeURIComponent(line.slice('sso_bridge='.length).split(';')[0]!) : undefined
}

const sessionsOf = (a: TestApp) => createSessionManager({ kv: a.services.store, ttlMs: 3_600_000 })
const account = async (id: string) =>
  (
    await request(t.app)
      .get(`/api/v1/users/${encodeURIComponent(id)}`)
      .set(auth)
  ).body
const accountCount = async () => t.services.store.countAccounts()
const codes = () => t.logs.filter((l) => l.msg === 'site ticket refused').map((l) => l.code)

/** A refusal: the page, no cookie, nothing written, the code in the log. */
async function expectRefused(
  res: request.Response,
  status: number,
  error: string,
  logCode: string,
) {
  expect(res.status).toBe(status)
  expect(res.type).toBe('text/html')
  expect(res.text).toContain(error)
  expect(res.headers['cache-control']).toBe('no-store')
  expect(sessionCookie(res)).toBeUndefined()
  expect(res.headers.location).toBeUndefined()
  expect(codes().at(-1)).toBe(logCode)
}

describe('site tickets: sign-in', () => {
  it('a valid ticket creates the account, signs the member in and redirects to return_to', async () => {
    app()
    const ticket = await sign({
      external_id: '42',
      username: 'Rob',
      email: 'rob@example.com',
      rank: 'moderator',
      profile: { names: { nicknames: ['Rob', 'Robbie'] } },
    })
    const before = now()
    const res = await visit(ticket)
    const after = now()
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe(CHAT)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['referrer-policy']).toBe('no-referrer')
    const setCookie = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('sso_bridge='),
    )!
    expect(setCookie).toMatch(/HttpOnly/)
    expect(setCookie).toMatch(/SameSite=Lax/)
    expect(setCookie).toMatch(/Path=\//)
    const stored = await account('42')
    expect(stored).toMatchObject({
      external_id: '42',
      username: 'Rob',
      email: 'rob@example.com',
      rank: 'moderator',
      status: 'active',
      profile: { names: { nicknames: ['Rob', 'Robbie'] } },
    })
    const session = await sessionsOf(t).get(sessionCookie(res))
    expect(session).toMatchObject({ account_id: stored.id, amr: ['ticket'] })
    // The sign-in's own clock reading, whatever the machine's speed: between the two around it.
    expect(session!.auth_time).toBeGreaterThanOrEqual(before)
    expect(session!.auth_time).toBeLessThanOrEqual(after)
    expect(t.logs.find((l) => l.msg === 'site ticket signed in')).toMatchObject({
      code: 'TICKET_SIGNED_IN',
      external_id: '42',
      created: true,
    })
  })

  it('POST /ticket (an auto-submitted form) works the same', async () => {
    app()
    const res = await request(t.app)
      .post('/ticket')
      .type('form')
      .send({ ticket: await sign({ external_id: 7 }), return_to: '/' })
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe(`${ISSUER}/`)
    expect(sessionCookie(res)).toBeTruthy()
    // An integer external_id is kept as its decimal string, as everywhere else.
    expect((await account('7')).external_id).toBe('7')
  })

  it('merges over the stored account: fields left out keep their values, the password stays', async () => {
    app()
    await request(t.app)
      .put('/api/v1/users/42')
      .set(auth)
      .send({
        username: 'Rob',
        email: 'rob@example.com',
        given_name: 'Robert',
        rank: 'owner',
        profile: { a: 1 },
        password: 'correct horse battery',
      })
      .expect(201)
    const before = await account('42')
    const res = await visit(await sign({ external_id: '42', nickname: 'Robbie', given_name: null }))
    expect(res.status).toBe(303)
    const after = await account('42')
    expect(after).toMatchObject({
      id: before.id,
      username: 'Rob',
      email: 'rob@example.com',
      nickname: 'Robbie',
      given_name: null,
      rank: 'owner',
      profile: { a: 1 },
      has_password: true,
    })
  })

  it('a ticket with only external_id writes nothing for an existing account', async () => {
    app()
    await request(t.app).put('/api/v1/users/42').set(auth).send({ username: 'Rob' }).expect(201)
    const before = await account('42')
    await new Promise((r) => setTimeout(r, 5))
    expect((await visit(await sign({ external_id: '42' }))).status).toBe(303)
    expect(await account('42')).toEqual(before)
  })

  it('starts a new session id and ends the one the browser had (fixation)', async () => {
    app()
    const first = sessionCookie(await visit(await sign({ external_id: '42' })))!
    const second = sessionCookie(await visit(await sign({ external_id: '43' }), CHAT, first))!
    expect(second).not.toBe(first)
    expect(await sessionsOf(t).get(first)).toBeNull()
    expect(await sessionsOf(t).get(second)).toMatchObject({ amr: ['ticket'] })
  })

  it('continues a pending OIDC interaction: the client gets its code, the id token names the member', async () => {
    app()
    const client = await request(t.app)
      .put('/api/v1/integrations/chat')
      .set(auth)
      .send({
        type: 'oidc',
        settings: { redirect_uris: ['https://chat.example.net/cb'], first_party: true },
      })
      .expect(201)
    const secret = client.body.generated_secrets.client_secret as string
    const browser = request.agent(t.app)
    const host = 'localhost:3000'
    const start = await browser.get('/auth').set('Host', host).query({
      client_id: 'chat',
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: 'https://chat.example.net/cb',
      state: 's-123',
      nonce: 'n-456',
    })
    expect(start.status).toBe(303)
    const interaction = new URL(start.headers.location!, ISSUER).pathname
    expect(interaction).toMatch(/^\/interaction\/[\w-]+$/)
    // No bridge session yet: the sign-in form.
    const form = await browser.get(interaction).set('Host', host)
    expect(form.status).toBe(200)
    expect(form.text).toContain('action="/interaction/')

    const ticketed = await browser
      .get('/ticket')
      .set('Host', host)
      .query({ ticket: await sign({ external_id: '42', username: 'Rob' }), return_to: interaction })
    expect(ticketed.status).toBe(303)
    expect(ticketed.headers.location).toBe(`${ISSUER}${interaction}`)

    let res = await browser.get(interaction).set('Host', host)
    for (let hops = 0; hops < 5 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.location!, ISSUER)
      if (next.origin !== ISSUER) break
      res = await browser.get(next.pathname + next.search).set('Host', host)
    }
    const callback = new URL(res.headers.location!)
    expect(callback.origin + callback.pathname).toBe('https://chat.example.net/cb')
    expect(callback.searchParams.get('state')).toBe('s-123')
    const code = callback.searchParams.get('code')
    expect(code).toBeTruthy()

    const token = await request(t.app)
      .post('/token')
      .set('Host', host)
      .auth('chat', secret)
      .type('form')
      .send({ grant_type: 'authorization_code', code, redirect_uri: 'https://chat.example.net/cb' })
    expect(token.status).toBe(200)
    const idToken = decodeJwt(token.body.id_token)
    expect(idToken).toMatchObject({ sub: '42', aud: 'chat', nonce: 'n-456' })
  })

  it('with CONFLICT_USERNAME=suffix, a username another account holds follows the rule (and the audit log says site-ticket)', async () => {
    app({ conflicts: { username: 'suffix', email: 'reject' } })
    await request(t.app).put('/api/v1/users/1').set(auth).send({ username: 'rob' }).expect(201)
    const res = await visit(await sign({ external_id: '2', username: 'Rob' }))
    expect(res.status).toBe(303)
    expect(await account('2')).toMatchObject({
      username: 'Rob_2',
      desired_username: 'Rob',
      stale: true,
    })
    expect((await account('1')).username).toBe('rob')
    const audit = (await request(t.app).get('/api/v1/audit').set(auth)).body.items
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'site-ticket',
        policy: 'suffix',
        field: 'username',
        account_external_id: '2',
        assigned_value: 'Rob_2',
      }),
    ])
    // A later ticket without a username re-applies the site's real one; still held, still suffixed.
    expect((await visit(await sign({ external_id: '2', nickname: 'R' }))).status).toBe(303)
    expect(await account('2')).toMatchObject({
      username: 'Rob_2',
      desired_username: 'Rob',
      nickname: 'R',
    })
  })
})

describe('site tickets: refusals change nothing', () => {
  it('expired ticket', async () => {
    app()
    await expectRefused(
      await visit(await sign({ external_id: '42' }, { iat: now() - 200, exp: now() - 100 })),
      400,
      'ticket_expired',
      'ERR_TICKET_EXPIRED',
    )
    expect(await accountCount()).toBe(0)
  })

  it('tampered ticket (payload changed, signature kept)', async () => {
    app()
    const [h, , s] = (await sign({ external_id: '42', rank: 'regular' })).split('.')
    const forged = `${h}.${b64({ external_id: '42', rank: 'owner', aud: AUDIENCE, iat: now(), exp: now() + 60, jti: randomUUID() })}.${s}`
    await expectRefused(await visit(forged), 400, 'ticket_invalid', 'ERR_TICKET_INVALID')
    expect(t.logs.at(-2)).toMatchObject({ reason: 'signature' })
    // Signed with another secret: the same.
    await expectRefused(
      await visit(
        await sign(
          { external_id: '42' },
          { key: new TextEncoder().encode('another-secret-of-at-least-32-bytes!!') },
        ),
      ),
      400,
      'ticket_invalid',
      'ERR_TICKET_INVALID',
    )
    await expectRefused(await visit('not.a.jwt'), 400, 'ticket_invalid', 'ERR_TICKET_INVALID')
    await expectRefused(await visit(null), 400, 'ticket_invalid', 'ERR_TICKET_INVALID')
    expect(await accountCount()).toBe(0)
  })

  it('replayed ticket: the second use is refused', async () => {
    app()
    const ticket = await sign({ external_id: '42', nickname: 'first' })
    expect((await visit(ticket)).status).toBe(303)
    await request(t.app)
      .put('/api/v1/users/42')
      .set(auth)
      .send({ nickname: 'changed by admin' })
      .expect(200)
    await expectRefused(await visit(ticket), 400, 'ticket_replayed', 'ERR_TICKET_REPLAYED')
    await expectRefused(
      await request(t.app).post('/ticket').type('form').send({ ticket, return_to: CHAT }),
      400,
      'ticket_replayed',
      'ERR_TICKET_REPLAYED',
    )
    expect((await account('42')).nickname).toBe('changed by admin')
  })

  it('replay: of concurrent uses of one ticket, exactly one wins', async () => {
    app()
    const verifier = createTicketVerifier({
      secret: SECRET,
      audience: AUDIENCE,
      kv: t.services.store,
    })
    const ticket = await sign({ external_id: '42' })
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => verifier.verify(ticket)),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    for (const r of results.filter((r) => r.status === 'rejected'))
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_TICKET_REPLAYED' })
    // The jti is remembered only until the ticket could no longer be accepted anyway.
    const entry = await t.services.store.kvGet(TICKET_JTI_NAMESPACE, decodeJwt(ticket).jti!)
    expect(entry!.expiresAt! - Date.now()).toBeLessThanOrEqual(67_000)
  })

  it('wrong audience', async () => {
    app()
    for (const aud of [ISSUER, 'https://other.example.com/ticket', null]) {
      await expectRefused(
        await visit(await sign({ external_id: '42' }, { aud })),
        400,
        'ticket_audience',
        'ERR_TICKET_AUDIENCE',
      )
    }
    expect(await accountCount()).toBe(0)
  })

  it('alg mismatch: HS256 or alg none when only a public key is configured', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string
    app({ siteTicket: { publicKey: pem, origins: [SITE] } })
    // HS256 with a secret, and the classic confusion: HS256 keyed with the public key's PEM.
    await expectRefused(
      await visit(await sign({ external_id: '42' })),
      400,
      'ticket_invalid',
      'ERR_TICKET_INVALID',
    )
    expect(t.logs.at(-2)).toMatchObject({ reason: 'alg' })
    await expectRefused(
      await visit(await sign({ external_id: '42' }, { key: new TextEncoder().encode(pem) })),
      400,
      'ticket_invalid',
      'ERR_TICKET_INVALID',
    )
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ external_id: '42', aud: AUDIENCE, iat: now(), exp: now() + 60, jti: randomUUID() })}.`
    await expectRefused(await visit(none), 400, 'ticket_invalid', 'ERR_TICKET_INVALID')
    expect(await accountCount()).toBe(0)
    // The registered key's own algorithm works.
    expect(
      (await visit(await sign({ external_id: '42' }, { alg: 'ES256', key: privateKey }))).status,
    ).toBe(303)
  })

  it('alg mismatch: an RS256 ticket when only the secret is configured; RS256 works with an RSA public key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    app()
    await expectRefused(
      await visit(await sign({ external_id: '42' }, { alg: 'RS256', key: privateKey })),
      400,
      'ticket_invalid',
      'ERR_TICKET_INVALID',
    )
    app({
      siteTicket: {
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
        origins: [SITE],
      },
    })
    expect(
      (await visit(await sign({ external_id: '42' }, { alg: 'RS256', key: privateKey }))).status,
    ).toBe(303)
  })

  it('exp too far: a lifetime over 120 s, or no exp, iat or jti at all', async () => {
    app()
    await expectRefused(
      await visit(await sign({ external_id: '42' }, { exp: now() + 121 })),
      400,
      'ticket_invalid',
      'ERR_TICKET_INVALID',
    )
    expect(t.logs.at(-2)).toMatchObject({ reason: 'lifetime_too_long' })
    await expectRefused(
      await visit(await sign({ external_id: '42' }, { iat: now() + 60, exp: now() + 120 })),
      400,
      'ticket_invalid',
      'ERR_TICKET_INVALID',
    )
    for (const missing of ['exp', 'iat', 'jti'] as const) {
      await expectRefused(
        await visit(await sign({ external_id: '42' }, { [missing]: null })),
        400,
        'ticket_invalid',
        'ERR_TICKET_INVALID',
      )
    }
    expect(await accountCount()).toBe(0)
    // 120 s exactly is fine.
    expect((await visit(await sign({ external_id: '42' }, { exp: now() + 120 }))).status).toBe(303)
  })

  it('unknown claims, status, passwords and bad account fields are refused', async () => {
    app()
    for (const claims of [
      { external_id: '42', emial: 'x@example.com' },
      { external_id: '42', status: 'active' },
      { external_id: '42', password: 'hunter2hunter2' },
      { external_id: '42', email: 'not an email' },
      { username: 'Rob' },
    ]) {
      await expectRefused(
        await visit(await sign(claims)),
        400,
        'ticket_invalid',
        'ERR_TICKET_INVALID',
      )
    }
    expect(await accountCount()).toBe(0)
  })

  for (const [name, returnTo] of [
    ['a foreign origin', 'https://evil.example/'],
    ['a look-alike host', 'https://www.example.com.evil.example/chat'],
    ['the allowed host over another scheme', 'http://www.example.com/chat'],
    ['a protocol-relative URL', '//evil.example'],
    ['a backslash path', '/\\evil.example'],
    ['a javascript: URL', 'javascript:alert(document.cookie)'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['credentials in the URL', 'https://user:pw@www.example.com/'],
    ['a tab-split path', '/\t/evil.example'],
    ['nothing', null],
  ] as const) {
    it(`return_to: ${name} is refused, and the ticket stays usable`, async () => {
      app()
      const ticket = await sign({ external_id: '42' })
      await expectRefused(
        await visit(ticket, returnTo),
        400,
        'return_to_invalid',
        'ERR_TICKET_RETURN_TO',
      )
      expect(await accountCount()).toBe(0)
      expect((await visit(ticket, CHAT)).status).toBe(303)
    })
  }

  it('return_to: allowed targets are this server and the configured origins only', () => {
    const origins = new Set([SITE])
    expect(allowedReturnTo('/interaction/abc?x=1#y', ISSUER, origins)).toBe(
      `${ISSUER}/interaction/abc?x=1#y`,
    )
    expect(allowedReturnTo(`${ISSUER}/me`, ISSUER, origins)).toBe(`${ISSUER}/me`)
    expect(allowedReturnTo('https://www.example.com', ISSUER, origins)).toBe(
      'https://www.example.com/',
    )
    expect(allowedReturnTo('https://WWW.EXAMPLE.COM:443/x', ISSUER, origins)).toBe(
      'https://www.example.com/x',
    )
    // Normalised first (web-return-to.test.ts): `/.//evil.example` is the path `//evil.example`.
    expect(allowedReturnTo('/.//evil.example', ISSUER, origins)).toBeNull()
    for (const bad of [
      'https://www.example.com:8443/',
      'relative/path',
      '',
      ' /x',
      'https://evil.example\\@www.example.com/',
      ['/a'],
      42,
    ]) {
      expect(allowedReturnTo(bad, ISSUER, origins), String(bad)).toBeNull()
    }
  })

  it('a disabled account is refused and stays as it was', async () => {
    app()
    await request(t.app)
      .put('/api/v1/users/42')
      .set(auth)
      .send({ username: 'Rob', status: 'disabled' })
      .expect(201)
    const before = await account('42')
    await expectRefused(
      await visit(await sign({ external_id: '42', username: 'Robert' })),
      403,
      'account_disabled',
      'ERR_TICKET_ACCOUNT_DISABLED',
    )
    await expectRefused(
      await visit(await sign({ external_id: '42' })),
      403,
      'account_disabled',
      'ERR_TICKET_ACCOUNT_DISABLED',
    )
    expect(await account('42')).toEqual(before)
  })

  it("an account disabled between the ticket's read and its write (another process) is neither changed nor re-enabled", async () => {
    app()
    await request(t.app).put('/api/v1/users/42').set(auth).send({ username: 'Rob' }).expect(201)
    const asReadByTheTicket = await t.services.accounts.get('42') // active
    await request(t.app)
      .put('/api/v1/users/42')
      .set(auth)
      .send({ username: 'Rob', status: 'disabled' })
      .expect(200)
    const before = await account('42')
    // applyTicket's read comes back with the account as it was; its write meets the disabled one.
    const staleReads = { ...t.services.accounts, get: async () => asReadByTheTicket }
    const ticket: VerifiedTicket = {
      externalId: '42',
      fields: { nickname: 'Robbie' },
      jti: randomUUID(),
      exp: Math.floor(Date.now() / 1000) + 60,
    }
    await expect(applyTicket(staleReads, ticket)).rejects.toMatchObject({
      name: 'TicketRefused',
      code: 'ERR_TICKET_ACCOUNT_DISABLED',
    })
    expect(await account('42')).toEqual(before)
  })

  it('a conflict the rules refuse (CONFLICT_USERNAME=reject) is a 409 page; no account, no session', async () => {
    app()
    await request(t.app).put('/api/v1/users/1').set(auth).send({ username: 'rob' }).expect(201)
    await expectRefused(
      await visit(await sign({ external_id: '2', username: 'ROB' })),
      409,
      'username_taken',
      'ERR_TICKET_CONFLICT',
    )
    expect(await accountCount()).toBe(1)
  })

  it('no token or secret in the logs; every refusal logged with its code', async () => {
    app()
    const good = await sign({ external_id: '42' })
    const expired = await sign({ external_id: '43' }, { iat: now() - 300, exp: now() - 200 })
    const foreign = await sign({ external_id: '44' }, { aud: ISSUER })
    const tickets = [good, expired, foreign]
    await visit(good) // signs in
    await visit(good) // replayed
    await visit(expired)
    await visit(foreign) // audience
    await visit(good, 'https://evil.example/') // return_to
    await request(t.app).post('/ticket').type('form').send({ ticket: good, return_to: CHAT })
    expect(codes()).toEqual([
      'ERR_TICKET_REPLAYED',
      'ERR_TICKET_EXPIRED',
      'ERR_TICKET_AUDIENCE',
      'ERR_TICKET_RETURN_TO',
      'ERR_TICKET_REPLAYED',
    ])
    // A refused return_to is logged by its origin only (to help set SITE_ORIGINS).
    expect(t.logs.find((l) => l.code === 'ERR_TICKET_RETURN_TO')).toMatchObject({
      reason: 'not_allowed',
      return_to_origin: 'https://evil.example',
    })
    const text = t.logText()
    expect(text).not.toContain(SECRET)
    for (const ticket of tickets)
      for (const part of ticket.split('.')) expect(text).not.toContain(part)
    expect(text).not.toContain('ticket=')
    // The request lines are there, without their query strings.
    expect(
      t.logs.filter((l) => l.msg === 'request' && (l.req as { path: string }).path === '/ticket'),
    ).toHaveLength(6)
  })

  it('HEAD (link checkers) does not use a ticket up', async () => {
    app()
    const ticket = await sign({ external_id: '42' })
    expect((await request(t.app).head('/ticket').query({ ticket, return_to: CHAT })).status).toBe(
      405,
    )
    expect((await visit(ticket)).status).toBe(303)
  })

  it('without a ticket key, /ticket answers 404', async () => {
    app({ siteTicket: { origins: [SITE] } })
    await expectRefused(
      await visit(await sign({ external_id: '42' })),
      404,
      'not_found',
      'ERR_TICKET_DISABLED',
    )
    t = makeTestApp()
    apps.push(t)
    await expectRefused(
      await visit(await sign({ external_id: '42' })),
      404,
      'not_found',
      'ERR_TICKET_DISABLED',
    )
  })

  it('the verifier refuses weak or unusable keys up front', () => {
    const kv = makeTestApp().services.store
    expect(() => createTicketVerifier({ secret: 'short', audience: AUDIENCE, kv })).toThrow(
      /32 bytes/,
    )
    expect(() => createTicketVerifier({ audience: AUDIENCE, kv })).toThrow(/secret or a public key/)
    const ed = generateKeyPairSync('ed25519').publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string
    expect(() => createTicketVerifier({ publicKey: ed, audience: AUDIENCE, kv })).toThrow(
      /unsupported key type/,
    )
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey
    expect(() => createTicketVerifier({ publicKey: p384, audience: AUDIENCE, kv })).toThrow(/P-256/)
    expect(new TicketRefused('ERR_TICKET_EXPIRED', 'exp').message).not.toMatch(/eyJ/)
  })
})

describe('site tickets: the signing snippets of docs/site-tickets.md, run as written', () => {
  const section = docPage('site-tickets')
  const block = (lang: string) =>
    codeBlock(section, lang).replaceAll('https://sso.example.com', ISSUER)
  const which = interpreter
  const runSnippet = (command: string, file: string, code: string) =>
    runCode(command, file, code, { SITE_TICKET_SECRET: SECRET })
  /** Follows the URL a snippet printed, as the member's browser would. */
  async function follow(url: string, externalId: string, expected: Record<string, unknown>) {
    const u = new URL(url)
    expect(u.origin + u.pathname).toBe(AUDIENCE)
    const res = await request(t.app).get(u.pathname + u.search)
    expect(res.status, res.text).toBe(303)
    expect(res.headers.location).toBe(CHAT)
    expect(await sessionsOf(t).get(sessionCookie(res))).toMatchObject({ amr: ['ticket'] })
    expect(await account(externalId)).toMatchObject(expected)
    // Each printed URL works once.
    expect((await request(t.app).get(u.pathname + u.search)).status).toBe(400)
  }

  it(
    'Node.js (node:crypto only)',
    async () => {
      app()
      const out = await runSnippet(
        NODE,
        'ticket.mjs',
        `${block('js')}\nconsole.log(siteTicketUrl({ external_id: '42', username: 'Zoë', email: 'zoe@example.com', profile: { names: { nicknames: ['Zo'] } } }, ${JSON.stringify(CHAT)}))\n`,
      )
      await follow(out, '42', {
        username: 'Zoë',
        email: 'zoe@example.com',
        profile: { names: { nicknames: ['Zo'] } },
      })
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'PHP (hash_hmac only)',
    async () => {
      app()
      const php = which('/usr/bin/php', 'php')
      const out = await runSnippet(
        php,
        'ticket.php',
        `${block('php')}\necho site_ticket_url(['external_id' => 1001, 'username' => 'Zoë', 'email_verified' => true, 'profile' => ['bio' => 'a/b']], ${JSON.stringify(CHAT)}), "\\n";\n`,
      )
      await follow(out, '1001', { username: 'Zoë', email_verified: true, profile: { bio: 'a/b' } })
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'Python (hmac only)',
    async () => {
      app()
      const python = which('/usr/bin/python3', 'python3')
      const out = await runSnippet(
        python,
        'ticket.py',
        `${block('python')}\nprint(site_ticket_url({'external_id': 'u-7', 'username': 'Zoë', 'rank': 'manager', 'timezone': 'Europe/Paris'}, ${JSON.stringify(CHAT)}))\n`,
      )
      await follow(out, 'u-7', { username: 'Zoë', rank: 'manager', timezone: 'Europe/Paris' })
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('site tickets: CONFLICT_*=prompt', () => {
  const cookieOf = (res: request.Response, name: string) =>
    ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith(`${name}=`))

  it('asks for another username, then signs in with it; a taken answer asks again; nothing is written until then', async () => {
    app({ conflicts: { username: 'prompt', email: 'reject' } })
    await request(t.app).put('/api/v1/users/holder').set(auth).send({ username: 'Rob' }).expect(201)
    const first = await request(t.app)
      .get('/ticket')
      .query({ ticket: await sign({ external_id: 'newbie', username: 'rob' }), return_to: CHAT })
    expect(first.status).toBe(409)
    expect(first.text).toContain('Choose another username')
    expect(cookieOf(first, 'sso_bridge')).toBeUndefined()
    await request(t.app).get('/api/v1/users/newbie').set(auth).expect(404)
    const action = /action="(\/ticket\/prompt\/[^"]+)"/.exec(first.text)![1]!
    const csrf = /name="csrf" value="([^"]+)"/.exec(first.text)![1]!
    const csrfCookie = cookieOf(first, 'sso_csrf')!

    // Another member's name again: the page comes back with the reason.
    const again = await request(t.app)
      .post(action)
      .set('Cookie', csrfCookie)
      .type('form')
      .send({ csrf, value: 'ROB' })
    expect(again.status).toBe(409)
    expect(again.text).toMatch(/role="alert"[^>]*>That username is taken too/)

    // Without the browser's CSRF token the answer is refused.
    expect(
      (await request(t.app).post(action).type('form').send({ csrf, value: 'robbie' })).status,
    ).toBe(403)

    const done = await request(t.app)
      .post(action)
      .set('Cookie', csrfCookie)
      .type('form')
      .send({ csrf, value: 'robbie' })
    expect(done.status).toBe(303)
    expect(done.headers.location).toBe(CHAT)
    expect(cookieOf(done, 'sso_bridge')).toBeDefined()
    expect((await request(t.app).get('/api/v1/users/newbie').set(auth)).body).toMatchObject({
      username: 'robbie',
    })
    expect((await request(t.app).get('/api/v1/users/holder').set(auth)).body).toMatchObject({
      username: 'Rob',
    })
    // The pending answer is used up.
    expect(
      (
        await request(t.app)
          .post(action)
          .set('Cookie', csrfCookie)
          .type('form')
          .send({ csrf, value: 'robbie2' })
      ).status,
    ).toBe(400)
    expect(t.logText()).toContain('TICKET_CONFLICT_PROMPT')
  })

  it('the prompt page escapes the value the site sent', async () => {
    app({ conflicts: { username: 'prompt', email: 'reject' } })
    await request(t.app)
      .put('/api/v1/users/holder')
      .set(auth)
      .send({ username: '<b>x</b>' })
      .expect(201)
    const res = await request(t.app)
      .get('/ticket')
      .query({ ticket: await sign({ external_id: 'n', username: '<B>X</B>' }), return_to: CHAT })
    expect(res.status).toBe(409)
    expect(res.text).not.toContain('<B>X</B>')
    expect(res.text).toContain('&#60;B&#62;X&#60;/B&#62;')
  })
})
