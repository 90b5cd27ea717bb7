import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeEach(() => {
  t = makeTestApp()
})
afterEach(async () => {
  await t.close()
})

const BCRYPT = '$2y$10$abcdefghijklmnopqrstuuXqjC5rsRr3SVzzvJYhf1n0YjU8PDBq2'
const PHPASS = '$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0'

async function count(): Promise<number> {
  return t.services.store.countAccounts()
}

describe('admin API: bulk import', () => {
  it('imports a JSON array, reporting each rejected record by line, committing the rest', async () => {
    const body = `[
  {"external_id": "1", "username": "ann", "password_hash": "${BCRYPT}"},
  {"external_id": "2", "username": "bob", "rank": "king"},
  {"external_id": "3", "username": "ANN"},
  {"external_id": "4", "username": "cid", "profile": {"tags": ["a", "]", "{"]}}
]`
    const res = await request(t.app)
      .post('/api/v1/users/import')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send(body)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      received: 4,
      accepted: 2,
      created: 2,
      updated: 0,
      atomic: false,
      committed: true,
    })
    expect(res.body.rejected).toEqual([
      {
        line: 3,
        external_id: '2',
        error: 'validation_failed',
        message: expect.stringContaining('rank'),
        details: { issues: [{ path: 'rank', message: expect.any(String) }] },
      },
      { line: 4, external_id: '3', error: 'username_taken', message: expect.any(String) },
    ])
    expect(await count()).toBe(2)
    expect((await t.services.accounts.get('4')).profile).toEqual({ tags: ['a', ']', '{'] })
  })

  it('imports NDJSON with legacy hashes; a broken line is reported, the others land', async () => {
    const body = [
      JSON.stringify({ external_id: 'n1', email: 'n1@example.com', password_hash: PHPASS }),
      '{"external_id": "n2", ',
      '',
      JSON.stringify({ external_id: 'n3', password_hash: 'plaintext-is-not-a-hash' }),
      JSON.stringify({ external_id: 'n4' }),
    ].join('\n')
    const res = await request(t.app)
      .post('/api/v1/users/import')
      .set(auth)
      .set('Content-Type', 'application/x-ndjson')
      .send(body)
    expect(res.status).toBe(200)
    expect(res.body.accepted).toBe(2)
    expect(
      res.body.rejected.map((r: { line: number; error: string }) => [r.line, r.error]),
    ).toEqual([
      [2, 'validation_failed'],
      [4, 'validation_failed'],
    ])
    expect(res.body.rejected[1].details.issues[0].path).toBe('password_hash')
    expect((await t.services.accounts.authenticate('n1@example.com', 'test12345')).ok).toBe(true)
  })

  it('imports CSV with typed columns and JSON profile', async () => {
    const csv = [
      'external_id,username,email,email_verified,rank,profile',
      'c1,carol,carol@example.com,true,owner,"{""team"":""red""}"',
      'c2,dave,,maybe,,',
      'c3,erin,,false,,{not json}',
      'c4,,,0,,',
    ].join('\r\n')
    const res = await request(t.app)
      .post('/api/v1/users/import')
      .set(auth)
      .set('Content-Type', 'text/csv')
      .send(csv)
    expect(res.status).toBe(200)
    expect(res.body.rejected.map((r: { line: number }) => r.line)).toEqual([3, 4])
    expect(await t.services.accounts.get('c1')).toMatchObject({
      username: 'carol',
      email_verified: true,
      rank: 'owner',
      profile: { team: 'red' },
    })
    expect(await t.services.accounts.get('c4')).toMatchObject({
      username: null,
      email_verified: false,
    })
  })

  it('atomic=true commits nothing when any record fails, and says so with 422', async () => {
    await t.services.accounts.put('held', { username: 'taken' })
    const body = [
      JSON.stringify({ external_id: 'a1' }),
      JSON.stringify({ external_id: 'a2', username: 'Taken' }),
    ].join('\n')
    const res = await request(t.app)
      .post('/api/v1/users/import?atomic=true')
      .set(auth)
      .set('Content-Type', 'application/x-ndjson')
      .send(body)
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({
      error: 'import_rejected',
      committed: false,
      accepted: 0,
      atomic: true,
    })
    expect(res.body.rejected).toEqual([
      expect.objectContaining({ line: 2, error: 'username_taken' }),
    ])
    expect(await count()).toBe(1)
  })

  it('atomic=true with a validation failure also commits nothing', async () => {
    const body = [
      JSON.stringify({ external_id: 'a1' }),
      JSON.stringify({ external_id: 'a2', rank: 'x' }),
    ].join('\n')
    const res = await request(t.app)
      .post('/api/v1/users/import?atomic=1')
      .set(auth)
      .set('Content-Type', 'application/x-ndjson')
      .send(body)
    expect(res.status).toBe(422)
    expect(await count()).toBe(0)
  })

  it('atomic=true with only good records commits all', async () => {
    const body = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({ external_id: `g${i}`, username: `g${i}` }),
    ).join('\n')
    const res = await request(t.app)
      .post('/api/v1/users/import?atomic=true')
      .set(auth)
      .set('Content-Type', 'application/x-ndjson')
      .send(body)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ accepted: 2500, committed: true })
    expect(await count()).toBe(2500)
  })

  it('refuses a body that is not the announced format, and unknown content types', async () => {
    const notArray = await request(t.app)
      .post('/api/v1/users/import')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('{"external_id":"x"}')
    expect(notArray.status).toBe(400)
    expect(notArray.body.error).toBe('import_format_invalid')
    const xml = await request(t.app)
      .post('/api/v1/users/import')
      .set(auth)
      .set('Content-Type', 'application/xml')
      .send('<users/>')
    expect(xml.status).toBe(415)
    expect(xml.body.error).toBe('unsupported_media_type')
    const badFlag = await request(t.app)
      .post('/api/v1/users/import?atomic=perhaps')
      .set(auth)
      .set('Content-Type', 'application/x-ndjson')
      .send('')
    expect(badFlag.status).toBe(400)
    expect(await count()).toBe(0)
  })

  it('reports a truncated JSON array on its last line', async () => {
    const res = await request(t.app)
      .post('/api/v1/users/import')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('[{"external_id":"t1"},\n{"external_id":')
    expect(res.status).toBe(200)
    expect(res.body.accepted).toBe(1)
    expect(res.body.rejected).toEqual([
      expect.objectContaining({ line: 2, error: 'validation_failed' }),
    ])
  })

  it('refuses an import larger than IMPORT_MAX_BYTES with 413 before writing', async () => {
    const small = makeTestApp({ importMaxBytes: 200 })
    try {
      const body = Array.from({ length: 20 }, (_, i) =>
        JSON.stringify({ external_id: `s${i}` }),
      ).join('\n')
      const res = await request(small.app)
        .post('/api/v1/users/import')
        .set(auth)
        .set('Content-Type', 'application/x-ndjson')
        .send(body)
      expect(res.status).toBe(413)
      expect(await small.services.store.countAccounts()).toBe(0)
    } finally {
      await small.close()
    }
  })
})

describe('admin API: bulk import of integer ids', () => {
  it('stores an integer external_id as its decimal string', async () => {
    const res = await request(t.app)
      .post('/api/v1/users/import')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('[{"external_id": 1234567}, {"external_id": 1.5}, {"external_id": -1}]')
    expect(res.body.accepted).toBe(1)
    expect(res.body.rejected.map((r: { line: number }) => r.line)).toEqual([1, 1])
    expect((await t.services.accounts.get('1234567')).external_id).toBe('1234567')
  })
})
