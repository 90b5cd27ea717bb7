/**
 * Defect (issue #10, "Errors, never 500"): a route parameter with bad percent-encoding
 * (`/api/v1/users/%E0%A4%A`, `/interaction/%zz`) answered 500. express's router cannot decode it
 * and throws a URIError, which the error handler took for an internal error. Now it is 400
 * `invalid_path` on every route with a parameter, logged with ERR_INVALID_PATH, and nothing changes.
 */
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeEach(() => {
  t = makeTestApp({
    siteTicket: {
      secret: 'site-ticket-secret-0123456789abcdef',
      origins: ['https://www.example.com'],
    },
  })
})
afterEach(async () => {
  expect(t.logs.filter((l) => typeof l.status === 'number' && l.status >= 500)).toEqual([])
  await t.close()
})

/** Malformed escapes: truncated, not hex, a lone `%`, an overlong UTF-8 sequence, a lone surrogate's bytes. */
const BAD = ['%E0%A4%A', '%zz', '%', 'a%2', '%C0%AF', '%ED%A0%80']

/** Every route of ours with a path parameter, `{}` where the parameter goes. */
const ROUTES: [method: 'get' | 'put' | 'delete' | 'post', path: string, admin: boolean][] = [
  ['get', '/api/v1/users/{}', true],
  ['put', '/api/v1/users/{}', true],
  ['delete', '/api/v1/users/{}', true],
  ['get', '/api/v1/integrations/{}', true],
  ['put', '/api/v1/integrations/{}', true],
  ['delete', '/api/v1/integrations/{}', true],
  ['post', '/api/v1/integrations/{}/preview', true],
  ['get', '/api/v1/integrations/{}/connection', true],
  ['post', '/api/v1/integrations/{}/tokens', true],
  ['post', '/api/v1/integrations/{}/inspect', true],
  ['get', '/tokens/{}', false],
  ['get', '/tokens/{}/redirect', false],
  ['get', '/interaction/{}', false],
  ['post', '/interaction/{}/login', false],
  ['post', '/interaction/{}/confirm', false],
  ['post', '/interaction/{}/abort', false],
  ['post', '/ticket/prompt/{}', false],
  ['get', '/saml/continue/{}', false],
  ['get', '/saml/idp-initiated/{}', false],
]

describe('bad percent-encoding in a route parameter is 400 invalid_path', () => {
  it.each(ROUTES)('%s %s', async (method, path, admin) => {
    for (const bad of BAD) {
      let req = request(t.app)[method](path.replace('{}', bad)).set('Accept', 'application/json')
      if (admin) req = req.set(auth)
      if (method === 'put' || method === 'post')
        req = req.set('Content-Type', 'application/json').send('{"external_id":"42"}')
      const res = await req
      expect(res.status, `${method} ${path} ${bad}`).toBe(400)
      expect(res.body).toEqual({
        error: 'invalid_path',
        message: 'the URL path holds invalid percent-encoding',
      })
    }
    expect(
      t.logs
        .filter((l) => l.msg === 'request refused')
        .every((l) => l.code === 'ERR_INVALID_PATH' && l.status === 400),
    ).toBe(true)
  })

  it('a browser gets the same refusal as an HTML page; nothing is written', async () => {
    const res = await request(t.app).get('/interaction/%zz').set('Accept', 'text/html')
    expect(res.status).toBe(400)
    expect(res.type).toBe('text/html')
    expect(res.text).toContain('invalid_path')
    const put = await request(t.app)
      .put('/api/v1/users/%E0%A4%A')
      .set(auth)
      .send({ username: 'rob' })
    expect(put.status).toBe(400)
    expect(await t.services.store.countAccounts()).toBe(0)
  })

  it('well-formed escapes still decode: /api/v1/users/a%2Fb is the account "a/b"', async () => {
    expect(
      (await request(t.app).put('/api/v1/users/a%2Fb').set(auth).send({ username: 'rob' })).status,
    ).toBe(201)
    expect((await request(t.app).get('/api/v1/users/a%2Fb').set(auth)).body.external_id).toBe('a/b')
  })
})
