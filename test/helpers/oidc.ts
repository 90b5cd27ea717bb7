/**
 * The OIDC door over a real HTTP server: the test app (real SQLite store, fixture keys) on
 * 127.0.0.1 with an ephemeral port, the issuer being that real URL, plus a tiny "browser" that
 * keeps cookies per origin, follows redirects by hand (fetch with `redirect: 'manual'`) and
 * fills in our sign-in, consent and sign-out forms the way a person would.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ADMIN_TOKEN, makeTestApp, type TestApp, type TestAppOptions } from './app.ts'
import { adminApi } from './admin-api.ts'

export interface OidcServer {
  t: TestApp
  /**
   * The issuer: the server's own URL, e.g. http://127.0.0.1:41234 (https://… with `tls`, the
   * server itself still speaking http behind a pretend proxy).
   */
  issuer: string
  /** The plain http URL the server listens on. */
  url: string
  /** Calls the admin API (JSON in, JSON out). */
  admin: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>
  close: () => Promise<void>
}

/**
 * Starts the app on a free port; the app is made once the port (so the issuer) is known. With
 * `tls`, the issuer is https and the app trusts X-Forwarded-Proto (see {@link Browser}) unless
 * `trustProxy` says otherwise.
 */
export async function startOidcServer(
  opts: Omit<TestAppOptions, 'issuer'> & { tls?: boolean } = {},
): Promise<OidcServer> {
  const { tls, ...appOptions } = opts
  const server: Server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  const issuer = tls ? `https://127.0.0.1:${port}` : url
  const t = makeTestApp({ ...(tls ? { trustProxy: true } : {}), ...appOptions, issuer })
  server.on('request', t.app)
  const admin = adminApi(url, ADMIN_TOKEN)
  return {
    t,
    issuer,
    url,
    admin,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await t.close()
    },
  }
}

export interface ClientSpec {
  redirect_uris?: string[]
  post_logout_redirect_uris?: string[]
  scopes?: string[]
  public?: boolean
  first_party?: boolean
  id_token_signing_alg?: 'RS256' | 'ES256'
  subject_type?: 'public' | 'pairwise'
  /** What members see the client called (the consent and sign-in pages). */
  display_name?: string
  logo_uri?: string
  mapping?: Record<string, unknown> | null
  secret?: string
}

/** Registers an `oidc` integration through the admin API; returns the client secret (generated when not given). */
export async function registerClient(
  s: OidcServer,
  id: string,
  spec: ClientSpec = {},
): Promise<{ clientId: string; clientSecret: string | undefined }> {
  const { mapping, secret, ...settings } = spec
  const res = await s.admin('PUT', `/integrations/${id}`, {
    type: 'oidc',
    settings: { redirect_uris: ['https://rp.example/cb'], ...settings },
    ...(mapping === undefined ? {} : { mapping }),
    ...(secret === undefined ? {} : { secrets: { client_secret: secret } }),
  })
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`PUT /integrations/${id}: ${res.status} ${JSON.stringify(res.body)}`)
  return { clientId: id, clientSecret: secret ?? res.body.generated_secrets?.client_secret }
}

export const PASSWORD = 'correct horse battery staple'

/** Creates (or replaces) an account with {@link PASSWORD} through the admin API. */
export async function createAccount(
  s: OidcServer,
  externalId: string,
  fields: Record<string, unknown> = {},
): Promise<void> {
  const res = await s.admin('PUT', `/users/${encodeURIComponent(externalId)}`, {
    username: `user${externalId}`,
    email: `user${externalId}@example.test`,
    password: PASSWORD,
    ...fields,
  })
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`PUT /users/${externalId}: ${res.status} ${JSON.stringify(res.body)}`)
}

export interface Cookie {
  name: string
  value: string
  /** Attributes as sent, lower-cased names (`httponly`, `samesite`, `secure`, `path`, `max-age`). */
  attributes: Record<string, string | true>
}

/** Parses one Set-Cookie header value. */
export function parseSetCookie(header: string): Cookie {
  const [pair, ...attrs] = header.split(';')
  const i = pair!.indexOf('=')
  const attributes: Record<string, string | true> = {}
  for (const a of attrs) {
    const j = a.indexOf('=')
    if (j < 0) attributes[a.trim().toLowerCase()] = true
    else attributes[a.slice(0, j).trim().toLowerCase()] = a.slice(j + 1).trim()
  }
  return { name: pair!.slice(0, i).trim(), value: pair!.slice(i + 1).trim(), attributes }
}

export interface Form {
  action: string
  method: string
  id: string | undefined
  /** Hidden fields by name. */
  fields: Record<string, string>
}

const attr = (tag: string, name: string): string | undefined => {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'i').exec(tag)
  return m ? decodeEntities(m[1] ?? m[2] ?? '') : undefined
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

/** Every form of a page, with its hidden fields. */
export function parseForms(html: string): Form[] {
  const forms: Form[] = []
  const re = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const fields: Record<string, string> = {}
    for (const input of m[2]!.match(/<input\b[^>]*>/gi) ?? []) {
      const name = attr(input, 'name')
      if (name !== undefined && (attr(input, 'type') ?? 'text').toLowerCase() === 'hidden')
        fields[name] = attr(input, 'value') ?? ''
    }
    forms.push({
      action: attr(m[1]!, 'action') ?? '',
      method: (attr(m[1]!, 'method') ?? 'get').toLowerCase(),
      id: attr(m[1]!, 'id'),
      fields,
    })
  }
  return forms
}

export interface Page {
  /** The URL of the last response fetched. */
  url: string
  status: number
  headers: Headers
  html: string
  /** Every URL requested along the way, in order. */
  visited: string[]
  /** Set when a redirect left the issuer (the relying party's callback, never fetched). */
  left?: URL
}

/**
 * A browser for one person: cookies per origin, redirects followed within the server's
 * origin, and stopped at the first one leaving it. With `tlsProxy`, every request carries
 * `X-Forwarded-Proto: https` (the app then sees https, as behind a TLS-terminating proxy) and
 * https URLs of the server are fetched over its plain http; Secure cookies are kept and sent.
 */
export class Browser {
  readonly base: URL
  readonly tlsProxy: boolean
  /** The origin requests really go to. */
  readonly origin: string
  /** Cookies by origin, then by `name;path`. */
  readonly jar = new Map<string, Map<string, Cookie>>()
  /** Every Set-Cookie header received, in order. */
  readonly setCookies: Cookie[] = []
  /** How requests are sent: the global fetch, or one that trusts a test CA (helpers/nginx.ts). */
  readonly #fetch: typeof fetch

  constructor(base: string, opts: { tlsProxy?: boolean; fetch?: typeof fetch } = {}) {
    this.base = new URL(base)
    this.tlsProxy = opts.tlsProxy ?? false
    this.#fetch = opts.fetch ?? fetch
    this.origin = this.#real(this.base).origin
  }

  #cookies(origin = this.origin): Map<string, Cookie> {
    let jar = this.jar.get(origin)
    if (!jar) this.jar.set(origin, (jar = new Map()))
    return jar
  }

  /** The value of cookie `name` (any path) on the server's origin. */
  cookie(name: string): string | undefined {
    return [...this.#cookies().values()].find((c) => c.name === name)?.value
  }

  /** Sets a cookie by hand (path /), as a script or an attacker planting one would. */
  setCookie(name: string, value: string): void {
    this.#cookies().set(`${name};/`, { name, value, attributes: { path: '/' } })
  }

  /** Forgets cookie `name` (every path). */
  deleteCookie(name: string): void {
    const jar = this.#cookies()
    for (const [key, c] of jar) if (c.name === name) jar.delete(key)
  }

  /** Every cookie value held, with its name. */
  allCookies(): Cookie[] {
    return [...this.jar.values()].flatMap((jar) => [...jar.values()])
  }

  /** Where a URL really goes: the server's https URLs are its http ones behind the pretend proxy. */
  #real(url: string | URL, from: string | URL = this.base): URL {
    const u = new URL(url, from)
    if (this.tlsProxy && u.protocol === 'https:' && u.host === this.base.host) u.protocol = 'http:'
    return u
  }

  /** One request, no redirects followed; cookies whose path matches sent, Set-Cookie stored. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = this.#real(url)
    const headers = new Headers(init.headers)
    if (this.tlsProxy) headers.set('X-Forwarded-Proto', 'https')
    const send = [...this.#cookies(target.origin).values()].filter((c) =>
      pathMatches(target.pathname, String(c.attributes.path ?? '/')),
    )
    if (send.length > 0) headers.set('Cookie', send.map((c) => `${c.name}=${c.value}`).join('; '))
    const res = await this.#fetch(target, { ...init, headers, redirect: 'manual' })
    for (const header of res.headers.getSetCookie()) {
      const cookie = parseSetCookie(header)
      this.setCookies.push(cookie)
      const jar = this.#cookies(target.origin)
      const key = `${cookie.name};${String(cookie.attributes.path ?? '/')}`
      const expires =
        typeof cookie.attributes.expires === 'string' ? Date.parse(cookie.attributes.expires) : NaN
      const gone =
        cookie.attributes['max-age'] === '0' || (!Number.isNaN(expires) && expires <= Date.now())
      if (gone) jar.delete(key)
      else jar.set(key, cookie)
    }
    return res
  }

  /** Requests `url` and follows redirects while they stay on the issuer. */
  async go(url: string | URL, init: RequestInit = {}): Promise<Page> {
    const visited: string[] = []
    let target = this.#real(url)
    let res: Response
    let request = init
    for (let hops = 0; ; hops++) {
      if (hops > 20) throw new Error(`too many redirects: ${visited.join(' -> ')}`)
      visited.push(target.href)
      res = await this.request(target, request)
      const location = res.headers.get('location')
      if (res.status < 300 || res.status >= 400 || !location) break
      await res.arrayBuffer()
      const next = this.#real(location, target)
      if (next.origin !== this.origin)
        return {
          url: target.href,
          status: res.status,
          headers: res.headers,
          html: '',
          visited,
          left: next,
        }
      target = next
      request = {}
    }
    return {
      url: target.href,
      status: res.status,
      headers: res.headers,
      html: await res.text(),
      visited,
    }
  }

  /** Submits a form of `page` (the one whose action matches, else the first), hidden fields plus `values`. */
  async submit(
    page: Page,
    values: Record<string, string>,
    pick: (f: Form) => boolean = () => true,
    action?: string,
  ): Promise<Page> {
    const form = parseForms(page.html).find(pick)
    if (!form) throw new Error(`no such form on ${page.url} (${page.status}):\n${page.html}`)
    return this.go(new URL(action ?? form.action, page.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.fields, ...values }).toString(),
    })
  }

  /** Fills in our sign-in form. */
  login(page: Page, username: string, password: string): Promise<Page> {
    if (!isLoginPage(page))
      throw new Error(`not the sign-in page: ${page.url} (${page.status}):\n${page.html}`)
    return this.submit(page, { username, password }, (f) => f.action.endsWith('/login'))
  }

  /** Answers our consent form: Allow, or Deny (the Deny button's formaction, the abort URL). */
  consent(page: Page, answer: 'allow' | 'deny'): Promise<Page> {
    if (!isConsentPage(page))
      throw new Error(`not the consent page: ${page.url} (${page.status}):\n${page.html}`)
    const abort = /formaction="([^"]+)"/.exec(page.html)?.[1]
    return this.submit(
      page,
      {},
      (f) => f.action.endsWith('/confirm'),
      answer === 'deny' ? decodeEntities(abort!) : undefined,
    )
  }

  /** Presses "Sign out" on the logout confirmation page (oidc-provider's form, our button). */
  confirmLogout(page: Page): Promise<Page> {
    return this.submit(page, { logout: 'yes' }, (f) => f.id === 'op.logoutForm')
  }
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}

export const isLoginPage = (page: Page): boolean =>
  parseForms(page.html).some((f) => f.action.endsWith('/login')) &&
  /name="password"/.test(page.html)
export const isConsentPage = (page: Page): boolean =>
  parseForms(page.html).some((f) => f.action.endsWith('/confirm'))

/** The query of the redirect that left the issuer (the RP callback). */
export function callbackParams(page: Page): URLSearchParams {
  if (!page.left)
    throw new Error(`no redirect to the client: ${page.url} (${page.status}):\n${page.html}`)
  return page.left.searchParams
}
