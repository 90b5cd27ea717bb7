/**
 * Discourse through DiscourseConnect, sso-bridge as the provider (meta.discourse.org/t/13045, and
 * Discourse's lib/discourse_connect_base.rb), against a stand-in forum written in Python from the
 * DiscourseConnect documents only (discourse-stand-in.py: it makes the nonce, signs the request,
 * and checks our `sig` with Python's hmac before "signing in" the member).
 *
 * - the whole redirect round trip in a real browser (chromium): forum → sso-bridge → sign-in
 *   form → back to the forum, which accepts our payload; then again with the session, no form;
 * - refused, each with its code and nothing changed: a `sig` that does not match, a
 *   `return_sso_url` outside the configured forum, a replayed nonce;
 * - a changed account is pushed with sync_sso; signing out logs the member out of the forum;
 * - the token API's signed sync payload, and inspect.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { CHROMIUM, CHROMIUM_MISSING, launchChromium, newContext } from '../helpers/browser.ts'
import { PROCESS_TEST_TIMEOUT, WAIT_TIMEOUT } from '../helpers/timeouts.ts'

const SECRET = 'discourse-connect-secret-0123456789'
const API_KEY = 'discourse-api-key-0123456789abcdef0123456789'
const PASSWORD = 'correct horse battery staple'
const STAND_IN = fileURLToPath(new URL('./discourse-stand-in.py', import.meta.url))
const DB = path.join(mkdtempSync(path.join(tmpdir(), 'sso-bridge-discourse-')), 'db.sqlite')

let t: TestApp
let server: http.Server
let issuer: string
let forum: string
let py: ChildProcess
let browser: Browser | undefined

interface Records {
  logins: Record<string, string>[]
  refused: string[]
  syncs: Record<string, string>[]
  log_outs: number[]
}
const records = async (): Promise<Records> => (await fetch(`${forum}/_records`)).json()

/** Discourse's own request, signed as the document says (Base64 text, hex HMAC-SHA256). */
function discourseRequest(fields: Record<string, string>, secret = SECRET) {
  const sso = Buffer.from(new URLSearchParams(fields).toString()).toString('base64')
  const sig = createHmac('sha256', secret).update(sso).digest('hex')
  return `${issuer}/discourse/forum/sso?${new URLSearchParams({ sso, sig })}`
}

/** How many entries the store holds under a namespace prefix (read beside the server). */
function stored(prefix: string): number {
  const db = new DatabaseSync(DB, { readOnly: true })
  try {
    const row = db
      .prepare('SELECT count(*) AS n FROM kv WHERE namespace LIKE ?')
      .get(`${prefix}%`) as { n: number }
    return row.n
  } finally {
    db.close()
  }
}

beforeAll(async () => {
  server = http.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t = makeTestApp({ issuer, store: createSqliteStore(DB) })
  server.on('request', t.app)

  py = spawn('python3', [STAND_IN, SECRET, API_KEY, `${issuer}/discourse/forum/sso`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<string>((resolve, reject) => {
    py.once('exit', (code) => reject(new Error(`stand-in exited ${code}`)))
    createInterface({ input: py.stdout! }).once('line', resolve)
  })
  forum = `http://127.0.0.1:${port}`

  await t.services.accounts.put('site-7', {
    username: 'ada',
    email: 'ada@example.com',
    email_verified: true,
    nickname: 'Ada Lovelace',
    picture: 'https://cdn.example/ada.png',
    rank: 'moderator',
    profile: { discourse_groups: ['analysts', 'engines'] },
    password: PASSWORD,
  })
  await t.services.integrations.put('forum', {
    type: 'discourse',
    settings: { discourse_url: forum },
    secrets: { connect_secret: SECRET, discourse_api_key: API_KEY },
  })
  if (existsSync(CHROMIUM)) browser = await launchChromium()
  else process.stderr.write(`\n!! ${CHROMIUM_MISSING}\n\n`)
}, PROCESS_TEST_TIMEOUT)

afterAll(async () => {
  await browser?.close()
  py?.kill('SIGTERM')
  server?.closeAllConnections()
  await new Promise((r) => server?.close(r))
  await t?.close()
})

describe('DiscourseConnect round trip in a real browser', () => {
  it(
    'the forum sends the member here, they sign in, and the forum accepts our sso/sig (checked in Python)',
    async () => {
      if (!browser) throw new Error(CHROMIUM_MISSING)
      const context = await newContext(browser)
      try {
        const page = await context.newPage()
        await page.goto(`${forum}/session/sso`)
        // No bridge session: our sign-in form, with the way back to the pending request.
        await page.waitForURL((u) => u.href.startsWith(`${issuer}/login?`))
        expect(new URL(page.url()).searchParams.get('return_to')).toMatch(
          /^\/discourse\/continue\/[\w-]{32}$/,
        )
        await page.getByLabel('Username or email').fill('ada')
        await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
        const cspViolations: string[] = []
        page.on('console', (m) => {
          if (m.text().includes('Content Security Policy')) cspViolations.push(m.text())
        })
        await page.getByRole('button', { name: 'Sign in' }).click()
        await page.waitForURL((u) => u.href.startsWith(`${forum}/session/sso_login?`))
        const answered = JSON.parse((await page.locator('body').innerText()).trim())
        const { nonce, ...fields } = answered.signed_in as Record<string, string>
        expect(nonce).toMatch(/^[0-9a-f]{32}$/)
        expect(fields).toEqual({
          external_id: 'site-7',
          email: 'ada@example.com',
          username: 'ada',
          name: 'Ada Lovelace',
          avatar_url: 'https://cdn.example/ada.png',
          admin: 'false',
          moderator: 'true',
          add_groups: 'analysts,engines',
          require_activation: 'false',
        })

        // Again with the bridge session: straight back to the forum, no form.
        await page.goto(`${forum}/session/sso`)
        await page.waitForURL((u) => u.href.startsWith(`${forum}/session/sso_login?`))
        expect(JSON.parse(await page.locator('body').innerText()).signed_in.external_id).toBe(
          'site-7',
        )
        expect(cspViolations).toEqual([])
        const r = await records()
        expect(r.logins).toHaveLength(2)
        expect(r.refused).toEqual([])
      } finally {
        await context.close()
      }
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('refused requests change nothing', () => {
  const get = (url: string) =>
    fetch(url, { redirect: 'manual', headers: { Accept: 'text/html' } }).then(async (res) => ({
      status: res.status,
      text: await res.text(),
      cookie: res.headers.get('set-cookie'),
      location: res.headers.get('location'),
    }))

  it('a sig that does not match: 400 discourse_signature, the nonce stays unused', async () => {
    const kept = stored('discourse:')
    const fields = { nonce: 'n-sig-1', return_sso_url: `${forum}/session/sso_login` }
    for (const url of [
      discourseRequest(fields, 'another-secret-0123456789'),
      discourseRequest(fields).replace(/sig=[0-9a-f]/, (m) =>
        m.endsWith('0') ? 'sig=1' : 'sig=0',
      ),
      discourseRequest(fields).replace(/&sig=[0-9a-f]+/, ''),
    ]) {
      const res = await get(url)
      expect(res.status).toBe(400)
      expect(res.text).toContain(
        url.includes('sig=') ? 'discourse_signature' : 'discourse_malformed',
      )
      expect(res.cookie).toBeNull()
    }
    expect(stored('discourse:')).toBe(kept)
    // Nothing was kept: the same nonce, signed right, still goes through (to the sign-in form).
    const ok = await get(discourseRequest(fields))
    expect(ok.status).toBe(303)
    expect(ok.location).toMatch(/^\/login\?return_to=%2Fdiscourse%2Fcontinue%2F/)
  })

  it('a return_sso_url outside the configured forum: 400 discourse_return_url', async () => {
    const port = new URL(forum).port
    let n = 0
    const kept = stored('discourse:')
    for (const bad of [
      'https://evil.example/session/sso_login',
      `http://127.0.0.1:${Number(port) + 1}/session/sso_login`,
      `http://localhost:${port}/session/sso_login`,
      `http://user@127.0.0.1:${port}/session/sso_login`,
      `https://127.0.0.1:${port}/session/sso_login`,
      'javascript:alert(1)',
    ]) {
      const res = await get(discourseRequest({ nonce: `n-url-${n++}`, return_sso_url: bad }))
      expect(res.status, bad).toBe(400)
      expect(res.text, bad).toContain('discourse_return_url')
      expect(res.location).toBeNull()
    }
    expect(stored('discourse:')).toBe(kept)
    // The same forum written differently normalises to it and is accepted.
    const same = await get(
      discourseRequest({
        nonce: 'n-url-ok',
        return_sso_url: `HTTP://127.0.0.1:${port}/x/../session/sso_login`,
      }),
    )
    expect(same.status).toBe(303)
  })

  it('a replayed nonce: 400 discourse_nonce_replayed, and no second pending sign-in', async () => {
    const url = discourseRequest({
      nonce: 'n-replay',
      return_sso_url: `${forum}/session/sso_login`,
    })
    const first = await get(url)
    expect(first.status).toBe(303)
    const before = stored('discourse:')
    const again = await get(url)
    expect(again.status).toBe(400)
    expect(again.text).toContain('discourse_nonce_replayed')
    expect(again.location).toBeNull()
    expect(stored('discourse:')).toBe(before)
    // Logged with its stable code, never with the request's sso or sig.
    expect(t.logs.some((l) => l.code === 'ERR_DISCOURSE_NONCE_REPLAYED')).toBe(true)
    expect(t.logText()).not.toContain(new URL(url).searchParams.get('sig'))
    expect(t.logText()).not.toContain(SECRET)
  })
})

describe('profile changes and sign-out reach the forum', () => {
  it('a changed account is pushed with sync_sso (checked in Python); signing out logs the member out there', async () => {
    const before = await records()
    const put = await fetch(`${issuer}/api/v1/users/site-7`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        username: 'ada',
        email: 'ada.lovelace@example.com',
        nickname: 'Countess Lovelace',
        rank: 'regular',
      }),
    })
    expect(put.status).toBe(200)
    // Pushed in the background: the write did not wait for the forum.
    await expect
      .poll(async () => (await records()).syncs.length, { timeout: WAIT_TIMEOUT })
      .toBe(before.syncs.length + 1)
    const after = await records()
    expect(after.syncs.slice(before.syncs.length)).toEqual([
      expect.objectContaining({
        external_id: 'site-7',
        email: 'ada.lovelace@example.com',
        name: 'Countess Lovelace',
        moderator: 'false',
        // The email is no longer known to be verified: Discourse must confirm it.
        require_activation: 'true',
      }),
    ])
    expect(after.syncs.at(-1)).not.toHaveProperty('nonce')

    const out = await fetch(`${issuer}/api/v1/users/site-7/sessions`, {
      method: 'DELETE',
      headers: auth,
    })
    expect(out.status).toBe(200)
    expect((await records()).log_outs.length).toBe(before.log_outs.length + 1)
    expect(t.logText()).not.toContain(API_KEY)
  })

  it('the token API hands out the signed sync payload; inspect verifies it and refuses a changed one', async () => {
    const issued = await fetch(`${issuer}/api/v1/integrations/forum/tokens`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ external_id: 'site-7' }),
    })
    expect(issued.status).toBe(200)
    const { token } = (await issued.json()) as { token: string }
    const q = new URLSearchParams(token)
    expect(q.get('sig')).toBe(createHmac('sha256', SECRET).update(q.get('sso')!).digest('hex'))
    const inspect = (tok: string) =>
      fetch(`${issuer}/api/v1/integrations/forum/inspect`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: tok }),
      })
    const seen = await inspect(token)
    expect(((await seen.json()) as { payload: object }).payload).toMatchObject({
      external_id: 'site-7',
    })
    const tampered = new URLSearchParams({
      sso: Buffer.from('external_id=1&email=x%40y.z').toString('base64'),
      sig: q.get('sig')!,
    })
    const refused = await inspect(tampered.toString())
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: string }).error).toBe('token_invalid')
  })
})

describe('signing in at the site (SITE_LOGIN_URL)', () => {
  it('hands the member to the site with the way back; a gone continuation is discourse_pending_expired', async () => {
    const site = makeTestApp({
      issuer,
      siteLogin: { url: 'https://site.example/login', passwordSignIn: false },
    })
    try {
      await site.services.integrations.put('forum', {
        type: 'discourse',
        settings: { discourse_url: forum },
        secrets: { connect_secret: SECRET },
      })
      const from = new URL(discourseRequest({ nonce: 'n-site', return_sso_url: `${forum}/s` }))
      const res = await request(site.app).get(`${from.pathname}${from.search}`)
      expect(res.status).toBe(303)
      const to = new URL(res.headers.location!)
      expect(to.origin + to.pathname).toBe('https://site.example/login')
      expect(to.searchParams.get('return_to')).toMatch(
        new RegExp(`^${issuer}/discourse/continue/[\\w-]{32}$`),
      )
      const back = new URL(to.searchParams.get('return_to')!).pathname
      // No session yet: the continuation sends the member to the site again.
      expect((await request(site.app).get(back)).status).toBe(303)
      const gone = await request(site.app)
        .get('/discourse/continue/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
        .set('Accept', 'text/html')
      expect(gone.status).toBe(400)
      expect(gone.text).toContain('discourse_pending_expired')
    } finally {
      await site.close()
    }
  })
})

describe('the dry run', () => {
  it('shows the payload, the exact Base64 text signed and its sig — never the secret — and sends nothing', async () => {
    const before = await records()
    const res = await fetch(`${issuer}/api/v1/integrations/forum/dry-run`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ external_id: 'site-7' }),
    })
    const text = await res.text()
    expect(res.status, text).toBe(200)
    const run = JSON.parse(text) as { payload: object; signed: string; signature: string }
    expect(run.payload).toMatchObject({ external_id: 'site-7' })
    expect(Buffer.from(run.signed, 'base64').toString()).toContain('external_id=site-7')
    expect(run.signature).toBe(createHmac('sha256', SECRET).update(run.signed).digest('hex'))
    expect(text).not.toContain(SECRET)
    expect(await records()).toEqual(before)
  })
})

describe('the connection sheet', () => {
  it('gives the discourse connect url to paste and says which secrets are set, never their values', async () => {
    const res = await fetch(`${issuer}/api/v1/integrations/forum/connection`, { headers: auth })
    expect(res.status).toBe(200)
    const text = await res.text()
    const sheet = JSON.parse(text)
    const mine = JSON.stringify(sheet)
    expect(mine).toContain(`${issuer}/discourse/forum/sso`)
    expect(mine).toContain('discourse connect secret')
    expect(mine).toMatch(/"into":"secrets.discourse_api_key","set":true/)
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain(API_KEY)
  })
})

describe('a forum that does not answer', () => {
  it('is logged and skipped: the account write and the sign-out still succeed, no key in the log', async () => {
    await t.services.integrations.put('forum-down', {
      type: 'discourse',
      settings: { discourse_url: 'http://127.0.0.1:9' },
      secrets: { connect_secret: SECRET, discourse_api_key: `${API_KEY}-down` },
    })
    try {
      const put = await fetch(`${issuer}/api/v1/users/site-7`, {
        method: 'PUT',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'ada', email: 'ada@example.com', email_verified: true }),
      })
      expect(put.status).toBe(200)
      const out = await fetch(`${issuer}/api/v1/users/site-7/sessions`, {
        method: 'DELETE',
        headers: auth,
      })
      expect(out.status).toBe(200)
      await expect
        .poll(
          () =>
            t.logs.filter(
              (l) => l.code === 'ERR_PLATFORM_UNAVAILABLE' && l.integration === 'forum-down',
            ).length,
          { timeout: WAIT_TIMEOUT },
        )
        .toBeGreaterThanOrEqual(2)
      expect(t.logText()).not.toContain(`${API_KEY}-down`)
    } finally {
      await t.services.integrations.remove('forum-down')
    }
  })
})
