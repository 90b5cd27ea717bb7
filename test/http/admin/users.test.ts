import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../../helpers/app.ts'

let t: TestApp
beforeEach(() => {
  t = makeTestApp()
})
afterEach(async () => {
  await t.close()
})

const rob = {
  username: 'Rob',
  email: 'Rob@Example.com',
  email_verified: true,
  nickname: 'Robbie',
  given_name: 'Robert',
  family_name: 'Smith',
  picture: 'https://cdn.example.com/rob.png',
  rank: 'moderator',
  title: 'Night shift',
  locale: 'en-GB',
  timezone: 'Europe/London',
  profile: { names: { full_name: 'Robert Smith', nicknames: ['Rob', 'Robbie'] } },
}

describe('admin API: users', () => {
  it('refuses requests without the admin bearer token', async () => {
    for (const headers of [
      {},
      { Authorization: 'Bearer wrong-token' },
      { Authorization: `Basic ${auth.Authorization.slice(7)}` },
    ]) {
      const res = await request(t.app).get('/api/v1/users').set(headers)
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) })
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
    }
  })

  it('GET /users?q= searches by the start of the username, email or external id, paged; bad input is a 400', async () => {
    for (const [id, username, email] of [
      ['a1', 'Robin', 'x@b.example'],
      ['a2', 'rob', 'robert@a.example'],
      ['rob-3', 'zed', 'z@c.example'],
    ])
      await request(t.app)
        .put(`/api/v1/users/${id}`)
        .set(auth)
        .send({ username, email })
        .expect(201)
    const ids = (res: { body: { items: { external_id: string }[] } }) =>
      res.body.items.map((a) => a.external_id)
    const any = await request(t.app).get('/api/v1/users').query({ q: 'rob' }).set(auth).expect(200)
    expect(ids(any)).toEqual(['a2', 'a1', 'rob-3'])
    const byEmail = await request(t.app)
      .get('/api/v1/users')
      .query({ q: 'rob', by: 'email' })
      .set(auth)
      .expect(200)
    expect(ids(byEmail)).toEqual(['a2'])
    const first = await request(t.app).get('/api/v1/users').query({ q: 'rob', limit: 2 }).set(auth)
    expect(ids(first)).toEqual(['a2', 'a1'])
    const rest = await request(t.app)
      .get('/api/v1/users')
      .query({ q: 'rob', limit: 2, cursor: first.body.next_cursor })
      .set(auth)
    expect(ids(rest)).toEqual(['rob-3'])
    expect(rest.body.next_cursor).toBeNull()
    for (const query of [
      { q: '' },
      { q: 'r', by: 'nickname' },
      { by: 'email' },
      { q: 'r', cursor: 'x' },
    ]) {
      const bad = await request(t.app).get('/api/v1/users').query(query).set(auth)
      expect(bad.status, JSON.stringify(query)).toBe(400)
      expect(bad.body.error).toBe('validation_failed')
    }
  })

  it('creates with 201, replaces with 200, reads back, never returns a password', async () => {
    const created = await request(t.app)
      .put('/api/v1/users/site-42')
      .set(auth)
      .send({ ...rob, password: 'correct horse battery' })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      ...rob,
      external_id: 'site-42',
      status: 'active',
      has_password: true,
    })
    expect(JSON.stringify(created.body)).not.toMatch(/password_hash|correct horse|argon2/)
    expect(created.headers['cache-control']).toBe('no-store')

    const replaced = await request(t.app)
      .put('/api/v1/users/site-42')
      .set(auth)
      .send({ username: 'Rob' })
    expect(replaced.status).toBe(200)
    expect(replaced.body).toMatchObject({
      id: created.body.id,
      username: 'Rob',
      email: null,
      rank: 'regular',
      has_password: true,
    })

    const got = await request(t.app).get('/api/v1/users/site-42').set(auth)
    expect(got.status).toBe(200)
    expect(got.body).toEqual(replaced.body)
  })

  it('names every bad field and changes nothing', async () => {
    await request(t.app).put('/api/v1/users/u1').set(auth).send({ username: 'keep' }).expect(201)
    const res = await request(t.app).put('/api/v1/users/u1').set(auth).send({
      username: 'x\u0000y',
      email: 'not-an-email',
      rank: 'god',
      timezone: 'Mars/Olympus',
      picture: 'javascript:alert(1)',
      emial: 'typo',
      password: 'short',
    })
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('validation_failed')
    const paths = res.body.details.issues.map((i: { path: string }) => i.path).sort()
    expect(paths).toEqual(['email', 'emial', 'password', 'picture', 'rank', 'timezone', 'username'])
    const after = await request(t.app).get('/api/v1/users/u1').set(auth)
    expect(after.body.username).toBe('keep')
  })

  it('refuses a body external_id that differs from the URL', async () => {
    const res = await request(t.app).put('/api/v1/users/a').set(auth).send({ external_id: 'b' })
    expect(res.status).toBe(400)
    expect(res.body.details.issues).toEqual([
      { path: 'external_id', message: expect.stringContaining('URL') },
    ])
  })

  it('refuses non-object bodies and invalid JSON', async () => {
    const arr = await request(t.app).put('/api/v1/users/a').set(auth).send([1, 2])
    expect(arr.status).toBe(400)
    const bad = await request(t.app)
      .put('/api/v1/users/a')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('{"username":')
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBe('invalid_json')
  })

  it('refuses a username or email another account holds: 409 username_taken / email_taken', async () => {
    await request(t.app)
      .put('/api/v1/users/a')
      .set(auth)
      .send({ username: 'Straße', email: 'a@example.com' })
      .expect(201)
    const u = await request(t.app).put('/api/v1/users/b').set(auth).send({ username: 'STRASSE' })
    expect(u.status).toBe(409)
    expect(u.body).toEqual({ error: 'username_taken', message: expect.any(String) })
    const e = await request(t.app)
      .put('/api/v1/users/b')
      .set(auth)
      .send({ username: 'other', email: 'A@EXAMPLE.COM' })
    expect(e.status).toBe(409)
    expect(e.body.error).toBe('email_taken')
    expect(JSON.stringify(e.body)).not.toContain((await t.services.accounts.get('a')).id)
    await request(t.app).get('/api/v1/users/b').set(auth).expect(404)
  })

  it('treats full-width and case variants as the same username (NFKC + case folding)', async () => {
    await request(t.app).put('/api/v1/users/a').set(auth).send({ username: 'Ｒｏｂ' }).expect(201)
    expect(
      (await request(t.app).put('/api/v1/users/b').set(auth).send({ username: 'rob' })).status,
    ).toBe(409)
  })

  it('404s an unknown user with a stable code, and deletes with 204', async () => {
    const missing = await request(t.app).get('/api/v1/users/nobody').set(auth)
    expect(missing.status).toBe(404)
    expect(missing.body.error).toBe('user_not_found')
    await request(t.app).put('/api/v1/users/gone').set(auth).send({}).expect(201)
    await request(t.app).delete('/api/v1/users/gone').set(auth).expect(204)
    await request(t.app).delete('/api/v1/users/gone').set(auth).expect(404)
  })

  it('handles external ids with reserved URL characters', async () => {
    const id = 'wp:12/äb c'
    await request(t.app)
      .put(`/api/v1/users/${encodeURIComponent(id)}`)
      .set(auth)
      .send({})
      .expect(201)
    const res = await request(t.app)
      .get(`/api/v1/users/${encodeURIComponent(id)}`)
      .set(auth)
    expect(res.body.external_id).toBe(id)
  })

  it('pages with next_cursor and validates limit', async () => {
    for (let i = 0; i < 7; i++)
      await request(t.app).put(`/api/v1/users/p${i}`).set(auth).send({}).expect(201)
    const first = await request(t.app).get('/api/v1/users?limit=5').set(auth)
    expect(first.body.items).toHaveLength(5)
    const second = await request(t.app)
      .get(`/api/v1/users?limit=5&cursor=${first.body.next_cursor}`)
      .set(auth)
    expect(second.body.items.map((u: { external_id: string }) => u.external_id)).toEqual([
      'p5',
      'p6',
    ])
    expect(second.body.next_cursor).toBeNull()
    for (const bad of ['0', '501', 'abc', '1.5']) {
      const res = await request(t.app).get(`/api/v1/users?limit=${bad}`).set(auth)
      expect(res.status).toBe(400)
      expect(res.body.details.issues[0].path).toBe('limit')
    }
  })

  it('refuses oversized bodies with 413', async () => {
    const small = makeTestApp({ maxBodyBytes: 1024 })
    try {
      const res = await request(small.app)
        .put('/api/v1/users/a')
        .set(auth)
        .send({ nickname: 'x'.repeat(2000) })
      expect(res.status).toBe(413)
      expect(res.body.error).toBe('payload_too_large')
    } finally {
      await small.close()
    }
  })

  it('returns JSON 404 for unknown API routes and pages', async () => {
    expect((await request(t.app).get('/api/v1/nope').set(auth)).body.error).toBe('not_found')
    expect((await request(t.app).get('/nope')).status).toBe(404)
  })

  it('never logs passwords, hashes or the admin token', async () => {
    await request(t.app)
      .put('/api/v1/users/a')
      .set(auth)
      .send({ password: 'hunter2-hunter2' })
      .expect(201)
    await request(t.app)
      .put('/api/v1/users/b')
      .set(auth)
      .send({ password_hash: '$2y$10$abcdefghijklmnopqrstuuXqjC5rsRr3SVzzvJYhf1n0YjU8PDBq2' })
      .expect(201)
    await request(t.app)
      .put('/api/v1/users/c')
      .set(auth)
      .query({ token: 'query-secret' })
      .send({ password: 'x' })
      .expect(400)
    const text = t.logText()
    expect(text).toContain('/api/v1/users/a')
    for (const secret of ['hunter2', '$2y$10$', auth.Authorization.slice(7), 'query-secret'])
      expect(text).not.toContain(secret)
  })
})
