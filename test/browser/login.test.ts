/**
 * One real-browser test of the sign-in pages: playwright-core drives Debian's chromium
 * (/usr/bin/chromium, installed by npm test's first step) against the real app on a real port, through the
 * login page and the consent page to a relying party's callback, then proves the code is real
 * at /token. The login page is screenshotted to test-output/login-page.png.
 *
 * Without chromium this suite FAILS with an instruction; it never skips.
 * Everything listens on 127.0.0.1 only; no browser is downloaded.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionManager } from '../../src/login/session.ts'
import { auth, type TestApp } from '../helpers/app.ts'
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_MISSING } from '../helpers/browser.ts'
import { startOidcServer, type OidcServer } from '../helpers/oidc.ts'
import { PROCESS_TEST_TIMEOUT, WAIT_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/', import.meta.url))
const SCREENSHOT = `${OUTPUT_DIR}login-page.png`
const SITE_NAME = 'Test Site' // test/helpers/app.ts
const CLIENT_ID = 'community-chat'
/** The integration's display_name: what the pages call it (never its id). */
const CLIENT_NAME = 'Community Chat'
const USERNAME = 'ada'
const PASSWORD = 'correct horse battery staple'
const EXTERNAL_ID = 'site-user-7'
const SAML_SP = 'wiki'
const TICKET_SECRET = 'browser-test-ticket-secret-0123456789abcdef'

/** Starts a node:http server on 127.0.0.1 on a free port. */
async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function close(server: http.Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve()
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

const b64url = (buf: Buffer) => buf.toString('base64url')

/** What a relying party keeps between sending the browser away and the callback. */
function newAuthRequest(issuer: string, redirectUri: string) {
  const state = b64url(randomBytes(16))
  const verifier = b64url(randomBytes(32))
  const challenge = b64url(createHash('sha256').update(verifier).digest())
  const url = new URL(`${issuer}/auth`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    scope: 'openid profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString()
  return { url: url.toString(), state, verifier }
}

/** The page's accessibility basics: lang, one h1, a label for every field, named buttons. */
async function accessibilityBasics(page: Page) {
  const fields = page.locator('input:not([type=hidden]), select, textarea')
  const unlabelled: string[] = []
  for (const field of await fields.all()) {
    const id = await field.getAttribute('id')
    const labelled =
      (id !== null && (await page.locator(`label[for="${id}"]`).count()) === 1) ||
      (await field.getAttribute('aria-label')) !== null
    if (!labelled) unlabelled.push((await field.getAttribute('name')) ?? '(no name)')
  }
  const unnamedButtons: string[] = []
  for (const button of await page.getByRole('button').all()) {
    if (!(await button.innerText()).trim() && !(await button.getAttribute('aria-label')))
      unnamedButtons.push((await button.getAttribute('class')) ?? 'button')
  }
  return {
    lang: await page.locator('html').getAttribute('lang'),
    h1: await page.locator('h1').count(),
    main: await page.getByRole('main').count(),
    unlabelled,
    unnamedButtons,
  }
}

/**
 * WCAG contrast ratio between an element's text colour and its background colour, as the
 * browser paints them (any CSS colour syntax: the browser resolves it through a canvas).
 */
async function contrastOf(page: Page, selector: string): Promise<number> {
  // A string, not a function: this file compiles without the DOM lib, and it runs in the page.
  return page.evaluate<number>(`(() => {
    const style = getComputedStyle(document.querySelector(${JSON.stringify(selector)}))
    const canvas = document.createElement('canvas')
    canvas.width = canvas.height = 1
    const ctx = canvas.getContext('2d', { willReadFrequently: true })
    const rgb = (color) => { ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 1, 1); ctx.fillStyle = color; ctx.fillRect(0, 0, 1, 1); return [...ctx.getImageData(0, 0, 1, 1).data].slice(0, 3) }
    const lum = (c) => c.map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4 }).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0)
    const a = lum(rgb(style.color)), b = lum(rgb(style.backgroundColor))
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
  })()`)
}

let browser: Browser | undefined
let t: TestApp
let server: OidcServer | undefined
let rp: http.Server | undefined
let issuer: string
let callback: string
let rpBase: string
let clientSecret: string
/** Every query string the relying party's callback received, in order. */
const received: URLSearchParams[] = []
/** Every form POSTed to the relying party / service provider (form_post callback, SAML ACS), in order. */
const posted: { path: string; body: URLSearchParams }[] = []

function requireBrowser(): Browser {
  if (!browser) throw new Error(CHROMIUM_MISSING)
  return browser
}

beforeAll(async () => {
  // The relying party: records what reaches its callback, answers "ok".
  rp = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (req.method === 'POST') {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        posted.push({ path: url.pathname, body: new URLSearchParams(body) })
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('posted')
      })
      return
    }
    // The site's page that hands a ticket over by an auto-submitted POST /ticket form. Served from
    // 127.0.0.1 (in SITE_ORIGINS) it is the site; served from localhost it is another site.
    if (url.pathname === '/site-form') {
      const field = (name: string, value: string) =>
        `<input type="hidden" name="${name}" value="${value.replace(/[&"<>]/g, '')}">`
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<!doctype html><title>site</title><form method="post" action="${issuer}/ticket">${field('ticket', url.searchParams.get('ticket') ?? '')}${field('return_to', `${rpBase}/welcome`)}</form><script>document.forms[0].submit()</script>`,
        )
      return
    }
    // The site's sign-out page that hands a logout ticket over by an auto-submitted POST /logout
    // form (README "Signing out"), back to the site's /bye.
    if (url.pathname === '/site-logout-form') {
      const field = (name: string, value: string) =>
        `<input type="hidden" name="${name}" value="${value.replace(/[&"<>]/g, '')}">`
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<!doctype html><title>site</title><form method="post" action="${issuer}/logout">${field('ticket', url.searchParams.get('ticket') ?? '')}${field('return_to', `${rpBase}/bye`)}</form><script>document.forms[0].submit()</script>`,
        )
      return
    }
    // A page of another site that tries to frame our sign-in page (clickjacking).
    if (url.pathname === '/frame') {
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<!doctype html><title>framer</title><iframe name="victim" src="${issuer}/login?return_to=%2Fhealthz"></iframe>`,
        )
      return
    }
    if (url.pathname === '/cb') received.push(url.searchParams)
    const known =
      url.pathname === '/cb' ||
      url.pathname === '/bye' ||
      url.pathname === '/welcome' ||
      url.pathname === '/board' ||
      url.pathname === '/site-logout'
    res
      .writeHead(known ? 200 : 404, { 'Content-Type': 'text/plain' })
      .end(url.pathname === '/cb' ? 'ok' : url.pathname === '/bye' ? 'bye' : 'not found')
  })
  rpBase = await listen(rp)
  callback = `${rpBase}/cb`

  // The app on a real port (the issuer is the URL the browser uses). Site tickets from the
  // relying party's origin (its pages stand in for the site's); SITE_LOGOUT_URL: the site's own
  // sign-out, on the relying party's origin too.
  server = await startOidcServer({
    siteTicket: { secret: TICKET_SECRET, origins: [rpBase] },
    siteLogoutUrl: `${rpBase}/site-logout`,
  })
  ;({ t, issuer } = server)

  const api = (path: string, body: unknown) =>
    fetch(`${issuer}/api/v1${path}`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
  const user = await api(`/users/${EXTERNAL_ID}`, {
    username: USERNAME,
    email: 'ada@example.com',
    given_name: 'Ada',
    family_name: 'Lovelace',
    password: PASSWORD,
  })
  expect(user.status, await user.clone().text()).toBe(201)
  const integration = await api(`/integrations/${CLIENT_ID}`, {
    type: 'oidc',
    settings: {
      redirect_uris: [callback],
      post_logout_redirect_uris: [`${rpBase}/bye`],
      display_name: CLIENT_NAME,
    },
  })
  expect(integration.status, await integration.clone().text()).toBe(201)
  clientSecret = ((await integration.json()) as { generated_secrets: { client_secret: string } })
    .generated_secrets.client_secret
  const sp = await api(`/integrations/${SAML_SP}`, {
    type: 'saml',
    settings: {
      entity_id: `${rpBase}/saml/metadata`,
      acs_urls: [{ url: `${rpBase}/acs`, binding: 'HTTP-POST' }],
    },
  })
  expect(sp.status, await sp.clone().text()).toBe(201)

  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`\n${'!'.repeat(78)}\n!!  ${CHROMIUM_MISSING}\n${'!'.repeat(78)}\n\n`)
    return // every test then fails with the instruction
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await close(rp)
})

/** Every Content-Security-Policy violation a context's pages reported (console and DOM event). */
const violations = new WeakMap<BrowserContext, string[]>()
const violationsOf = (context: BrowserContext) => violations.get(context) ?? []

async function newContext(): Promise<BrowserContext> {
  const context = await requireBrowser().newContext({
    colorScheme: 'light',
    locale: 'en-GB',
    viewport: { width: 1024, height: 720 },
  })
  // Playwright's own 30 s per action (and expect.poll's 1 s, given WAIT_TIMEOUT where used) is
  // a speed limit on a loaded machine; keep only a hang limit.
  context.setDefaultTimeout(WAIT_TIMEOUT)
  const seen: string[] = []
  violations.set(context, seen)
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) seen.push(`console: ${message.text()}`)
  })
  // The DOM's own report too; the binding and the init script are the browser's, not the page's, so the CSP does not stop them.
  await context.exposeBinding(
    '__reportCspViolation',
    (_source, text: string) => void seen.push(`event: ${text}`),
  )
  await context.addInitScript(
    `document.addEventListener('securitypolicyviolation', (e) => window.__reportCspViolation(e.violatedDirective + ' ' + e.blockedURI))`,
  )
  return context
}

// A real browser process drives each test: a hang-only limit (test/helpers/timeouts.ts).
describe('sign-in in a real browser (Debian chromium)', { timeout: PROCESS_TEST_TIMEOUT }, () => {
  it(`needs ${CHROMIUM}`, () => {
    expect(existsSync(CHROMIUM), CHROMIUM_MISSING).toBe(true)
  })

  it('a wrong password shows the error in the page, announced as an alert, and keeps the username', async () => {
    const context = await newContext()
    try {
      const page = await context.newPage()
      const flow = newAuthRequest(issuer, callback)
      await page.goto(flow.url)
      await page.getByLabel('Username or email').fill(USERNAME)
      await page.getByLabel('Password', { exact: true }).fill('not the password')
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ])
      expect(response.status()).toBe(401)
      await expect
        .poll(() => page.getByRole('alert').innerText(), { timeout: WAIT_TIMEOUT })
        .toContain('That username or password is not right.')
      expect(await page.getByLabel('Username or email').inputValue()).toBe(USERNAME)
      expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe('')
      expect(await accessibilityBasics(page)).toMatchObject({
        lang: 'en',
        h1: 1,
        unlabelled: [],
        unnamedButtons: [],
      })
      expect(received).toHaveLength(0)
      expect(violationsOf(context)).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('signs in through the login page and consent to the callback; the code is real; a second visit needs no form', async () => {
    const context = await newContext()
    try {
      const page = await context.newPage()
      const flow = newAuthRequest(issuer, callback)

      // The login page.
      await page.goto(flow.url)
      expect(new URL(page.url()).pathname).toMatch(/^\/interaction\/[\w-]+$/)
      expect(await page.title()).toContain(SITE_NAME)
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Sign in')
      expect(await page.locator('body').innerText()).toContain(CLIENT_NAME)
      expect(await page.locator('body').innerText()).not.toContain(CLIENT_ID)
      expect(await accessibilityBasics(page)).toEqual({
        lang: 'en',
        h1: 1,
        main: 1,
        unlabelled: [],
        unnamedButtons: [],
      })
      expect(await page.getByLabel('Username or email').getAttribute('autocomplete')).toBe(
        'username',
      )
      expect(await page.getByLabel('Password', { exact: true }).getAttribute('type')).toBe(
        'password',
      )
      expect(await contrastOf(page, 'button[type=submit].primary')).toBeGreaterThanOrEqual(4.5)
      mkdirSync(OUTPUT_DIR, { recursive: true })
      await page.screenshot({ path: SCREENSHOT, fullPage: true })

      // Keyboard users see where they are.
      await page.getByLabel('Username or email').focus()
      await page.keyboard.press('Tab')
      expect(await page.evaluate('document.activeElement.id')).toBe('password')
      expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).not.toBe(
        'none',
      )

      await page.getByLabel('Username or email').fill(USERNAME)
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
      await page.getByRole('button', { name: 'Sign in' }).click()

      // The consent page.
      await page.getByRole('heading', { level: 1, name: 'Allow access' }).waitFor()
      expect(await page.title()).toContain(SITE_NAME)
      expect(await page.locator('body').innerText()).toContain(CLIENT_NAME)
      expect(await page.locator('body').innerText()).not.toContain(CLIENT_ID)
      expect(await accessibilityBasics(page)).toMatchObject({
        lang: 'en',
        h1: 1,
        main: 1,
        unlabelled: [],
        unnamedButtons: [],
      })
      await page.getByRole('button', { name: 'Allow' }).click()

      // The relying party's callback.
      await page.waitForURL((u) => u.href.startsWith(callback))
      expect(await page.locator('body').innerText()).toBe('ok')
      const back = new URL(page.url()).searchParams
      expect(back.get('state')).toBe(flow.state)
      expect(back.get('error')).toBeNull()
      const code = back.get('code')
      expect(code).toMatch(/^[\w-]{20,}$/)
      expect(received).toHaveLength(1)
      expect(received[0]!.get('code')).toBe(code)
      expect(received[0]!.get('iss')).toBe(issuer)

      // The code is real: the relying party exchanges it (client_secret_basic + PKCE verifier).
      const tokenRequest = (code: string, verifier: string) =>
        fetch(`${issuer}/token`, {
          method: 'POST',
          headers: {
            Authorization: `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
            'Content-Type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: callback,
            code_verifier: verifier,
          }),
        })
      const token = await tokenRequest(code!, flow.verifier)
      const tokens = (await token.json()) as Record<string, unknown>
      expect(token.status, JSON.stringify(tokens)).toBe(200)
      expect(tokens).toMatchObject({
        token_type: 'Bearer',
        access_token: expect.any(String),
        id_token: expect.any(String),
      })
      const { payload } = await jwtVerify(
        tokens.id_token as string,
        createRemoteJWKSet(new URL(`${issuer}/jwks`)),
        { issuer, audience: CLIENT_ID },
      )
      expect(payload).toMatchObject({ sub: EXTERNAL_ID, preferred_username: USERNAME })

      // One session: the same browser goes straight through, with no login form and no consent.
      const documents: string[] = []
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) documents.push(frame.url())
      })
      const again = newAuthRequest(issuer, callback)
      const response = await page.goto(again.url)
      const landed = `landed on ${page.url()}: ${(await page.locator('body').innerText()).slice(0, 300)}`
      expect(page.url().startsWith(callback), landed).toBe(true)
      expect(response?.status()).toBe(200)
      expect(documents.filter((u) => !u.startsWith(callback))).toEqual([])
      const second = new URL(page.url()).searchParams
      expect(second.get('state')).toBe(again.state)
      expect(second.get('code')).toMatch(/^[\w-]{20,}$/)
      expect(second.get('code')).not.toBe(code)
      expect(received).toHaveLength(2)
      expect((await tokenRequest(second.get('code')!, again.verifier)).status).toBe(200)

      // A code works once. (Last: oidc-provider answers a replay by revoking the whole grant.)
      const replay = await tokenRequest(code!, flow.verifier)
      expect(replay.status).toBe(400)
      expect(await replay.json()).toMatchObject({ error: 'invalid_grant' })
      // The strict CSP (no inline script or style, form-action, frame-ancestors) broke nothing.
      expect(violationsOf(context)).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('under the strict CSP every flow still completes: OIDC form_post, the logout confirmation, /login and the SAML auto-post; no violation', async () => {
    const context = await newContext()
    try {
      const page = await context.newPage()
      // The login page carries the strict policy.
      const flow = newAuthRequest(issuer, callback)
      const url = new URL(flow.url)
      url.searchParams.set('response_mode', 'form_post')
      const first = await page.goto(url.href)
      // page.goto answers with the last response of the redirects: the sign-in page's.
      expect(new URL(page.url()).pathname).toMatch(/^\/interaction\//)
      const csp = first!.headers()['content-security-policy']
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).not.toContain('unsafe-inline')

      // OIDC with response_mode=form_post: sign in, allow, and oidc-provider's auto-submitted form
      // (its inline script is allowed by the hash it adds to script-src) posts the code to the RP.
      await page.getByLabel('Username or email').fill(USERNAME)
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { level: 1, name: 'Allow access' }).waitFor()
      await page.getByRole('button', { name: 'Allow' }).click()
      await page.waitForURL(callback)
      expect(await page.locator('body').innerText()).toBe('posted')
      const callbackPost = posted.find((p) => p.path === '/cb')
      expect(callbackPost?.body.get('state')).toBe(flow.state)
      expect(callbackPost?.body.get('code')).toMatch(/^[\w-]{20,}$/)

      // RP-initiated logout: our confirmation page around oidc-provider's form, then on to the
      // registered post_logout_redirect_uri (another origin: form-action names it).
      const bye = `${rpBase}/bye`
      await page.goto(
        `${issuer}/session/end?${new URLSearchParams({ client_id: CLIENT_ID, post_logout_redirect_uri: bye, state: 'st' })}`,
      )
      await page.getByRole('heading', { level: 1, name: 'Sign out' }).waitFor()
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.waitForURL((u) => u.href.startsWith(bye))
      expect(new URL(page.url()).searchParams.get('state')).toBe('st')

      // The SAML door: IdP-initiated, no session left, so /login first; then the auto-post page
      // submits the Response to the SP's ACS by its static script.
      await page.goto(`${issuer}/saml/idp-initiated/${SAML_SP}?RelayState=r1`)
      expect(new URL(page.url()).pathname).toBe('/login')
      await page.getByLabel('Username or email').fill(USERNAME)
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(`${rpBase}/acs`)
      const acs = posted.find((p) => p.path === '/acs')
      expect(acs?.body.get('RelayState')).toBe('r1')
      expect(Buffer.from(acs?.body.get('SAMLResponse') ?? '', 'base64').toString()).toContain(
        '<saml:Assertion',
      )

      expect(violationsOf(context)).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('another site cannot frame the sign-in page (frame-ancestors, clickjacking)', async () => {
    const context = await newContext()
    try {
      const page = await context.newPage()
      await page.goto(`${rpBase}/frame`)
      // Chromium refuses the frame and says so; the framed document never shows the form.
      await expect
        .poll(() => violationsOf(context).join('\n'), { timeout: WAIT_TIMEOUT })
        .toContain('frame-ancestors')
      const frame = page.frame({ name: 'victim' })
      const forms = frame
        ? await frame
            .locator('form')
            .count()
            .catch(() => 0)
        : 0
      expect(forms).toBe(0)
    } finally {
      await context.close()
    }
  })

  it("POST /ticket: the site's own auto-submitted form signs in; the same form on another site is refused (login CSRF)", async () => {
    const context = await newContext()
    try {
      const page = await context.newPage()
      const ticket = async (externalId: string) => {
        const now = Math.floor(Date.now() / 1000)
        return new SignJWT({
          external_id: externalId,
          username: externalId,
          iat: now,
          exp: now + 60,
          aud: `${issuer}/ticket`,
          jti: randomBytes(16).toString('hex'),
        })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(TICKET_SECRET))
      }
      // Another site (localhost is not 127.0.0.1's site): Chromium sends its Origin, the form is refused.
      const evil = `http://localhost:${new URL(rpBase).port}`
      const refused = page.waitForResponse(
        (r) => r.url() === `${issuer}/ticket` && r.request().method() === 'POST',
      )
      await page.goto(`${evil}/site-form?ticket=${await ticket('mallory')}`)
      expect((await refused).status()).toBe(403)
      await page.waitForURL(`${issuer}/ticket`)
      expect(await page.locator('body').innerText()).toContain('origin_not_allowed')
      expect((await context.cookies(issuer)).some((c) => c.name === 'sso_bridge')).toBe(false)

      // The site itself (its origin is in SITE_ORIGINS): signed in and on to return_to.
      await page.goto(`${rpBase}/site-form?ticket=${await ticket('site-member-1')}`)
      await page.waitForURL(`${rpBase}/welcome`)
      expect((await context.cookies(issuer)).some((c) => c.name === 'sso_bridge')).toBe(true)
      expect(violationsOf(context)).toEqual([])
    } finally {
      await context.close()
    }
  })

  it("sign-out both ways: the site's auto-submitted logout form ends the bridge session; sso-bridge's own sign-out goes on to SITE_LOGOUT_URL (form-action names it)", async () => {
    const context = await newContext()
    try {
      const page = await context.newPage()
      const ticket = async (path: '/ticket' | '/logout') => {
        const now = Math.floor(Date.now() / 1000)
        return new SignJWT({
          external_id: 'site-member-2',
          iat: now,
          exp: now + 60,
          aud: `${issuer}${path}`,
          jti: randomBytes(16).toString('hex'),
        })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(TICKET_SECRET))
      }
      const bridgeCookie = async () =>
        (await context.cookies(issuer)).find((c) => c.name === 'sso_bridge')?.value
      const signInAtSite = async () => {
        await page.goto(`${rpBase}/site-form?ticket=${await ticket('/ticket')}`)
        await page.waitForURL(`${rpBase}/welcome`)
        const value = await bridgeCookie()
        expect(value).toEqual(expect.any(String))
        return value!
      }
      const sessions = createSessionManager({ kv: t.services.store, ttlMs: 60_000 })

      // The site signs out: its page auto-submits the logout ticket, the browser comes back to it.
      const first = await signInAtSite()
      await page.goto(`${rpBase}/site-logout-form?ticket=${await ticket('/logout')}`)
      await page.waitForURL(`${rpBase}/bye`)
      expect(await bridgeCookie()).toBeUndefined()
      expect(await sessions.get(first)).toBeNull()

      // The member signs out at sso-bridge (/session/end, no OIDC session: oidc-provider's
      // auto-submitted form): the browser goes on to the site's own sign-out.
      const second = await signInAtSite()
      await page.goto(`${issuer}/session/end`)
      await page.waitForURL(`${rpBase}/site-logout`)
      expect(await bridgeCookie()).toBeUndefined()
      expect(await sessions.get(second)).toBeNull()
      expect(violationsOf(context)).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('/login on to a token redirect reaches the platform (CSP form-action names its origin)', async () => {
    const board = await fetch(`${issuer}/api/v1/integrations/board`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        type: 'jwt',
        settings: { target_url: `${rpBase}/board`, query_param: 'jwt' },
        secrets: { secret: 's'.repeat(32) },
      }),
    })
    expect(board.status, await board.clone().text()).toBe(201)
    const context = await newContext()
    try {
      const page = await context.newPage()
      await page.goto(`${issuer}/login?return_to=${encodeURIComponent('/tokens/board/redirect')}`)
      await page.getByLabel('Username or email').fill(USERNAME)
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL((u) => u.href.startsWith(`${rpBase}/board?`))
      expect(new URL(page.url()).searchParams.get('jwt')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
      expect(violationsOf(context)).toEqual([])
    } finally {
      await context.close()
    }
  })
})
