/**
 * Defect (issue #10, "Errors, never 500"): JSON nested 10,000 deep answered 500. JSON.parse
 * coped; zod's z.json() (profile), the path lister (inspect/paths) and the import's record
 * validation then recursed until the stack overflowed (RangeError → 500). Now every JSON text
 * from outside is scanned for depth before it is parsed, and a value that arrives parsed is
 * measured without recursion before it is validated: deeper than 64 levels is 400
 * `json_too_deep` (a rejected record with its line, in an import), and nothing is written.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import request from 'supertest'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { jsonTextTooDeep, jsonValueTooDeep, MAX_JSON_DEPTH } from '../../src/accounts/json-depth.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { cliSandbox, removeSandboxes } from '../helpers/cli.ts'

const DEEP = 10_000
/** `n` nested arrays around a number. */
const arrays = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`
/** `n` nested objects `{"a": …}` around a number. */
const objects = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
/** The same nesting as a value, built without JSON.parse. */
function deepValue(n: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < n; i++) v = { a: v }
  return v
}

let t: TestApp
beforeEach(() => {
  t = makeTestApp()
})
afterEach(async () => {
  // No request of this file may end in a 500: each refusal is logged at info with its code.
  expect(t.logs.filter((l) => typeof l.status === 'number' && l.status >= 500)).toEqual([])
  await t.close()
})
afterAll(removeSandboxes)

const post = (path: string, body: string, type = 'application/json') =>
  request(t.app).post(path).set(auth).set('Content-Type', type).send(body)
const put = (path: string, body: string) =>
  request(t.app).put(path).set(auth).set('Content-Type', 'application/json').send(body)

describe('the depth scan', () => {
  it('counts arrays and objects outside strings only, the outermost as one', () => {
    expect(jsonTextTooDeep(arrays(MAX_JSON_DEPTH))).toBe(false)
    expect(jsonTextTooDeep(arrays(MAX_JSON_DEPTH + 1))).toBe(true)
    expect(jsonTextTooDeep(objects(MAX_JSON_DEPTH + 1))).toBe(true)
    // Brackets inside strings, escaped quotes included, are text.
    expect(jsonTextTooDeep(JSON.stringify({ s: '['.repeat(500), t: '\\"[[[['.repeat(100) }))).toBe(
      false,
    )
    // Many siblings are not depth.
    expect(jsonTextTooDeep(`[${'[],'.repeat(1000)}[]]`)).toBe(false)
  })

  it('measures a parsed value without recursing, whatever its depth', () => {
    expect(jsonValueTooDeep(deepValue(MAX_JSON_DEPTH))).toBe(false)
    expect(jsonValueTooDeep(deepValue(MAX_JSON_DEPTH + 1))).toBe(true)
    expect(jsonValueTooDeep(deepValue(1_000_000))).toBe(true)
  })
})

describe('JSON 10,000 deep is 400 json_too_deep at every JSON body reader', () => {
  it('PUT /users/{id} with a deep profile: refused, no account written', async () => {
    for (const body of [
      `{"profile":${objects(DEEP)}}`,
      `{"profile":{"a":${arrays(DEEP)}}}`,
      arrays(DEEP),
    ]) {
      const res = await put('/api/v1/users/42', body)
      expect(res.status, body.slice(0, 20)).toBe(400)
      expect(res.body).toEqual({
        error: 'json_too_deep',
        message: `JSON nests deeper than ${MAX_JSON_DEPTH} levels`,
      })
    }
    expect(await t.services.store.countAccounts()).toBe(0)
    expect(t.logs.some((l) => l.code === 'ERR_JSON_TOO_DEEP' && l.status === 400)).toBe(true)
  })

  it('POST /inspect/paths: deep arrays and objects refused; 64 levels still listed', async () => {
    for (const body of [arrays(DEEP), objects(DEEP)]) {
      const res = await post('/api/v1/inspect/paths', body)
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('json_too_deep')
    }
    const ok = await post('/api/v1/inspect/paths', objects(MAX_JSON_DEPTH))
    expect(ok.status).toBe(200)
    expect(ok.body.paths).toEqual([{ path: Array(MAX_JSON_DEPTH).fill('a').join('.'), value: 1 }])
  })

  it('integrations, preview, the token API and token inspect refuse it too; nothing is stored', async () => {
    const deep = objects(DEEP)
    expect(
      (await put('/api/v1/integrations/x', `{"type":"jwt","settings":${deep}}`)).body.error,
    ).toBe('json_too_deep')
    expect((await post('/api/v1/integrations/x/preview', deep)).body.error).toBe('json_too_deep')
    expect((await post('/api/v1/integrations/x/tokens', deep)).body.error).toBe('json_too_deep')
    expect((await post('/api/v1/integrations/x/inspect', deep)).body.error).toBe('json_too_deep')
    expect(await t.services.integrations.list()).toEqual([])
  })

  it('a gzip-encoded or UTF-16 body (read by the general path) is checked the same way', async () => {
    // Over a real socket: supertest would not send a pre-compressed body as it is.
    const server = createServer(t.app).listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    const send = async (headers: Record<string, string>, body: Buffer) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/inspect/paths`, {
        method: 'POST',
        headers: { ...auth, ...headers },
        body: new Uint8Array(body),
      })
      return { status: res.status, body: await res.json() }
    }
    try {
      const gz = await send(
        { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
        gzipSync(arrays(DEEP)),
      )
      expect(gz).toMatchObject({ status: 400, body: { error: 'json_too_deep' } })
      const utf16 = await send(
        { 'Content-Type': 'application/json; charset=utf-16le' },
        Buffer.from(arrays(DEEP), 'utf16le'),
      )
      expect(utf16).toMatchObject({ status: 400, body: { error: 'json_too_deep' } })
      // The general path still reads a shallow body.
      expect(
        await send(
          { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
          gzipSync('{"a":[1]}'),
        ),
      ).toEqual({ status: 200, body: { paths: [{ path: 'a.0', value: 1 }] } })
      expect(
        await send(
          { 'Content-Type': 'application/json; charset=utf-16le' },
          Buffer.from('{"a":[1]}', 'utf16le'),
        ),
      ).toEqual({ status: 200, body: { paths: [{ path: 'a.0', value: 1 }] } })
    } finally {
      server.close()
    }
  })

  it('import: a deep NDJSON line, JSON-array element or CSV profile cell is a rejected record on its line; the others land', async () => {
    const ndjson = [
      '{"external_id":"1","username":"ann"}',
      `{"external_id":"2","profile":${objects(DEEP)}}`,
      arrays(DEEP),
      '{"external_id":"3","username":"cid"}',
    ].join('\n')
    const a = await post('/api/v1/users/import', ndjson, 'application/x-ndjson')
    expect(a.status).toBe(200)
    expect(a.body).toMatchObject({ received: 4, accepted: 2 })
    expect(a.body.rejected).toEqual([
      { line: 2, error: 'json_too_deep', message: expect.any(String) },
      { line: 3, error: 'json_too_deep', message: expect.any(String) },
    ])

    const array = `[\n{"external_id":"4"},\n{"external_id":"5","profile":${objects(DEEP)}},\n${arrays(DEEP)},\n{"external_id":"6","profile":{"s":"]]]"}}\n]`
    const b = await post('/api/v1/users/import', array, 'application/json')
    expect(b.body).toMatchObject({ received: 4, accepted: 2 })
    expect(b.body.rejected).toEqual([
      { line: 3, error: 'json_too_deep', message: expect.any(String) },
      { line: 4, error: 'json_too_deep', message: expect.any(String) },
    ])
    expect((await t.services.accounts.get('6')).profile).toEqual({ s: ']]]' })

    const csv = `external_id,profile\n7,"${objects(DEEP).replaceAll('"', '""')}"\n8,"{""a"":1}"\n`
    const c = await post('/api/v1/users/import', csv, 'text/csv')
    expect(c.body).toMatchObject({ received: 2, accepted: 1 })
    expect(c.body.rejected).toEqual([
      { line: 2, error: 'json_too_deep', message: expect.any(String) },
    ])

    expect(
      (await t.services.store.listAccounts({ after: null, limit: 100 })).items
        .map((x) => x.external_id)
        .sort(),
    ).toEqual(['1', '3', '4', '6', '8'])
  })

  it('an atomic import with a deep record rolls back (422), nothing written', async () => {
    const res = await post(
      '/api/v1/users/import?atomic=true',
      `{"external_id":"1"}\n${arrays(DEEP)}\n`,
      'application/x-ndjson',
    )
    expect(res.status).toBe(422)
    expect(res.body.rejected).toEqual([
      { line: 2, error: 'json_too_deep', message: expect.any(String) },
    ])
    expect(await t.services.store.countAccounts()).toBe(0)
  })

  it('the account and integration services measure a parsed value before zod recurses (CLI, service callers)', async () => {
    await expect(t.services.accounts.put('42', { profile: deepValue(DEEP) })).rejects.toMatchObject(
      { code: 'ERR_JSON_TOO_DEEP' },
    )
    await expect(
      t.services.integrations.put('x', { type: 'jwt', mapping: deepValue(DEEP) }),
    ).rejects.toMatchObject({ code: 'ERR_JSON_TOO_DEEP' })
    expect(await t.services.store.countAccounts()).toBe(0)
  })
})

describe('the CLI', () => {
  it('users put --data and paths refuse deep JSON with exit 2 and json_too_deep', async () => {
    const { cli } = await cliSandbox()
    const put = await cli(['users', 'put', '42', '--data', `{"profile":${objects(DEEP)}}`])
    expect(put.code).toBe(2)
    expect(JSON.parse(put.stderr)).toMatchObject({ error: 'json_too_deep' })
    const paths = await cli(['paths', '-'], { input: arrays(DEEP) })
    expect(paths.code).toBe(2)
    expect(JSON.parse(paths.stderr)).toMatchObject({ error: 'json_too_deep' })
  })
})
