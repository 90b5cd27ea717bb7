/**
 * The conflict rules through the real admin API, on both stores: the configured policy per
 * field, the audit log, and writers racing for one username or email over HTTP.
 */
import request from 'supertest'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { ConflictPolicies } from '../../src/config/index.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'

const STORES = {
  sqlite: async (conflicts: ConflictPolicies) => ({
    app: makeTestApp({ conflicts }),
    drop: async () => {},
  }),
  postgres: async (conflicts: ConflictPolicies) => {
    const { url, drop } = await freshSchemaUrl()
    return { app: makeTestApp({ conflicts, store: await createPostgresStore(url) }), drop }
  },
}

afterAll(dropFreshSchemas)

describe.each(Object.entries(STORES))('conflict rules over the API (%s)', (_name, open) => {
  let t: TestApp
  let drop: () => Promise<void>
  const start = async (conflicts: ConflictPolicies) => {
    const opened = await open(conflicts)
    t = opened.app
    drop = opened.drop
  }
  afterEach(async () => {
    await t.close()
    await drop()
  })

  it('reject: 409 username_taken / email_taken, nothing changes', async () => {
    await start({ username: 'reject', email: 'reject' })
    await request(t.app)
      .put('/api/v1/users/a')
      .set(auth)
      .send({ username: 'Rob', email: 'rob@example.com' })
      .expect(201)
    expect(
      (await request(t.app).put('/api/v1/users/b').set(auth).send({ username: 'ROB' })).body.error,
    ).toBe('username_taken')
    expect(
      (await request(t.app).put('/api/v1/users/b').set(auth).send({ email: 'Rob@Example.com' }))
        .body.error,
    ).toBe('email_taken')
    await request(t.app).get('/api/v1/users/b').set(auth).expect(404)
    expect((await request(t.app).get('/api/v1/audit').set(auth)).body.items).toEqual([])
  })

  it('takeover: the newcomer gets the name, the holder is stale and gets it back on its next sync', async () => {
    await start({ username: 'takeover', email: 'takeover' })
    await request(t.app)
      .put('/api/v1/users/a')
      .set(auth)
      .send({ username: 'John', email: 'john@example.com' })
      .expect(201)
    const b = await request(t.app)
      .put('/api/v1/users/b')
      .set(auth)
      .send({ username: 'john', email: 'JOHN@example.com' })
    expect(b.status).toBe(201)
    expect(b.body).toMatchObject({ username: 'john', email: 'JOHN@example.com', stale: false })
    const a = (await request(t.app).get('/api/v1/users/a').set(auth)).body
    expect(a).toMatchObject({
      email: null,
      desired_username: 'John',
      desired_email: 'john@example.com',
      stale: true,
    })
    expect(a.username).toMatch(/^user_/)

    const audit = await request(t.app).get('/api/v1/audit?external_id=a').set(auth)
    expect(
      audit.body.items.map((e: { field: string; actor: string }) => [e.field, e.actor]).sort(),
    ).toEqual([
      ['email', 'admin-api'],
      ['username', 'admin-api'],
    ])

    // a's real data arrives again: it is applied, resolving in turn against b.
    const back = await request(t.app)
      .put('/api/v1/users/a')
      .set(auth)
      .send({ username: 'John', email: 'john@example.com' })
    expect(back.body).toMatchObject({ username: 'John', email: 'john@example.com', stale: false })
    expect((await request(t.app).get('/api/v1/users/b').set(auth)).body).toMatchObject({
      stale: true,
      desired_username: 'john',
    })
    expect((await request(t.app).get('/api/v1/audit').set(auth)).body.items).toHaveLength(4)
  })

  it('disabling and enabling a stale account through PUT keeps what is pending; a new value settles it', async () => {
    await start({ username: 'takeover', email: 'takeover' })
    const john = { username: 'John', email: 'john@example.com' }
    await request(t.app).put('/api/v1/users/a').set(auth).send(john).expect(201)
    await request(t.app).put('/api/v1/users/b').set(auth).send(john).expect(201)
    const a = (await request(t.app).get('/api/v1/users/a').set(auth)).body
    expect(a).toMatchObject({ desired_username: 'John', desired_email: 'john@example.com' })

    // What the console's Disable/Enable sends: the account as read, with another status.
    const { username, email, nickname, rank } = a as Record<string, unknown>
    for (const status of ['disabled', 'active']) {
      const res = await request(t.app)
        .put('/api/v1/users/a')
        .set(auth)
        .send({ username, email, nickname, rank, status })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({
        status,
        username,
        email: null,
        desired_username: 'John',
        desired_email: 'john@example.com',
        stale: true,
      })
    }
    // A username the body sets (free now) settles the pending one; the email, still the one the
    // account holds (none), keeps its own pending value.
    const renamed = await request(t.app)
      .put('/api/v1/users/a')
      .set(auth)
      .send({ username: 'Johnny', email: null })
    expect(renamed.body).toMatchObject({
      username: 'Johnny',
      desired_username: null,
      desired_email: 'john@example.com',
      stale: true,
    })
    // The real values again: applied, resolving against b as before.
    const back = await request(t.app).put('/api/v1/users/a').set(auth).send(john)
    expect(back.body).toMatchObject({ ...john, desired_username: null, stale: false })
  })

  it('suffix for usernames; an email conflict under reject still refuses the whole write', async () => {
    await start({ username: 'suffix', email: 'reject' })
    await request(t.app)
      .put('/api/v1/users/a')
      .set(auth)
      .send({ username: 'sam', email: 'sam@example.com' })
      .expect(201)
    const b = await request(t.app).put('/api/v1/users/b').set(auth).send({ username: 'Sam' })
    expect(b.body).toMatchObject({ username: 'Sam_2', desired_username: 'Sam', stale: true })
    const c = await request(t.app)
      .put('/api/v1/users/c')
      .set(auth)
      .send({ username: 'sam', email: 'sam@example.com' })
    expect(c.status).toBe(409)
    expect(c.body.error).toBe('email_taken')
    await request(t.app).get('/api/v1/users/c').set(auth).expect(404)
    expect(
      (await request(t.app).get('/api/v1/audit?policy=suffix').set(auth)).body.items,
    ).toHaveLength(1)
  })

  it('imports go through the same rules and report how many conflicts they resolved', async () => {
    await start({ username: 'suffix', email: 'reject' })
    await request(t.app).put('/api/v1/users/a').set(auth).send({ username: 'kim' }).expect(201)
    const body = ['i1', 'i2', 'i3']
      .map((id) => JSON.stringify({ external_id: id, username: 'Kim' }))
      .join('\n')
    const res = await request(t.app)
      .post('/api/v1/users/import')
      .set(auth)
      .set('Content-Type', 'application/x-ndjson')
      .send(body)
    expect(res.body).toMatchObject({ accepted: 3, resolved: 3, rejected: [] })
    const names = await Promise.all(
      ['i1', 'i2', 'i3'].map(
        async (id) => (await request(t.app).get(`/api/v1/users/${id}`).set(auth)).body.username,
      ),
    )
    expect(names).toEqual(['Kim_2', 'Kim_3', 'Kim_4'])
    expect(
      (await request(t.app).get('/api/v1/audit?actor=import').set(auth)).body.items,
    ).toHaveLength(3)
  })

  it('parallel requests racing for one username and one email: exactly one holder each, nobody lost, every resolution audited', async () => {
    await start({ username: 'takeover', email: 'takeover' })
    const n = 12
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        request(t.app)
          .put(`/api/v1/users/r${i}`)
          .set(auth)
          .send({ username: 'Contested', email: 'contested@example.com', nickname: `racer ${i}` }),
      ),
    )
    expect(responses.map((r) => r.status).every((s) => s === 201)).toBe(true)
    const all = (await request(t.app).get('/api/v1/users?limit=100').set(auth)).body.items as {
      external_id: string
      username: string
      email: string | null
      nickname: string
      stale: boolean
    }[]
    expect(all).toHaveLength(n)
    expect(all.filter((u) => u.username.toLowerCase() === 'contested')).toHaveLength(1)
    expect(all.filter((u) => u.email === 'contested@example.com')).toHaveLength(1)
    expect(new Set(all.map((u) => u.username.toLowerCase())).size).toBe(n)
    for (const u of all) expect(u.nickname).toBe(`racer ${u.external_id.slice(1)}`)
    const audit = (await request(t.app).get('/api/v1/audit?limit=500').set(auth)).body.items
    expect(
      audit.filter((e: { field: string }) => e.field === 'username').length,
    ).toBeGreaterThanOrEqual(n - 1)
    expect(
      audit.filter((e: { field: string }) => e.field === 'email').length,
    ).toBeGreaterThanOrEqual(n - 1)
  })

  it('parallel requests under reject: one winner, the others 409, no duplicate', async () => {
    await start({ username: 'reject', email: 'reject' })
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(t.app).put(`/api/v1/users/q${i}`).set(auth).send({ username: 'Solo' }),
      ),
    )
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1)
    expect(
      responses.filter((r) => r.status === 409).every((r) => r.body.error === 'username_taken'),
    ).toBe(true)
    expect((await request(t.app).get('/api/v1/users').set(auth)).body.items).toHaveLength(1)
  })

  it('validates audit filters', async () => {
    await start({ username: 'reject', email: 'reject' })
    const res = await request(t.app)
      .get('/api/v1/audit?field=phone&since=yesterday&limit=0')
      .set(auth)
    expect(res.status).toBe(400)
    expect(res.body.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'field',
      'limit',
      'since',
    ])
  })
})
