/**
 * The deployment docs/deploying.md describes, run as written: Debian's nginx terminating TLS
 * with the shipped site file (docs/deploy/nginx.conf, only its ports, host name and certificate
 * paths filled in) in front of a real server process with ISSUER=https://localhost:<nginx port>
 * and TRUST_PROXY=1. Everything below goes through nginx over TLS, with clients that trust the
 * throwaway certificate and nothing else: openid-client (code + PKCE), @node-saml/node-saml
 * (SP-initiated SSO), and the sign-in throttle reached from two loopback source addresses.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml'
import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  fillSite,
  makeCertificate,
  NGINX_SITE,
  startNginx,
  trustingFetch,
  type Nginx,
} from '../helpers/nginx.ts'
import { Browser, isConsentPage, isLoginPage, parseForms, type Page } from '../helpers/oidc.ts'
import {
  PROCESS_TEST_TIMEOUT,
  startServer,
  stopServer,
  type ServerProcess,
} from '../helpers/server.ts'
import { unitEnvironment } from '../helpers/systemd-unit.ts'
import { freePort } from '../helpers/wordpress.ts'
import { adminApi } from '../helpers/admin-api.ts'

const ADMIN_TOKEN = 'deploy-tls-admin-token-0123456789abcdef'
const PASSWORD = 'correct horse battery staple'
const RP_CB = 'https://rp.example/cb'
const SP_ENTITY = 'https://sp.example/saml/metadata'
const ACS = 'https://sp.example/saml/acs'
/** The per-IP sign-in budget the server runs with here (README: Sign-in throttling). */
const IP_ATTEMPTS = 3

let dir: string
let server: ServerProcess
let nginx: Nginx
let issuer: string
let httpPort: number
/** Secrets and cookie values handed out along the way: none may reach a log. */
const handedOut: string[] = [ADMIN_TOKEN, PASSWORD]
/** A client on 127.0.0.1 that trusts the test certificate. */
let tls: typeof fetch
let ca: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-tls-'))
  const cert = makeCertificate(dir)
  ca = cert.pem
  tls = trustingFetch(ca)
  const tlsPort = await freePort()
  httpPort = await freePort()
  issuer = `https://localhost:${tlsPort}`
  // The settings the shipped unit gives the server (HOST on loopback, TRUST_PROXY=1), but the
  // port (a free one) and the folders (a temp dir, from the helper).
  const {
    PORT: _port,
    DATA_DIR: _data,
    KEYS_DIR: _keys,
    NODE_COMPILE_CACHE: _cache,
    ...fromUnit
  } = unitEnvironment()
  expect(fromUnit).toMatchObject({ HOST: '127.0.0.1', TRUST_PROXY: '1' })
  server = await startServer({
    ...fromUnit,
    NODE_COMPILE_CACHE: path.join(dir, 'compile-cache'),
    ISSUER: issuer,
    ADMIN_TOKEN,
    LOGIN_ATTEMPTS_PER_IP: String(IP_ATTEMPTS),
    LOGIN_FAILURE_DELAY_MS: '0',
  })
  const site = fillSite(readFileSync(NGINX_SITE, 'utf8'), {
    serverName: 'localhost',
    tlsPort,
    httpPort,
    upstreamPort: Number(new URL(server.url).port),
    cert,
  })
  nginx = await startNginx(path.join(dir, 'nginx'), site)

  for (const [id, fields] of [
    ['42', { username: 'rob', email: 'rob@example.test' }],
    ['1001', { username: 'robin', email: 'robin@example.test' }],
  ] as const)
    expect((await admin('PUT', `/users/${id}`, { ...fields, password: PASSWORD })).status).toBe(201)
}, PROCESS_TEST_TIMEOUT)

afterAll(async () => {
  await nginx?.stop()
  await stopServer(server)
  if (dir) rmSync(dir, { recursive: true, force: true })
}, PROCESS_TEST_TIMEOUT)

/** The admin API, through nginx. */
function admin(method: string, p: string, body?: unknown) {
  return adminApi(issuer, ADMIN_TOKEN, tls)(method, p, body)
}

/** Every cookie the browser was sent carries Secure (there was at least one). */
function expectSecureCookies(browser: Browser) {
  expect(browser.setCookies.length).toBeGreaterThan(0)
  // The session cookies are credentials (the interaction cookie's value is the interaction id,
  // which oidc-provider puts in the URL by design).
  for (const name of ['sso_bridge', '_session']) {
    const value = browser.cookie(name)
    if (value) handedOut.push(value)
  }
  for (const c of browser.setCookies) expect(c.attributes.secure, c.name).toBe(true)
}

describe('behind nginx terminating TLS (docs/deploy/nginx.conf)', () => {
  it('discovery names https URLs on the nginx port; HSTS is sent; plain http redirects to https', async () => {
    const res = await tls(`${issuer}/.well-known/openid-configuration`)
    expect(res.status).toBe(200)
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d{6,}/)
    const doc = (await res.json()) as Record<string, unknown>
    expect(doc.issuer).toBe(issuer)
    const urls = Object.entries(doc).filter(
      ([k, v]) => typeof v === 'string' && (k.endsWith('_endpoint') || k === 'jwks_uri'),
    )
    expect(urls.map(([k]) => k)).toEqual(
      expect.arrayContaining(['authorization_endpoint', 'token_endpoint', 'jwks_uri']),
    )
    for (const [k, v] of urls) expect(v, k).toMatch(new RegExp(`^${issuer}/`))

    const metadata = await (await tls(`${issuer}/saml/metadata`)).text()
    const locations = [...metadata.matchAll(/Location="([^"]+)"/g)].map((m) => m[1]!)
    expect(locations.length).toBeGreaterThan(0)
    for (const l of locations) expect(l).toMatch(new RegExp(`^${issuer}/saml/`))

    // Port 80's server block only redirects (to the standard https port of the same host).
    const plain = await tls(`http://localhost:${httpPort}/login`, { redirect: 'manual' })
    expect(plain.status).toBe(301)
    expect(plain.headers.get('location')).toBe('https://localhost/login')
  })

  it('a client that does not trust the certificate cannot connect (the TLS is real)', async () => {
    await expect(fetch(`${issuer}/healthz`)).rejects.toThrow()
    expect((await tls(`${issuer}/healthz`)).status).toBe(200)
  })

  it('OIDC: an authorization-code flow with openid-client; every cookie is Secure', async () => {
    const created = await admin('PUT', '/integrations/rp', {
      type: 'oidc',
      settings: { redirect_uris: [RP_CB] },
    })
    expect(created.status).toBe(201)
    const secret = created.body.generated_secrets.client_secret as string
    handedOut.push(secret)
    const config = await client.discovery(
      new URL(issuer),
      'rp',
      { client_secret: secret },
      client.ClientSecretBasic(secret),
      { [client.customFetch]: (url, options) => tls(url, options as RequestInit) },
    )
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: RP_CB,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    })
    expect(url.href.startsWith(`${issuer}/auth?`)).toBe(true)

    const browser = new Browser(issuer, { fetch: tls })
    let page = await browser.go(url)
    expect(isLoginPage(page), `${page.url}: ${page.status}`).toBe(true)
    page = await browser.login(page, 'rob', PASSWORD)
    if (isConsentPage(page)) page = await browser.consent(page, 'allow')
    expect(page.left?.href.startsWith(RP_CB), `${page.url} ${page.status}`).toBe(true)

    const tokens = await client.authorizationCodeGrant(config, page.left!, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    })
    handedOut.push(tokens.access_token, tokens.id_token!, page.left!.searchParams.get('code')!)
    expect(tokens.claims()).toMatchObject({ iss: issuer, aud: 'rp' })
    const me = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)
    expect(me.sub).toBe(tokens.claims()!.sub)
    expectSecureCookies(browser)
    // oidc-provider's own cookies (its interaction and session) as well as the bridge session.
    const names = new Set(browser.setCookies.map((c) => c.name))
    expect(names).toContain('sso_bridge')
    expect(names).toContain('_session')
  })

  it('SAML: SP-initiated SSO with node-saml; the Response names the https issuer; cookies Secure', async () => {
    expect(
      (
        await admin('PUT', '/integrations/sp', {
          type: 'saml',
          settings: { entity_id: SP_ENTITY, acs_urls: [{ url: ACS, binding: 'HTTP-POST' }] },
        })
      ).status,
    ).toBe(201)
    const metadata = await (await tls(`${issuer}/saml/metadata`)).text()
    const certificate = /<(?:ds:)?X509Certificate>([^<]+)</.exec(metadata)![1]!.replace(/\s+/g, '')
    const sp = new SAML({
      callbackUrl: ACS,
      entryPoint: `${issuer}/saml/sso`,
      issuer: SP_ENTITY,
      idpIssuer: `${issuer}/saml/metadata`,
      idpCert: certificate,
      audience: SP_ENTITY,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      validateInResponseTo: ValidateInResponseTo.always,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
    })
    const browser = new Browser(issuer, { fetch: tls })
    let page = await browser.go(await sp.getAuthorizeUrlAsync('relay-tls', undefined, {}))
    const form = parseForms(page.html).find((f) => f.action.startsWith('/login'))
    expect(form, `${page.url}: ${page.status}`).toBeDefined()
    page = await browser.submit(
      page,
      { username: 'robin', password: PASSWORD },
      (f) => f === form || f.action === form!.action,
    )
    const post = parseForms(page.html).find((f) => f.method === 'post')
    expect(post?.action, `${page.url}: ${page.status}`).toBe(ACS)
    expect(post!.fields.RelayState).toBe('relay-tls')
    const { profile } = await sp.validatePostResponseAsync(post!.fields)
    expect(profile?.issuer).toBe(`${issuer}/saml/metadata`)
    expect(profile?.username).toBe('robin')
    expectSecureCookies(browser)
  })

  it('the throttle counts each client by the address nginx saw, whatever X-Forwarded-For it sends', async () => {
    const a = new Browser(issuer, { fetch: trustingFetch(ca, '127.0.0.2') })
    const b = new Browser(issuer, { fetch: trustingFetch(ca, '127.0.0.3') })
    /** One wrong password for a name no account has (so only the IP's budget is spent). */
    const attempt = async (browser: Browser, name: string, spoof: string) => {
      const page: Page = await browser.go(`${issuer}/login?return_to=%2F`)
      const form = parseForms(page.html).find((f) => f.action.startsWith('/login'))
      expect(form, `${page.url}: ${page.status}`).toBeDefined()
      const res = await browser.request(new URL(form!.action, page.url), {
        method: 'POST',
        // A client's own X-Forwarded-For: nginx appends what it saw, and only that is believed.
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-For': spoof },
        body: new URLSearchParams({
          ...form!.fields,
          username: name,
          password: 'wrong',
        }).toString(),
      })
      await res.arrayBuffer()
      return res.status
    }
    for (let i = 0; i < IP_ATTEMPTS; i++)
      expect(await attempt(a, `nobody-a${i}`, `203.0.113.${i + 1}`)).toBe(401)
    // 127.0.0.2 has spent its budget, however many addresses it claimed to come from …
    expect(await attempt(a, 'nobody-a-next', '198.51.100.7')).toBe(429)
    // … while 127.0.0.3, behind the same nginx, still has its own.
    expect(await attempt(b, 'nobody-b', '203.0.113.1')).toBe(401)
    // nginx saw both source addresses (its access log's first field, $remote_addr).
    const seen = new Set(
      nginx
        .accessLog()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    )
    expect(seen).toContain('127.0.0.2')
    expect(seen).toContain('127.0.0.3')
  })

  it("no secret, token or cookie handed out above reached the server's or nginx's logs", () => {
    expect(handedOut.length).toBeGreaterThan(6)
    const logs = `${server.logs()}\n${nginx.accessLog()}\n${nginx.errorLog()}`
    expect(logs).toContain('sso-bridge listening')
    for (const value of handedOut) {
      const at = logs.indexOf(value)
      expect(at, logs.slice(Math.max(0, at - 300), at + 100)).toBe(-1)
    }
  })
})
