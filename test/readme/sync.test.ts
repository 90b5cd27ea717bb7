/**
 * docs/sync.md ("Keeping accounts current"): its Node.js, PHP and Python snippets, run as
 * written as subprocesses of their own interpreters against a real server process (the admin API
 * over real HTTP, SQLite behind it). Only the base URL is pointed at the test server. Each
 * language walks one member through the page's story and the effect is checked from outside:
 * created, renamed while signed in (the signed-in browser's next token carries the new name),
 * refused a username another member holds (nothing changes), suspended and restored, deleted
 * (the bridge session ends), deleted again (done), and a bulk import run twice.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { decodeJwt, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codeBlocks, docPage } from '../helpers/readme.ts'
import { NODE, PROCESS_TEST_TIMEOUT, startServer, stopServer } from '../helpers/server.ts'
import type { ServerProcess } from '../helpers/server.ts'
import { adminApi } from '../helpers/admin-api.ts'

const ADMIN_TOKEN = 'sync-test-admin-token-0123456789'
const TICKET_SECRET = 'sync-test-ticket-secret-0123456789abcdef'
const ISSUER = 'http://localhost:3000'
const PAGE = docPage('sync')

let server: ServerProcess
beforeAll(async () => {
  server = await startServer({
    ISSUER,
    ADMIN_TOKEN,
    SITE_TICKET_SECRET: TICKET_SECRET,
    LOG_LEVEL: 'info',
  })
  // The browser token URL shows what a signed-in member's platform gets: a generic HS256 JWT.
  const res = await api('PUT', '/integrations/chat', {
    type: 'jwt',
    settings: { target_url: 'https://chat.example.com/sso' },
    secrets: { secret: 'jwt-secret-for-the-sync-test-0123456789' },
  })
  expect(res.status).toBe(201)
}, PROCESS_TEST_TIMEOUT)
afterAll(() => stopServer(server), PROCESS_TEST_TIMEOUT)

function api(method: string, p: string, body?: unknown) {
  return adminApi(server.url, ADMIN_TOKEN)(method, p, body)
}

/** Signs the member in as the site would (a ticket), returning the browser's cookie header. */
async function signIn(externalId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const ticket = await new SignJWT({ external_id: externalId })
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience(`${ISSUER}/ticket`)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .setJti(crypto.randomUUID())
    .sign(new TextEncoder().encode(TICKET_SECRET))
  const res = await fetch(
    `${server.url}/ticket?${new URLSearchParams({ ticket, return_to: '/' })}`,
    { redirect: 'manual' },
  )
  expect(res.status).toBe(303)
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]!)
  expect(cookies.length).toBeGreaterThan(0)
  return cookies.join('; ')
}

/** What the signed-in browser's platform gets now: the token's claims, or the refusal. */
async function browserToken(cookie: string) {
  const res = await fetch(`${server.url}/tokens/chat`, { headers: { Cookie: cookie } })
  const body = (await res.json()) as { token?: string; error?: string }
  return { status: res.status, error: body.error, claims: body.token ? decodeJwt(body.token) : {} }
}

interface Language {
  name: string
  block: string
  file: string
  interpreter: () => string
  /** The driver appended to the snippet: calls the function named in argv with its arguments. */
  driver: string
  fn: { put: string; remove: string; import: string }
}

function which(...candidates: string[]): string {
  const found = candidates.find((c) => existsSync(c))
  if (!found)
    throw new Error(
      `none of ${candidates.join(', ')} is installed: install Debian's php-cli and python3 (npm test does this first: scripts/system-packages.sh)`,
    )
  return found
}

const LANGUAGES: Language[] = [
  {
    name: 'Node.js',
    block: 'js',
    file: 'sync.mjs',
    interpreter: () => NODE,
    driver: `const [fn, ...args] = JSON.parse(process.argv[2])
console.log(JSON.stringify((await { putMember, deleteMember, importMembers }[fn](...args)) ?? null))`,
    fn: { put: 'putMember', remove: 'deleteMember', import: 'importMembers' },
  },
  {
    name: 'PHP',
    block: 'php',
    file: 'sync.php',
    interpreter: () => which('/usr/bin/php', '/usr/local/bin/php'),
    driver: `$call = json_decode($argv[1], true, 512, JSON_THROW_ON_ERROR);
echo json_encode(($call[0])(...array_slice($call, 1)));`,
    fn: { put: 'put_member', remove: 'delete_member', import: 'import_members' },
  },
  {
    name: 'Python',
    block: 'python',
    file: 'sync.py',
    interpreter: () => which('/usr/bin/python3', '/usr/local/bin/python3'),
    driver: `import sys
call = json.loads(sys.argv[1])
print(json.dumps(globals()[call[0]](*call[1:])))`,
    fn: { put: 'put_member', remove: 'delete_member', import: 'import_members' },
  },
]

/** Runs the page's snippet with a call appended; resolves to what the call returned (as JSON). */
function runSnippet(lang: Language, call: unknown[]): Promise<unknown> {
  const blocks = codeBlocks(PAGE, lang.block)
  expect(blocks, lang.block).toHaveLength(1)
  const code = blocks[0]!.replaceAll('https://sso.example.com', server.url)
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-sync-'))
  writeFileSync(path.join(dir, lang.file), `${code}\n${lang.driver}\n`)
  return new Promise((resolve, reject) => {
    execFile(
      lang.interpreter(),
      [path.join(dir, lang.file), JSON.stringify(call)],
      {
        env: { PATH: process.env.PATH, SSO_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN },
        encoding: 'utf8',
        timeout: PROCESS_TEST_TIMEOUT,
      },
      (err, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true })
        if (err) reject(new Error(`${lang.name} snippet failed: ${stderr || err.message}`))
        else resolve(JSON.parse(stdout))
      },
    )
  })
}

describe('docs/sync.md: the site pushes its changes through the admin API', () => {
  it('has exactly one snippet per language, each holding the three functions', () => {
    for (const lang of LANGUAGES) {
      const [block] = codeBlocks(PAGE, lang.block)
      for (const fn of Object.values(lang.fn)) expect(block, `${lang.name} ${fn}`).toContain(fn)
    }
  })

  for (const lang of LANGUAGES) {
    it(
      `${lang.name}: create, rename while signed in, conflict refused, suspend, delete, import`,
      async () => {
        const prefix = lang.block
        const id = `${prefix}-1`
        const call = (...args: unknown[]) => runSnippet(lang, args)

        // A member registers on the site.
        const created = await call(lang.fn.put, id, {
          username: `${prefix}-ada`,
          email: `${prefix}.ada@example.com`,
          nickname: 'Ada',
          rank: 'regular',
        })
        expect(created).toMatchObject({ external_id: id, username: `${prefix}-ada` })
        const cookie = await signIn(id)
        expect((await browserToken(cookie)).claims).toMatchObject({
          sub: id,
          preferred_username: `${prefix}-ada`,
          rank: 'regular',
        })

        // Renamed, new email, promoted, on the site: the same signed-in browser sees it at once.
        await call(lang.fn.put, id, {
          username: `${prefix}-lovelace`,
          email: `${prefix}.lovelace@example.com`,
          nickname: 'Countess',
          rank: 'moderator',
        })
        expect((await api('GET', `/users/${id}`)).body).toMatchObject({
          username: `${prefix}-lovelace`,
          email: `${prefix}.lovelace@example.com`,
          nickname: 'Countess',
          rank: 'moderator',
        })
        expect((await browserToken(cookie)).claims).toMatchObject({
          sub: id,
          preferred_username: `${prefix}-lovelace`,
          name: 'Countess',
          rank: 'moderator',
        })

        // A username another member holds: refused with its code (CONFLICT_USERNAME=reject), nothing changes.
        expect(
          (await api('PUT', `/users/${prefix}-2`, { username: `${prefix}-grace` })).status,
        ).toBe(201)
        await expect(call(lang.fn.put, id, { username: `${prefix}-grace` })).rejects.toThrow(
          /409 .*username_taken/,
        )
        expect((await api('GET', `/users/${id}`)).body).toMatchObject({
          username: `${prefix}-lovelace`,
          rank: 'moderator',
        })

        // Suspended and restored.
        await call(lang.fn.put, id, { username: `${prefix}-lovelace`, status: 'disabled' })
        // A disabled member's session no longer counts: the browser is asked to sign in.
        expect(await browserToken(cookie)).toMatchObject({ status: 401, error: 'login_required' })
        await call(lang.fn.put, id, { username: `${prefix}-lovelace`, status: 'active' })
        expect((await browserToken(cookie)).status).toBe(200)

        // Deleted on the site: the account and its bridge session are gone; a repeat is done too.
        expect(await call(lang.fn.remove, id)).toBeNull()
        expect((await api('GET', `/users/${id}`)).status).toBe(404)
        expect(await browserToken(cookie)).toMatchObject({ status: 401, error: 'login_required' })
        expect(await call(lang.fn.remove, id)).toBeNull()
        expect((await api('GET', `/users/${id}`)).status).toBe(404)

        // A bulk re-sync, twice: the second run rewrites the same accounts, creates none.
        const members = [1, 2, 3].map((n) => ({
          external_id: `${prefix}-bulk-${n}`,
          username: `${prefix}-bulk-user-${n}`,
          rank: n === 1 ? 'owner' : 'regular',
        }))
        for (let run = 0; run < 2; run++)
          expect(await call(lang.fn.import, members)).toMatchObject({
            received: 3,
            accepted: 3,
            rejected: [],
          })
        expect((await api('GET', `/users/${prefix}-bulk-1`)).body).toMatchObject({
          username: `${prefix}-bulk-user-1`,
          rank: 'owner',
        })
        const all = (await api('GET', '/users?limit=500')).body.items as { external_id: string }[]
        expect(all.filter((u) => u.external_id.startsWith(`${prefix}-bulk-`))).toHaveLength(3)

        // The token never reached the server's log.
        expect(server.logs()).not.toContain(ADMIN_TOKEN)
      },
      PROCESS_TEST_TIMEOUT,
    )
  }
})
