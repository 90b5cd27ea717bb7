/**
 * The operator console page (docs/console.md) as written: its `sh` block runs in bash against a
 * real server process (`npm start`'s way), then the operator it made signs in to that server's
 * /console over real HTTP with its password and a TOTP code computed from the printed otpauth
 * URI — the CLI and the server sharing one store, as on a real install.
 */
import { TOTP, URI } from 'otpauth'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docPage, linkCli, PROCESS_TEST_TIMEOUT, runBlock, shBlocks } from '../helpers/readme.ts'
import { startServer, type ServerProcess } from '../helpers/server.ts'

let server: ServerProcess

beforeAll(async () => {
  server = await startServer({})
  linkCli(server)
}, PROCESS_TEST_TIMEOUT)

afterAll(async () => {
  server.child.kill('SIGTERM')
  await server.exited
}, PROCESS_TEST_TIMEOUT)

/** A tiny cookie jar over fetch: what a browser would send back. */
function browser(base: string) {
  const jar = new Map<string, string>()
  return async (path: string, form?: Record<string, string>) => {
    const res = await fetch(`${base}${path}`, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const i = pair!.indexOf('=')
      jar.set(pair!.slice(0, i), pair!.slice(i + 1))
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text() }
  }
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!

describe('docs/console.md', () => {
  it(
    'its block makes an operator with TOTP; that operator signs in to the running server',
    async () => {
      const blocks = shBlocks(docPage('console'))
      expect(blocks).toHaveLength(1)
      const out = await runBlock(blocks[0]!, server)
      const uri = out.split('\n').find((l) => l.startsWith('otpauth://'))!
      expect(out).toContain('"totp": true')
      const totp = URI.parse(uri) as TOTP

      const get = browser(server.url)
      const form = await get('/console/login')
      expect(form.status).toBe(200)
      const pw = await get('/console/login', {
        csrf: csrfOf(form.text),
        name: 'alice',
        password: 'a long operator password',
      })
      expect(pw.status, pw.text).toBe(303)
      expect(pw.location).toBe('/console/totp')
      const step = await get('/console/totp')
      const done = await get('/console/totp', { csrf: csrfOf(step.text), code: totp.generate() })
      expect(done.status, done.text).toBe(303)
      const home = await get('/console')
      expect(home.status).toBe(200)
      expect(home.text).toContain('id="operator">alice<')
    },
    PROCESS_TEST_TIMEOUT * 2,
  )
})
