/**
 * The pages a member sees at the OIDC door (issue #14, "Member-facing pages"), on a real server:
 * - the sign-in and consent pages name the integration by its `display_name` (its type's title
 *   without one), never by its id; the consent page shows its `logo_uri`, and that page's CSP
 *   lets that one image load and loosens nothing else;
 * - a hostile display_name or logo URL is escaped (page and header alike);
 * - the settings refuse an http logo off loopback, a name too long or with control characters;
 * - an authorization request oidc-provider cannot send back (a redirect_uri the client never
 *   registered, built by openid-client; an unknown client; no client at all) is a page speaking to
 *   the member, with the way back to the site, the request id and the protocol code — never a
 *   redirect; a client that asks for JSON gets JSON;
 * - our own error page (the HTTP error handler) the same way.
 */
import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { oidcErrorSentence, OIDC_ERROR_TITLE } from '../../src/oidc/error-page.ts'
import { OIDC_CLIENT_TITLE } from '../../src/oidc/client-settings.ts'
import { escapeHtml } from '../../src/web/views.ts'
import {
  Browser,
  createAccount,
  isConsentPage,
  isLoginPage,
  PASSWORD,
  registerClient,
  startOidcServer,
  type OidcServer,
  type Page,
} from '../helpers/oidc.ts'

const REDIRECT = 'https://rp.example/cb'
const SITE_LOGIN = 'https://site.example/members/sso-login'
const LOGO = 'https://cdn.chat.example/brand/logo.png'
/** Integration ids a member must never see: they are configuration keys. */
const BRANDED = 'rp-internal-7f3a'
const PLAIN = 'plain-internal-9c2e'
const HOSTILE = 'hostile-internal-1b5d'
const HOSTILE_NAME = `<img src=x onerror=alert(1)>"&'`
const HOSTILE_LOGO = 'https://cdn.chat.example/a;b,c/logo.png?x="><script>alert(1)</script>'

let s: OidcServer
/** A second server without SITE_LOGIN_URL: no link back, only the site's name. */
let bare: OidcServer

/** The Content-Security-Policy of a response, directive → its sources. */
function csp(page: Page): Map<string, string> {
  const header = page.headers.get('content-security-policy') ?? ''
  return new Map(
    header
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name, ...sources] = d.split(/\s+/)
        return [name!, sources.join(' ')]
      }),
  )
}

const authUrl = (server: OidcServer, params: Record<string, string>) =>
  `${server.issuer}/auth?${new URLSearchParams({ response_type: 'code', scope: 'openid profile', ...params })}`

/** Signs in with the password form and returns the login page and the consent page after it. */
async function toConsent(clientId: string): Promise<{ login: Page; consent: Page }> {
  const b = new Browser(s.issuer)
  const login = await b.go(authUrl(s, { client_id: clientId, redirect_uri: REDIRECT, state: 'st' }))
  expect(isLoginPage(login), login.html).toBe(true)
  const consent = await b.login(login, 'robin', PASSWORD)
  expect(isConsentPage(consent), consent.html).toBe(true)
  return { login, consent }
}

beforeAll(async () => {
  // Password sign-in beside the site's: the form is offered with "Continue with Test Site".
  s = await startOidcServer({ siteLogin: { url: SITE_LOGIN, passwordSignIn: true } })
  bare = await startOidcServer()
  await createAccount(s, '1001', { username: 'robin' })
  await registerClient(s, BRANDED, {
    redirect_uris: [REDIRECT],
    display_name: "Robin's Chat",
    logo_uri: `${LOGO}?v=3`,
  })
  await registerClient(s, PLAIN, { redirect_uris: [REDIRECT] })
  await registerClient(s, HOSTILE, {
    redirect_uris: [REDIRECT],
    display_name: HOSTILE_NAME,
    logo_uri: HOSTILE_LOGO,
  })
  await registerClient(bare, 'rp', { redirect_uris: [REDIRECT] })
})

afterAll(async () => {
  await s?.close()
  await bare?.close()
})

describe('consent and sign-in pages name the integration', () => {
  it('display_name and logo on the consent page, never the id; its CSP allows that one image and nothing else more', async () => {
    const { login, consent } = await toConsent(BRANDED)
    expect(login.html).toContain(`continue to <strong>Robin&#39;s Chat</strong>`)
    expect(consent.html).toContain(
      `<strong>Robin&#39;s Chat</strong> would like to know who you are`,
    )
    expect(consent.html).toContain(`<img src="${LOGO}?v=3" alt="" width="48" height="48">`)
    for (const page of [login, consent]) expect(page.html).not.toContain(BRANDED)

    const withLogo = csp(consent)
    const without = csp(login)
    // The logo's own URL (no query: CSP source expressions have none), not its whole origin.
    expect(withLogo.get('img-src')).toBe(`'self' data: ${LOGO}`)
    expect(without.get('img-src')).toBe(`'self' data:`)
    // Every other directive as on the sign-in page (form-action names the redirect origin on both).
    for (const [name, sources] of without)
      if (name !== 'img-src') expect(withLogo.get(name), name).toBe(sources)
    expect([...withLogo.keys()].sort()).toEqual([...without.keys()].sort())
    expect(withLogo.get('default-src')).toBe(`'none'`)
  })

  it("without display_name or logo: the type's title, no image, img-src untouched", async () => {
    const { login, consent } = await toConsent(PLAIN)
    expect(OIDC_CLIENT_TITLE).not.toBe('')
    expect(consent.html).toContain(`<strong>${escapeHtml(OIDC_CLIENT_TITLE)}</strong> would like`)
    expect(login.html).toContain(`continue to <strong>${escapeHtml(OIDC_CLIENT_TITLE)}</strong>`)
    expect(consent.html).not.toContain('<img')
    expect(csp(consent).get('img-src')).toBe(`'self' data:`)
    for (const page of [login, consent]) expect(page.html).not.toContain(PLAIN)
  })

  it('a hostile display_name and logo URL are escaped in the page and cannot break the CSP header', async () => {
    const { login, consent } = await toConsent(HOSTILE)
    for (const page of [login, consent]) {
      expect(page.html).not.toContain('<img src=x')
      expect(page.html).not.toContain('<script>')
      expect(page.html).toContain(escapeHtml(HOSTILE_NAME))
    }
    expect(consent.html).toContain(`<img src="${escapeHtml(HOSTILE_LOGO)}"`)
    const header = consent.headers.get('content-security-policy')!
    expect(header).not.toMatch(/[<>"]/)
    // `;` and `,` inside the path are percent-encoded: they would end the directive or the policy.
    expect(csp(consent).get('img-src')).toBe(
      `'self' data: https://cdn.chat.example/a%3Bb%2Cc/logo.png`,
    )
    expect(csp(consent).get('script-src')).toBe(`'self'`)
  })

  it('the settings refuse an http logo off loopback, other schemes, a long or control-character name; nothing is saved', async () => {
    const put = (id: string, settings: Record<string, unknown>) =>
      s.admin('PUT', `/integrations/${id}`, {
        type: 'oidc',
        settings: { redirect_uris: [REDIRECT], ...settings },
      })
    for (const [settings, path] of [
      [{ logo_uri: 'http://cdn.chat.example/logo.png' }, 'settings.logo_uri'],
      [{ logo_uri: 'javascript:alert(1)' }, 'settings.logo_uri'],
      [{ logo_uri: 'data:image/png;base64,AAAA' }, 'settings.logo_uri'],
      [{ display_name: 'x'.repeat(81) }, 'settings.display_name'],
      [{ display_name: '   ' }, 'settings.display_name'],
      [{ display_name: 'Chat\u202egnp.exe' }, 'settings.display_name'],
      [{ display_name: 'Chat\u0000' }, 'settings.display_name'],
    ] as const) {
      const res = await put('refused-one', settings)
      expect(res.status, JSON.stringify(settings)).toBe(400)
      expect(res.body.error).toBe('validation_failed')
      expect(res.body.details.issues.map((i: { path: string }) => i.path)).toContain(path)
    }
    expect((await s.admin('GET', '/integrations/refused-one')).status).toBe(404)
    // http on a loopback host is a platform under development: accepted, as is 80 characters.
    for (const logo of ['http://127.0.0.1:8080/logo.png', 'http://localhost/l.png']) {
      const ok = await put('loopback-logo', { logo_uri: logo, display_name: 'y'.repeat(80) })
      expect(ok.status, JSON.stringify(ok.body)).toBeLessThan(300)
    }
  })
  it('a client stored before the logo rule (an http logo off loopback) is refused as invalid_client with a page, never a 500; the log names the setting', async () => {
    await s.t.services.store.putIntegration({
      id: 'stored-before',
      type: 'oidc',
      settings: {
        redirect_uris: [REDIRECT],
        public: true,
        logo_uri: 'http://cdn.chat.example/l.png',
      },
      secrets: {},
      mapping: null,
    })
    const logsBefore = s.t.logs.length
    const page = await new Browser(s.issuer).go(
      authUrl(s, { client_id: 'stored-before', redirect_uri: REDIRECT, state: 'st' }),
      { headers: { Accept: 'text/html' } },
    )
    expect(page.status).toBe(400)
    expect(page.left).toBeUndefined()
    expect(page.html).toContain('<code>invalid_client</code>')
    const line = s.t.logs.slice(logsBefore).find((l) => l.code === 'ERR_VALIDATION')
    expect(line).toMatchObject({ client_id: 'stored-before', fields: ['settings.logo_uri'] })
  })
})

describe('OIDC error pages speak to the member', () => {
  it('openid-client with a redirect_uri the client never registered: a page (never a redirect) with the sentence, the way back, the request id and the code', async () => {
    const config = await client.discovery(new URL(s.issuer), BRANDED, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    })
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'https://evil.example/cb',
      scope: 'openid',
      state: client.randomState(),
    })
    const res = await fetch(url, { headers: { Accept: 'text/html' }, redirect: 'manual' })
    const html = await res.text()
    expect(res.status).toBe(400)
    expect(res.headers.get('location')).toBeNull()
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(html).toContain(`<title>${OIDC_ERROR_TITLE} · Test Site</title>`)
    expect(html).toContain(escapeHtml(oidcErrorSentence('invalid_redirect_uri')))
    expect(html).toContain('This chat&#39;s sign-in link is not valid')
    expect(html).toContain(
      'Go back to <a href="https://site.example/">Test Site</a> and try again.',
    )
    const requestId = res.headers.get('x-request-id')!
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(html).toContain(`Request id <code>${requestId}</code>`)
    expect(html).toContain('<code>invalid_redirect_uri</code>')
    // Nothing of the request but its id: not the unregistered URI, not the client id.
    expect(html).not.toContain('evil.example')
    expect(html).not.toContain(BRANDED)

    const json = await fetch(url, { headers: { Accept: 'application/json' }, redirect: 'manual' })
    expect(json.status).toBe(400)
    expect(json.headers.get('location')).toBeNull()
    expect(json.headers.get('content-type')).toMatch(/^application\/json/)
    expect(((await json.json()) as { error: string }).error).toBe('invalid_redirect_uri')
  })

  it('an unknown client and a request with no client: their own sentences; without SITE_LOGIN_URL no link, only the name', async () => {
    const b = new Browser(s.issuer)
    const unknown = await b.go(
      authUrl(s, { client_id: 'nobody-here', redirect_uri: REDIRECT, state: 'st' }),
      { headers: { Accept: 'text/html' } },
    )
    expect(unknown.left).toBeUndefined()
    expect(unknown.status).toBe(400)
    expect(unknown.html).toContain(escapeHtml(oidcErrorSentence('invalid_client')))
    expect(unknown.html).toContain('<code>invalid_client</code>')
    expect(unknown.html).not.toContain('nobody-here')

    const none = await new Browser(bare.issuer).go(`${bare.issuer}/auth?response_type=code`, {
      headers: { Accept: 'text/html' },
    })
    expect(none.status).toBe(400)
    expect(none.html).toContain('This chat&#39;s sign-in link is not valid.')
    expect(none.html).toContain('Go back to Test Site and try again.')
    expect(none.html).not.toContain('<a href')
    expect(none.html).toContain(`Request id <code>${none.headers.get('x-request-id')}</code>`)
    expect(none.html).toContain('<code>invalid_request</code>')
  })

  it('every common protocol error has its own plain sentence; an unknown one gets the default', () => {
    const errors = [
      'invalid_request',
      'invalid_client',
      'invalid_redirect_uri',
      'unauthorized_client',
      'access_denied',
      'login_required',
      'server_error',
    ]
    const sentences = errors.map(oidcErrorSentence)
    expect(new Set(sentences).size).toBe(errors.length)
    for (const sentence of sentences) expect(sentence).toMatch(/^[A-Z].*\.$/)
    for (const sentence of sentences) expect(sentence).not.toMatch(/_/)
    expect(oidcErrorSentence('no_such_error')).toBe(oidcErrorSentence('invalid_request'))
    expect(oidcErrorSentence('__proto__')).toBe(oidcErrorSentence('invalid_request'))
  })

  it('our own error page: an expired sign-in page and a form without its CSRF token, each with the request id; JSON for JSON', async () => {
    const b = new Browser(s.issuer)
    const gone = await b.go(`${s.issuer}/interaction/no-such-interaction`, {
      headers: { Accept: 'text/html' },
    })
    expect(gone.status).toBe(400)
    expect(gone.html).toContain('This sign-in page has expired or was already used.')
    expect(gone.html).toContain('Go back to <a href="https://site.example/">Test Site</a>')
    expect(gone.html).toContain(`Request id <code>${gone.headers.get('x-request-id')}</code>`)
    expect(gone.html).toContain('<code>invalid_request</code>')

    const csrf = await b.go(`${s.issuer}/interaction/no-such-interaction/confirm`, {
      method: 'POST',
      headers: { Accept: 'text/html', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'csrf=forged',
    })
    expect(csrf.status).toBe(403)
    expect(csrf.html).toContain('<title>Something went wrong · Test Site</title>')
    expect(csrf.html).toMatch(/<p>[A-Z][^<]*\.<\/p>/)
    expect(csrf.html).toContain(`Request id <code>${csrf.headers.get('x-request-id')}</code>`)
    expect(csrf.html).toContain('<code>csrf_failed</code>')
    expect(csrf.html).not.toContain('forged')

    const json = await fetch(`${s.url}/interaction/no-such-interaction`, {
      headers: { Accept: 'application/json' },
    })
    expect(json.status).toBe(400)
    expect(((await json.json()) as { error: string }).error).toBe('invalid_request')
  })
})
