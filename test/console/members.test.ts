/**
 * The console's Members pages over real HTTP (supertest on the real app, real SQLite): search by
 * username, email and external id; a member's page after a real password sign-in and a real
 * token issue; edit (with a conflict), disable/enable, delete behind its confirmation, sign out
 * everywhere ending a real bridge session; each change in the operator audit log with the
 * operator as actor; an unknown id and forms without their CSRF token refused, nothing changed.
 */
import request from 'supertest'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createStore } from '../../src/store/index.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { consoleAgent, type ConsoleAgent } from '../helpers/console.ts'
import { dropFreshSchemas, freshSchemaUrl, postgresUrl } from '../helpers/pg.ts'
import { integrations, MINNIT_KEY, ROB } from '../tokens/helpers/fixtures.ts'
import { referenceDecrypt } from '../tokens/helpers/minnit-reference.ts'

const PASSWORD = 'member password 0123'

let t: TestApp
let c: ConsoleAgent

beforeEach(async () => {
  t = makeTestApp()
  for (const [id, fields] of [
    ['42', { ...ROB, password: PASSWORD }],
    ['43', { username: 'Robin', email: 'robin@example.org' }],
    ['ext-7', { username: 'zed', email: 'zed@example.net' }],
  ] as const)
    await request(t.app).put(`/api/v1/users/${id}`).set(auth).send(fields).expect(201)
  await request(t.app)
    .put('/api/v1/integrations/minnit')
    .set(auth)
    .send(integrations.minnit)
    .expect(201)
  c = await consoleAgent(t)
})
afterEach(async () => {
  await t.close()
})

/** The external ids listed in a members page's results, in order. */
const listed = (html: string) =>
  [...html.matchAll(/<td><code>([^<]*)<\/code><\/td>/g)].map((m) => m[1])

/** A real password sign-in at /login: the bridge-session cookie. */
async function signIn(login: string): Promise<string> {
  const page = await request(t.app).get('/login').query({ return_to: '/healthz' }).expect(200)
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!
  const cookies = (page.headers['set-cookie'] as unknown as string[]).map((s) => s.split(';')[0])
  const res = await request(t.app)
    .post('/login')
    .query({ return_to: '/healthz' })
    .set('Cookie', cookies.join('; '))
    .type('form')
    .send({ csrf, username: login, password: PASSWORD })
  expect(res.status, res.text).toBe(303)
  const session = (res.headers['set-cookie'] as unknown as string[])
    .map((s) => s.split(';')[0]!)
    .find((s) => s.startsWith('sso_bridge='))
  expect(session).toBeDefined()
  return session!
}

const audit = async () =>
  (await t.services.store.listOperatorAudit(100)).filter((e) => e.target.startsWith('member:'))

describe('search', () => {
  it('finds by username prefix (any case), email prefix and external id; the first result is marked data-detail', async () => {
    const byName = await c.agent.get('/console/members').query({ q: 'ROB', by: 'username' })
    expect(byName.status).toBe(200)
    expect(listed(byName.text)).toEqual(['42', '43'])
    expect(byName.text).toMatch(/<a href="\/console\/members\/42" data-detail>Rob<\/a>/)

    const byEmail = await c.agent.get('/console/members').query({ q: 'zed@EX', by: 'email' })
    expect(listed(byEmail.text)).toEqual(['ext-7'])
    const byId = await c.agent.get('/console/members').query({ q: 'ext-', by: 'external_id' })
    expect(listed(byId.text)).toEqual(['ext-7'])
    // `any`: username matches, then email, then external id, each member once.
    const any = await c.agent.get('/console/members').query({ q: 'r' })
    expect(listed(any.text)).toEqual(['42', '43'])
    const none = await c.agent.get('/console/members').query({ q: 'nobody' })
    expect(none.text).toContain('No member matches')
    expect(listed(none.text)).toEqual([])
  })

  it('pages through results with its cursor, every member once', async () => {
    for (let i = 0; i < 55; i++)
      await t.services.accounts.put(`p${i}`, { username: `page${String(i).padStart(2, '0')}` })
    const first = await c.agent.get('/console/members').query({ q: 'page' })
    expect(listed(first.text)).toHaveLength(50)
    const next = /rel="next" href="([^"]+)"/.exec(first.text)![1]!.replaceAll('&#38;', '&')
    const second = await c.agent.get(next).expect(200)
    const all = [...listed(first.text), ...listed(second.text)]
    expect(all).toHaveLength(55)
    expect(new Set(all).size).toBe(55)
    expect(second.text).not.toContain('rel="next"')
  })

  it('lists everyone without a query; a bad cursor or an over-long query is a 400 naming it', async () => {
    const all = await c.agent.get('/console/members').expect(200)
    expect(listed(all.text)).toEqual(['42', '43', 'ext-7'])
    const bad = await c.agent.get('/console/members').query({ q: 'r', cursor: 'nope' })
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('cursor: is not a cursor this server gave')
    const long = await c.agent.get('/console/members').query({ q: 'x'.repeat(300) })
    expect(long.status).toBe(400)
    expect(long.text).toContain('data-code="validation_failed"')
  })
})

describe('a member', () => {
  it('shows every field, sign-ins and tokens per integration after a real sign-in and token issue, and live sessions', async () => {
    await t.services.accounts.put(
      '42',
      { ...ROB, profile: { names: { first: 'Rob' } }, password: PASSWORD },
      'test',
    )
    await signIn('Rob')
    const issued = await request(t.app)
      .post('/api/v1/integrations/minnit/tokens')
      .set(auth)
      .send({ external_id: '42' })
      .expect(200)
    expect(JSON.parse(referenceDecrypt(MINNIT_KEY, issued.body.token))).toMatchObject({
      userid: '42',
    })
    const page = await c.agent.get('/console/members/42')
    expect(page.status).toBe(200)
    expect(page.text).toContain('<dd id="field-nickname">Robbie</dd>')
    expect(page.text).toContain('<dd id="field-rank">moderator</dd>')
    expect(page.text).toMatch(/<pre id="field-profile">[^<]*&#34;first&#34;: &#34;Rob&#34;/)
    expect(page.text).toMatch(
      /<tr data-integration="minnit">[\s\S]*?<td class="sign-ins">0<\/td><td class="issued">1<\/td>/,
    )
    expect(page.text).toMatch(
      /<tr data-integration="">[\s\S]*?<td class="sign-ins">1<\/td><td class="issued">0<\/td>/,
    )
    expect(page.text).toContain('<dd id="bridge-sessions">1</dd>')
    expect(page.text).toContain('<dd id="oidc-sessions">0</dd>')
    // No secret of any kind on the page.
    expect(page.text).not.toContain(MINNIT_KEY)
    expect(page.text).not.toContain(issued.body.token)
    expect(page.text).not.toMatch(/argon2|password_hash/)
  })

  it('an unknown id is a 404 page with its code, on every route, and nothing changes', async () => {
    const view = await c.agent.get('/console/members/nobody')
    expect(view.status).toBe(404)
    expect(view.text).toContain('data-code="user_not_found"')
    for (const path of ['', '/status', '/sessions', '/delete'])
      expect((await c.post(`/console/members/nobody${path}`, { status: 'disabled' })).status).toBe(
        404,
      )
    expect((await c.agent.get('/console/members/nobody/delete')).status).toBe(404)
    expect(await audit()).toEqual([])
  })
})

describe('changes', () => {
  it('edits with the admin API’s rules: saved and audited; a taken username is a 409 at the field, nothing saved', async () => {
    const page = await c.agent.get('/console/members/43').expect(200)
    const form = {
      username: 'Robin',
      email: 'robin@example.org',
      nickname: 'Birdy',
      given_name: '',
      family_name: '',
      picture: '',
      title: '',
      locale: '',
      timezone: '',
      rank: 'manager',
      profile: '{"team": "blue"}',
    }
    expect(page.text).toContain('name="nickname"')
    const saved = await c.post('/console/members/43', form)
    expect(saved.status).toBe(303)
    expect(saved.headers.location).toBe('/console/members/43?notice=member_saved')
    const after = await t.services.accounts.get('43')
    expect(after).toMatchObject({ nickname: 'Birdy', rank: 'manager', profile: { team: 'blue' } })
    expect((await c.agent.get(saved.headers.location!)).text).toContain(
      'data-notice="member_saved"',
    )

    const conflict = await c.post('/console/members/43', {
      ...form,
      username: 'ROB',
      nickname: 'X',
    })
    expect(conflict.status).toBe(409)
    expect(conflict.text).toMatch(
      /<p class="field-error" id="username-error" data-field="username">is already used by another member<\/p>/,
    )
    expect(conflict.text).toContain('value="ROB"') // the form keeps what was typed
    expect((await t.services.accounts.get('43')).nickname).toBe('Birdy')

    const invalid = await c.post('/console/members/43', { ...form, email: 'nope', profile: '[' })
    expect(invalid.status).toBe(400)
    expect(invalid.text).toContain('id="profile-error"')
    const invalidEmail = await c.post('/console/members/43', { ...form, email: 'nope' })
    expect(invalidEmail.status).toBe(400)
    expect(invalidEmail.text).toContain('id="email-error"')
    expect((await t.services.accounts.get('43')).email).toBe('robin@example.org')
    expect(await audit()).toEqual([
      expect.objectContaining({
        actor: 'operator:operator',
        action: 'member_updated',
        target: 'member:43',
      }),
    ])
  })

  it('disable ends the member’s sessions and refuses their sign-in; enable lets them back; both audited', async () => {
    const session = await signIn('Rob')
    const live = await request(t.app).get('/tokens/minnit').set('Cookie', session)
    expect(live.status).toBe(200)
    const disabled = await c.post('/console/members/42/status', { status: 'disabled' })
    expect(disabled.status).toBe(303)
    expect((await t.services.accounts.get('42')).status).toBe('disabled')
    expect((await request(t.app).get('/tokens/minnit').set('Cookie', session)).status).toBe(401)
    expect((await t.services.accounts.authenticate('Rob', PASSWORD)).ok).toBe(false)
    // Nothing else of the account changed.
    expect(await t.services.accounts.get('42')).toMatchObject({ ...ROB, status: 'disabled' })
    expect((await c.post('/console/members/42/status', { status: 'active' })).status).toBe(303)
    expect((await t.services.accounts.authenticate('Rob', PASSWORD)).ok).toBe(true)
    expect((await c.post('/console/members/42/status', { status: 'gone' })).status).toBe(400)
    expect((await audit()).map((e) => e.action)).toEqual(['member_disabled', 'member_enabled'])
  })

  it('sign out everywhere ends a real bridge session', async () => {
    const session = await signIn('rob@example.com')
    expect((await request(t.app).get('/tokens/minnit').set('Cookie', session)).status).toBe(200)
    const res = await c.post('/console/members/42/sessions', {})
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe('/console/members/42?notice=member_signed_out')
    expect((await request(t.app).get('/tokens/minnit').set('Cookie', session)).status).toBe(401)
    expect((await c.agent.get('/console/members/42')).text).toContain(
      '<dd id="bridge-sessions">0</dd>',
    )
    expect(await audit()).toEqual([
      expect.objectContaining({
        actor: 'operator:operator',
        action: 'member_signed_out',
        target: 'member:42',
      }),
    ])
  })

  it('delete needs the username typed on its confirmation page; then the member is gone', async () => {
    const confirm = await c.agent.get('/console/members/42/delete').expect(200)
    expect(confirm.text).toContain('Type <strong>Rob</strong> to confirm')
    const wrong = await c.post('/console/members/42/delete', { confirm: 'Robert' })
    expect(wrong.status).toBe(400)
    expect(wrong.text).toContain('Not deleted')
    expect(await t.services.accounts.get('42')).toBeDefined()
    const done = await c.post('/console/members/42/delete', { confirm: 'Rob' })
    expect(done.status).toBe(303)
    expect(done.headers.location).toBe('/console/members?notice=member_deleted')
    await expect(t.services.accounts.get('42')).rejects.toMatchObject({
      code: 'ERR_ACCOUNT_NOT_FOUND',
    })
    expect((await audit()).map((e) => e.action)).toEqual(['member_deleted'])
  })

  it('refuses every form without its CSRF token (403 csrf_failed), nothing changed', async () => {
    const session = await signIn('Rob')
    for (const [path, form] of [
      ['/console/members/42', { username: 'hijack', rank: 'owner', profile: '{}' }],
      ['/console/members/42/status', { status: 'disabled' }],
      ['/console/members/42/sessions', {}],
      ['/console/members/42/delete', { confirm: 'Rob' }],
    ] as const) {
      const res = await c.agent.post(path).type('form').send(form)
      expect(res.status, path).toBe(403)
      expect(res.text).toContain('csrf_failed')
    }
    expect(await t.services.accounts.get('42')).toMatchObject({ ...ROB, status: 'active' })
    expect((await request(t.app).get('/tokens/minnit').set('Cookie', session)).status).toBe(200)
    expect(await audit()).toEqual([])
  })

  it('a signed-out console cannot open or change a member', async () => {
    const anonymous = request.agent(t.app)
    const res = await anonymous.get('/console/members/42')
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe('/console/login')
    expect(
      (await anonymous.post('/console/members/42/status').type('form').send({ status: 'disabled' }))
        .status,
    ).toBe(303)
    expect((await t.services.accounts.get('42')).status).toBe('active')
  })
})

describe('escaping', () => {
  it('a member whose fields hold markup is shown as text in the results and on their page', async () => {
    const evil = '<img src=x onerror=alert(1)>'
    await t.services.accounts.put('"><b>x', {
      username: evil,
      nickname: '</dd><script>alert(1)</script>',
      profile: { bio: '</pre><script>alert(2)</script>' },
    })
    const results = await c.agent.get('/console/members').query({ q: '<img', by: 'username' })
    expect(results.status).toBe(200)
    expect(results.text).not.toContain(evil)
    expect(results.text).toContain('&#60;img src=x onerror=alert(1)&#62;')
    const page = await c.agent.get(`/console/members/${encodeURIComponent('"><b>x')}`)
    expect(page.status).toBe(200)
    expect(page.text).not.toMatch(/<script>alert|<img src=x|"><b>x/)
  })
})

describe('oversized input', () => {
  it('an edit form over the body limit is a 413, not a 500; nothing saved', async () => {
    const res = await c.post('/console/members/43', {
      username: 'Robin',
      rank: 'regular',
      profile: JSON.stringify({ big: 'x'.repeat(200_000) }),
    })
    expect(res.status).toBe(413)
    expect((await t.services.accounts.get('43')).profile).toEqual({})
  })
})

describe('on PostgreSQL', () => {
  afterAll(() => dropFreshSchemas())

  it('searches each way, shows a member and disables them, as on SQLite', async () => {
    if (!postgresUrl()) throw new Error('PostgreSQL not available')
    const { url } = await freshSchemaUrl('sso_console_members')
    const pg = makeTestApp({ store: await createStore({ kind: 'postgres', url, file: '' }) })
    try {
      for (const [id, fields] of [
        ['42', ROB],
        ['43', { username: 'Robin', email: 'robin@example.org' }],
        ['ext-7', { username: 'zed', email: 'zed@example.net' }],
      ] as const)
        await pg.services.accounts.put(id, fields)
      const pc = await consoleAgent(pg)
      const search = async (q: string, by: string) =>
        listed((await pc.agent.get('/console/members').query({ q, by }).expect(200)).text)
      expect(await search('ROB', 'username')).toEqual(['42', '43'])
      expect(await search('zed@EX', 'email')).toEqual(['ext-7'])
      expect(await search('ext-', 'external_id')).toEqual(['ext-7'])
      expect(await search('r', 'any')).toEqual(['42', '43'])
      const page = await pc.agent.get('/console/members/42').expect(200)
      expect(page.text).toContain('<dd id="field-rank">moderator</dd>')
      expect(page.text).toContain('<dd id="bridge-sessions">0</dd>')
      expect((await pc.post('/console/members/42/status', { status: 'disabled' })).status).toBe(303)
      expect((await pg.services.accounts.get('42')).status).toBe('disabled')
    } finally {
      await pg.close()
    }
  })
})
