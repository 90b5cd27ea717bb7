/**
 * Signing in at the site (issue #12, contract §1–§3): every door hands a member without a bridge
 * session off to SITE_LOGIN_URL, a site stand-in (test/helpers/site-stand-in.ts: node:http,
 * tickets signed with jose) answers with a ticket, and the pending sign-in completes with no form
 * on sso-bridge's side. Real server on a real port, real store, openid-client as the relying
 * party, node-saml as the SP, and Chromium for the whole OIDC round trip.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as client from 'openid-client'
import { chromium } from 'playwright-core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import { createSessionManager } from '../../src/login/session.ts'
import {
  Browser,
  isLoginPage,
  parseForms,
  registerClient,
  startOidcServer,
  type OidcServer,
  type Page,
} from '../helpers/oidc.ts'
import { docPage } from '../helpers/readme.ts'
import { NODE } from '../helpers/server.ts'
import { startSiteStandIn, type SiteStandIn } from '../helpers/site-stand-in.ts'
import { PROCESS_TEST_TIMEOUT, WAIT_TIMEOUT } from '../helpers/timeouts.ts'
import { autoPost, nodeSamlSp, registerSp, responseXml } from '../saml/helpers.ts'
import { integrations as tokenIntegrations, SPOT_ID } from '../tokens/helpers/fixtures.ts'

const SECRET = 'handoff-test-ticket-secret-0123456789abcdef'
const CHROMIUM = '/usr/bin/chromium'

let site: SiteStandIn
let s: OidcServer

async function start(siteLogin: { passwordSignIn?: boolean; url?: string } = {}) {
  site = await startSiteStandIn(SECRET)
  s = await startOidcServer({
    // docs/site-login.md's snippets play a site on https://www.example.com.
    siteTicket: { secret: SECRET, origins: [site.url, 'https://www.example.com'] },
    siteLogin: { url: site.loginUrl, ...siteLogin },
  })
  site.state.issuer = s.issuer
}

afterEach(async () => {
  await s?.close()
  await site?.close()
})

/** An RP whose redirect_uri is the stand-in's /cb, configured by openid-client's discovery. */
async function rp(id: string, spec: Parameters<typeof registerClient>[2] = {}) {
  const redirectUri = `${site.url}/cb`
  const { clientSecret } = await registerClient(s, id, {
    redirect_uris: [redirectUri],
    first_party: true,
    ...spec,
  })
  const config = await client.discovery(
    new URL(s.issuer),
    id,
    { client_secret: clientSecret! },
    client.ClientSecretBasic(clientSecret!),
    { execute: [client.allowInsecureRequests] },
  )
  return { config, redirectUri }
}

async function authorizationUrl(
  r: Awaited<ReturnType<typeof rp>>,
  extra: Record<string, string> = {},
) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(r.config, {
    redirect_uri: r.redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  })
  return { url, checks: { pkceCodeVerifier: verifier, expectedState: state } }
}

/**
 * The browser at the site: fetches the hand-off URL the issuer sent it to and submits the site's
 * auto-posting ticket form (from the site's origin, as a browser would), back onto the issuer.
 */
async function throughSite(b: Browser, page: Page): Promise<Page> {
  expect(page.left?.href.startsWith(site.loginUrl), `handed off to the site: ${page.url}`).toBe(
    true,
  )
  const html = await (await fetch(page.left!)).text()
  const form = parseForms(html)[0]
  if (!form) throw new Error(`the site answered no ticket form:\n${html}`)
  return b.go(form.action, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: site.url },
    body: new URLSearchParams(form.fields).toString(),
  })
}

describe('OIDC: the hand-off instead of a form', () => {
  beforeEach(() => start())

  it(
    'Chromium: authorize → the site → ticket → code → user-info, no sign-in form ever rendered',
    async () => {
      expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium`).toBe(true)
      const r = await rp('chat')
      const { url, checks } = await authorizationUrl(r)
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-proxy-server'],
      })
      const issuerPages: { url: string; html: string }[] = []
      try {
        const page = await browser.newPage()
        page.on('response', (res) => {
          if (
            res.url().startsWith(s.issuer) &&
            (res.headers()['content-type'] ?? '').includes('text/html')
          )
            void res.text().then(
              (html) => issuerPages.push({ url: res.url(), html }),
              () => undefined,
            )
        })
        await page.goto(url.href)
        await page.waitForURL(`${site.url}/cb?**`, { timeout: WAIT_TIMEOUT })
        const callback = new URL(page.url())
        const tokens = await client.authorizationCodeGrant(r.config, callback, checks)
        const claims = tokens.claims()!
        expect(claims.sub).toBe('wp-42')
        // auth_time is when the member entered credentials at the site (the ticket's auth_time).
        expect(claims.auth_time).toBe(site.state.authTime)
        const info = await client.fetchUserInfo(r.config, tokens.access_token, 'wp-42')
        expect(info.preferred_username).toBe('grace')
        expect(info.email).toBe('grace@site.example')
      } finally {
        await browser.close()
      }
      expect(site.handoffs).toHaveLength(1)
      expect(site.handoffs[0]!.returnTo).toMatch(new RegExp(`^${s.issuer}/interaction/[\\w-]+$`))
      expect(site.handoffs[0]!.force).toBe(false)
      for (const p of issuerPages)
        expect(p.html, `a form at ${p.url}`).not.toMatch(/name="password"/)
    },
    PROCESS_TEST_TIMEOUT,
  )

  it('prompt=none without a session: login_required at once, never a hand-off', async () => {
    const r = await rp('chat')
    const { url } = await authorizationUrl(r, { prompt: 'none' })
    const page = await new Browser(s.issuer).go(url)
    expect(page.left?.origin).toBe(site.url)
    expect(page.left?.pathname).toBe('/cb')
    expect(page.left?.searchParams.get('error')).toBe('login_required')
    expect(site.handoffs).toHaveLength(0)
  })

  it('prompt=none with a live bridge session but no OIDC session: a code, silently', async () => {
    const r = await rp('chat')
    const b = new Browser(s.issuer)
    // Signed in to the bridge by a ticket alone (the site's "before the platform" link).
    const signed = await b.go(
      `${s.issuer}/ticket?${new URLSearchParams({ ticket: await site.ticket(), return_to: `${s.issuer}/healthz` })}`,
    )
    expect(signed.status).toBe(200)
    const { url, checks } = await authorizationUrl(r, { prompt: 'none' })
    const page = await b.go(url)
    expect(page.left?.searchParams.get('error')).toBeNull()
    const tokens = await client.authorizationCodeGrant(r.config, page.left!, checks)
    expect(tokens.claims()!.sub).toBe('wp-42')
    expect(tokens.claims()!.auth_time).toBe(site.state.authTime)
    expect(site.handoffs).toHaveLength(0)
  })

  it('prompt=login: force=1; a stale ticket and one without auth_time are refused (ticket_stale, nothing changed), a fresh one signs in', async () => {
    const r = await rp('chat')
    const b = new Browser(s.issuer)
    // A first, ordinary sign-in.
    const first = await authorizationUrl(r)
    const done = await throughSite(b, await b.go(first.url))
    await client.authorizationCodeGrant(r.config, done.left!, first.checks)
    const cookieBefore = b.cookie('sso_bridge')

    const { url, checks } = await authorizationUrl(r, { prompt: 'login' })
    const handedOff = await b.go(url)
    expect(handedOff.left?.searchParams.get('force')).toBe('1')

    // A site that ignores force=1 sends its hour-old sign-in: refused, and the new nickname it
    // carries is not written.
    site.state.honourForce = false
    site.state.member = { ...site.state.member, nickname: 'Stale Grace' }
    const stale = await throughSite(b, handedOff)
    expect(stale.status).toBe(400)
    expect(stale.html).toContain('ticket_stale')
    expect(s.t.logs.some((l) => l.code === 'ERR_TICKET_STALE')).toBe(true)
    expect(b.cookie('sso_bridge')).toBe(cookieBefore)
    expect((await s.admin('GET', '/users/wp-42')).body.nickname).not.toBe('Stale Grace')

    // A ticket without auth_time cannot show a fresh sign-in either.
    site.state.honourForce = true
    site.state.sendAuthTime = false
    const missing = await throughSite(b, handedOff)
    expect(missing.status).toBe(400)
    expect(missing.html).toContain('ticket_stale')
    expect(b.cookie('sso_bridge')).toBe(cookieBefore)

    // The member enters credentials again at the site: through.
    site.state.sendAuthTime = true
    const before = Math.floor(Date.now() / 1000)
    const fresh = await throughSite(b, handedOff)
    const tokens = await client.authorizationCodeGrant(r.config, fresh.left!, checks)
    expect(tokens.claims()!.auth_time).toBeGreaterThanOrEqual(before)
    expect(tokens.claims()!.auth_time).toBe(site.state.authTime)
    expect(b.cookie('sso_bridge')).not.toBe(cookieBefore)
  })

  it('prompt=login: a session a ticket started just before the hand-off does not answer it (the skew is for the site only)', async () => {
    const r = await rp('chat')
    const b = new Browser(s.issuer)
    // The member signed in at the site this very second, and got here through a ticket.
    site.state.authTime = Math.floor(Date.now() / 1000)
    const first = await authorizationUrl(r)
    await throughSite(b, await b.go(first.url))
    const { url } = await authorizationUrl(r, { prompt: 'login' })
    const handedOff = await b.go(url)
    expect(handedOff.left?.searchParams.get('force')).toBe('1')
    // Back at the interaction without the site's fresh ticket: handed off again, no code.
    const again = await b.go(handedOff.left!.searchParams.get('return_to')!)
    expect(again.left?.origin + again.left!.pathname).toBe(site.loginUrl)
    expect(again.left?.searchParams.get('force')).toBe('1')
  })

  it('max_age older than the session: force=1, and the fresh ticket answers it', async () => {
    const r = await rp('chat')
    const b = new Browser(s.issuer)
    const first = await authorizationUrl(r)
    await throughSite(b, await b.go(first.url))
    // The bridge session's auth_time is the site's, an hour ago: max_age=60 wants a fresh one.
    const { url, checks } = await authorizationUrl(r, { max_age: '60' })
    // Bounds from the clock, not from how fast the flow runs: the token's auth_time is the one the
    // site set when it honoured force=1, which cannot precede this line.
    const before = Math.floor(Date.now() / 1000)
    const handedOff = await b.go(url)
    expect(handedOff.left?.searchParams.get('force')).toBe('1')
    const page = await throughSite(b, handedOff)
    const tokens = await client.authorizationCodeGrant(r.config, page.left!, checks)
    expect(tokens.claims()!.auth_time).toBe(site.state.authTime)
    expect(tokens.claims()!.auth_time).toBeGreaterThanOrEqual(before)
  })

  it('a ticket coming back to an interaction that is gone: a clear page, the ticket unused, no session', async () => {
    const b = new Browser(s.issuer)
    const ticket = await site.ticket()
    const page = await b.go(`${s.issuer}/ticket`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: site.url },
      body: new URLSearchParams({
        ticket,
        return_to: `${s.issuer}/interaction/gone-uid-123`,
      }).toString(),
    })
    expect(page.status).toBe(400)
    expect(page.html).toContain('sign_in_expired')
    expect(b.cookie('sso_bridge')).toBeUndefined()
    expect((await s.admin('GET', '/users/wp-42')).status).toBe(404)
    // Unused: the same ticket still signs in elsewhere.
    const ok = await b.go(
      `${s.issuer}/ticket?${new URLSearchParams({ ticket, return_to: `${s.issuer}/healthz` })}`,
    )
    expect(ok.status).toBe(200)
    expect(b.cookie('sso_bridge')).toBeDefined()
  })

  it('auth_time in the future is refused (ticket_invalid)', async () => {
    const b = new Browser(s.issuer)
    const ticket = await site.ticket({ auth_time: Math.floor(Date.now() / 1000) + 3600 })
    const page = await b.go(
      `${s.issuer}/ticket?${new URLSearchParams({ ticket, return_to: `${s.issuer}/healthz` })}`,
    )
    expect(page.status).toBe(400)
    expect(page.html).toContain('ticket_invalid')
    expect(b.cookie('sso_bridge')).toBeUndefined()
  })

  it('PASSWORD_SIGN_IN=off (the default with SITE_LOGIN_URL): no form anywhere, a password POST refused', async () => {
    const r = await rp('chat')
    const b = new Browser(s.issuer)
    const { url } = await authorizationUrl(r)
    const handedOff = await b.go(url)
    expect(isLoginPage(handedOff)).toBe(false)
    const interaction = new URL(handedOff.left!.searchParams.get('return_to')!).pathname
    for (const path of [`${interaction}/login`, '/login?return_to=%2Fhealthz']) {
      const refused = await b.go(`${s.issuer}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
        body: new URLSearchParams({
          username: 'grace',
          password: 'whatever',
          csrf: 'x',
        }).toString(),
      })
      expect(refused.status, path).toBe(403)
      expect(refused.html).toContain('password_sign_in_off')
    }
    // /login itself hands off too.
    const login = await b.go(`${s.issuer}/login?return_to=%2Fhealthz`)
    expect(login.left?.href).toBe(
      `${site.loginUrl}?return_to=${encodeURIComponent(`${s.issuer}/healthz`)}`,
    )
    expect(b.cookie('sso_bridge')).toBeUndefined()
  })
})

describe('OIDC: password sign-in beside the site', () => {
  beforeEach(() => start({ passwordSignIn: true }))

  it('the form offers "Continue with <SITE_NAME>", a link that performs the hand-off', async () => {
    const r = await rp('chat')
    const b = new Browser(s.issuer)
    const { url, checks } = await authorizationUrl(r)
    const page = await b.go(url)
    expect(isLoginPage(page)).toBe(true)
    const href = /<a href="([^"]+)">Continue with Test Site<\/a>/.exec(page.html)?.[1]
    expect(href).toBeDefined()
    const link = new URL(href!.replaceAll('&amp;', '&'))
    expect(link.origin + link.pathname).toBe(site.loginUrl)
    expect(link.searchParams.get('return_to')).toBe(page.url)
    // A wrong password shows the form again, the link still above it.
    const wrong = await b.login(page, 'grace', 'not the password')
    expect(wrong.status).toBe(401)
    expect(wrong.html).toContain('>Continue with Test Site</a>')
    const done = await throughSite(b, { ...page, left: link })
    const tokens = await client.authorizationCodeGrant(r.config, done.left!, checks)
    expect(tokens.claims()!.sub).toBe('wp-42')
  })

  it("an integration's site_login_url hands off directly, whatever PASSWORD_SIGN_IN says", async () => {
    const own = `${site.url}/sso-login?site=chat2`
    const r = await rp('chat2', { site_login_url: own } as never)
    const page = await new Browser(s.issuer).go((await authorizationUrl(r)).url)
    expect(page.status).toBe(303)
    expect(page.left?.searchParams.get('site')).toBe('chat2')
    expect(page.left?.searchParams.get('return_to')).toMatch(/\/interaction\//)
  })
})

describe('SAML: the hand-off, ForceAuthn and IsPassive (node-saml)', () => {
  beforeEach(async () => {
    await start()
    await registerSp(s, 'wiki')
  })
  const saml = () => ({
    ...s,
    idpEntityId: `${s.issuer}/saml/metadata`,
    ssoUrl: `${s.issuer}/saml/sso`,
    sloUrl: `${s.issuer}/saml/slo`,
  })

  it('SP-initiated: hand-off, ticket, Response; ForceAuthn: a stale ticket refused, a fresh one accepted, AuthnInstant its auth_time', async () => {
    const b = new Browser(s.issuer)
    const sp = nodeSamlSp(saml())
    const handedOff = await b.go(await sp.getAuthorizeUrlAsync('', undefined, {}))
    expect(handedOff.left?.searchParams.get('return_to')).toMatch(/\/saml\/continue\/[\w-]{32}$/)
    expect(handedOff.left?.searchParams.get('force')).toBeNull()
    const { profile } = await sp.validatePostResponseAsync(
      autoPost(await throughSite(b, handedOff)).fields,
    )
    expect(profile?.nameID).toBeTruthy()

    const forced = nodeSamlSp(saml(), { forceAuthn: true })
    const again = await b.go(await forced.getAuthorizeUrlAsync('', undefined, {}))
    expect(again.left?.searchParams.get('force')).toBe('1')
    site.state.honourForce = false
    const stale = await throughSite(b, again)
    expect(stale.status).toBe(400)
    expect(stale.html).toContain('ticket_stale')
    site.state.honourForce = true
    const fresh = autoPost(await throughSite(b, again)).fields
    const xml = responseXml(fresh)
    expect(xml).toContain(
      `AuthnInstant="${new Date(site.state.authTime * 1000).toISOString().replace('.000Z', 'Z')}"`,
    )
    const out = await forced.validatePostResponseAsync(fresh)
    expect(out.profile?.nameID).toBe(profile?.nameID)
  })

  it('ForceAuthn: a re-login at the site in the very second (and millisecond) of the request is accepted, not sent round again', async () => {
    // Whole seconds, as WordPress keeps login times: the request's createdAt, the hand-off, the
    // ticket's auth_time and the new session all fall on one frozen instant.
    // (Today's: the site stand-in's clock and the ticket verifier's must agree.)
    const instant = Math.floor(Date.now() / 1000) * 1000 + 500
    vi.useFakeTimers({ toFake: ['Date'], now: instant })
    try {
      const b = new Browser(s.issuer)
      const forced = nodeSamlSp(saml(), { forceAuthn: true })
      const handedOff = await b.go(await forced.getAuthorizeUrlAsync('', undefined, {}))
      expect(handedOff.left?.searchParams.get('force')).toBe('1')
      const fresh = autoPost(await throughSite(b, handedOff)).fields
      expect(site.state.authTime).toBe(Math.floor(instant / 1000))
      expect(responseXml(fresh)).toContain(
        `AuthnInstant="${new Date(instant - 500).toISOString().replace('.000Z', 'Z')}"`,
      )
      expect((await forced.validatePostResponseAsync(fresh)).profile?.nameID).toBeTruthy()
    } finally {
      vi.useRealTimers()
    }
  })

  it('IsPassive without a session: a NoPassive Response at once, never a hand-off', async () => {
    const b = new Browser(s.issuer)
    const sp = nodeSamlSp(saml(), { passive: true })
    const page = await b.go(await sp.getAuthorizeUrlAsync('', undefined, {}))
    expect(page.left).toBeUndefined()
    const { fields } = autoPost(page)
    expect(responseXml(fields)).toContain('urn:oasis:names:tc:SAML:2.0:status:NoPassive')
    // node-saml reads NoPassive as "not signed in": no profile.
    expect((await sp.validatePostResponseAsync(fields)).profile).toBeNull()
    expect(site.handoffs).toHaveLength(0)
  })
})

describe('tokens: the browser token URLs hand off', () => {
  beforeEach(async () => {
    await start()
    const res = await s.admin('PUT', '/integrations/ms', tokenIntegrations.meltingspot)
    expect(res.status).toBe(201)
  })

  it("MeltingSpot's authorization URL: the site, a ticket, then on to the spot with a token", async () => {
    // MeltingSpot needs first and last names: the site's ticket carries them.
    site.state.member = { ...site.state.member, given_name: 'Grace', family_name: 'Hopper' }
    const b = new Browser(s.issuer)
    const page = await b.go(`${s.issuer}/tokens/ms/redirect`, { headers: { Accept: 'text/html' } })
    expect(page.status).toBe(303)
    expect(page.left?.searchParams.get('return_to')).toBe(`${s.issuer}/tokens/ms/redirect`)
    const back = await throughSite(b, page)
    expect(back.left?.href).toMatch(
      new RegExp(`^https://app\\.meltingspot\\.io/spot/${SPOT_ID}/sso/jwt\\?ms_token=`),
    )
  })

  it('GET /tokens/{id}: a page navigated to is handed off; a script gets the hand-off URL in a 401', async () => {
    const b = new Browser(s.issuer)
    const nav = await b.go(`${s.issuer}/tokens/ms`, { headers: { Accept: 'text/html' } })
    expect(nav.status).toBe(303)
    expect(nav.left?.searchParams.get('return_to')).toBe(`${s.issuer}/tokens/ms`)
    const xhr = await fetch(`${s.url}/tokens/ms`, { headers: { Accept: 'application/json' } })
    expect(xhr.status).toBe(401)
    const body = (await xhr.json()) as { error: string; login_url: string }
    expect(body.error).toBe('login_required')
    expect(new URL(body.login_url).searchParams.get('return_to')).toBe(`${s.issuer}/tokens/ms`)
  })
})

describe('config: SITE_LOGIN_URL and PASSWORD_SIGN_IN', () => {
  const env = (e: Record<string, string>) => loadConfig(e, { envFile: false })
  it('password sign-in defaults off with SITE_LOGIN_URL, on without; off without it stops startup', () => {
    expect(env({ SITE_LOGIN_URL: 'https://www.example.com/sso' }).siteLogin).toEqual({
      url: 'https://www.example.com/sso',
      passwordSignIn: false,
    })
    expect(env({}).siteLogin).toEqual({ passwordSignIn: true })
    expect(
      env({ SITE_LOGIN_URL: 'https://www.example.com/sso', PASSWORD_SIGN_IN: 'on' }).siteLogin
        .passwordSignIn,
    ).toBe(true)
    expect(() => env({ PASSWORD_SIGN_IN: 'off' })).toThrow(/PASSWORD_SIGN_IN/)
    expect(() => env({ SITE_LOGIN_URL: 'ftp://x.example/' })).toThrow(/SITE_LOGIN_URL/)
  })
})

describe("the site's endpoint: docs/site-login.md's snippets, run as written", () => {
  const AT = Math.floor(Date.now() / 1000) - 120
  const section = docPage('site-login')
  const block = (lang: string) => {
    const blocks = [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map(
      (m) => m[1]!,
    )
    expect(blocks, lang).toHaveLength(1)
    return blocks[0]!.replaceAll('https://sso.example.com', s.issuer)
  }
  function run(interpreter: string, file: string, code: string): Answer[] {
    const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-handoff-snippet-'))
    try {
      writeFileSync(path.join(dir, file), code)
      return JSON.parse(
        execFileSync(interpreter, [path.join(dir, file)], {
          env: { PATH: process.env.PATH, SITE_TICKET_SECRET: SECRET },
          encoding: 'utf8',
          timeout: PROCESS_TEST_TIMEOUT,
        }),
      ) as Answer[]
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  type Answer = { redirect?: string; status?: number; html?: string }

  beforeEach(() => start())

  /** The four answers: signed out, force=1, a foreign return_to, signed in (the ticket form). */
  async function check([signedOut, forced, foreign, signedIn]: Answer[]) {
    const returnTo = `${s.issuer}/healthz`
    for (const answer of [signedOut, forced]) {
      const login = new URL(answer!.redirect!)
      expect(login.origin + login.pathname).toBe('https://www.example.com/login')
      const back = new URL(login.searchParams.get('redirect_to')!)
      expect(back.searchParams.get('return_to')).toBe(returnTo)
      expect(back.searchParams.has('force')).toBe(false)
    }
    expect(foreign!.status).toBe(400)
    expect(signedIn!.status).toBe(200)
    const form = parseForms(signedIn!.html!)[0]!
    expect(form.action).toBe(`${s.issuer}/ticket`)
    const b = new Browser(s.issuer)
    const page = await b.go(form.action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: site.url },
      body: new URLSearchParams(form.fields).toString(),
    })
    expect(page.status, page.html).toBe(200)
    expect(page.url).toBe(returnTo)
    const sessions = createSessionManager({ kv: s.t.services.store, ttlMs: 60_000 })
    expect(await sessions.get(b.cookie('sso_bridge'))).toMatchObject({
      auth_time: AT,
      amr: ['ticket'],
    })
  }

  it(
    'Node.js',
    async () => {
      const args = (q: string, m: string) => `${q}, ${m}, ${AT}`
      const rt = JSON.stringify(`${s.issuer}/healthz`)
      const m = "{ external_id: 'n-1', username: 'nadia' }"
      const out = run(
        NODE,
        'handoff.mjs',
        `${block('js')}\nconsole.log(JSON.stringify([ssoHandoff(${args(`{ return_to: ${rt} }`, 'null')}), ssoHandoff(${args(`{ return_to: ${rt}, force: '1' }`, m)}), ssoHandoff(${args("{ return_to: 'https://evil.example/x' }", m)}), ssoHandoff(${args(`{ return_to: ${rt} }`, m)})]))\n`,
      )
      await check(out)
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'PHP',
    async () => {
      const rt = `'${s.issuer}/healthz'`
      const m = "['external_id' => 'p-1', 'username' => 'pia']"
      const out = run(
        which('/usr/bin/php', 'php'),
        'handoff.php',
        `${block('php')}\necho json_encode([sso_handoff(['return_to' => ${rt}], null, ${AT}), sso_handoff(['return_to' => ${rt}, 'force' => '1'], ${m}, ${AT}), sso_handoff(['return_to' => 'https://evil.example/x'], ${m}, ${AT}), sso_handoff(['return_to' => ${rt}], ${m}, ${AT})]);\n`,
      )
      await check(out)
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'Python',
    async () => {
      const rt = `'${s.issuer}/healthz'`
      const m = "{'external_id': 'y-1', 'username': 'yusuf'}"
      const out = run(
        which('/usr/bin/python3', 'python3'),
        'handoff.py',
        `${block('python')}\nprint(json.dumps([sso_handoff({'return_to': ${rt}}, None, ${AT}), sso_handoff({'return_to': ${rt}, 'force': '1'}, ${m}, ${AT}), sso_handoff({'return_to': 'https://evil.example/x'}, ${m}, ${AT}), sso_handoff({'return_to': ${rt}}, ${m}, ${AT})]))\n`,
      )
      await check(out)
    },
    PROCESS_TEST_TIMEOUT,
  )
})

function which(...candidates: string[]): string {
  const found = candidates.find((c) => {
    if (c.includes('/')) return existsSync(c)
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })
  if (!found)
    throw new Error(
      `none of ${candidates.join(', ')} is installed: install Debian's php-cli and python3 (npm test does this first: scripts/system-packages.sh)`,
    )
  return found
}
