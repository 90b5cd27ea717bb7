/**
 * Defect (issue #10, "Errors, never 500"), found reading body-parser's errors: a body the
 * parsers reject with an http-errors 4xx that the error handler had no row for answered 500 — a compressed body that
 * does not inflate (zlib's Z_DATA_ERROR, status 400) and a form with more fields than its route
 * allows (body-parser's `parameters.too.many`, 413). Now such an error keeps its 4xx, with
 * `payload_too_large` or the generic `bad_request`, and its message (zlib's, a library's) is
 * never shown.
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
let server: Server
let url: string
beforeEach(async () => {
  t = makeTestApp()
  // A real socket: supertest would not send a body that claims gzip without being gzip.
  server = createServer(t.app).listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(async () => {
  expect(t.logs.filter((l) => typeof l.status === 'number' && l.status >= 500)).toEqual([])
  server.close()
  await t.close()
})

describe('unreadable bodies keep their 4xx', () => {
  it('a JSON body announced as gzip that is not: 400 bad_request, nothing written', async () => {
    for (const path of ['/api/v1/users/42', '/api/v1/integrations/x']) {
      const res = await fetch(`${url}${path}`, {
        method: 'PUT',
        headers: { ...auth, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
        body: '{"username":"rob"}',
      })
      expect(res.status, path).toBe(400)
      expect(await res.json()).toEqual({
        error: 'bad_request',
        message: 'the request is malformed',
      })
    }
    expect(await t.services.store.countAccounts()).toBe(0)
    // Logged with our code (the closed union); zlib's own code beside it.
    expect(
      t.logs.some(
        (l) => l.code === 'ERR_BAD_REQUEST' && l.cause_code === 'Z_DATA_ERROR' && l.status === 400,
      ),
    ).toBe(true)
  })

  it('a sign-in form with more fields than the route reads: 413 payload_too_large', async () => {
    const body = Array.from({ length: 50 }, (_, i) => `f${i}=x`).join('&')
    const res = await fetch(`${url}/saml/sso`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: 'payload_too_large' })
  })
})
