/**
 * The standalone sign-in (`/login`) over a real HTTP server, for the throttle's tests: the test
 * app (real store, real passwords) on 127.0.0.1, a form's CSRF pair fetched once, and password
 * POSTs sent as a browser sends them (several at once when asked).
 */
import type { TestApp, TestAppOptions } from '../helpers/app.ts'
import { startOidcServer } from '../helpers/oidc.ts'

export const PASSWORD = 'correct horse battery staple'

export interface LoginServer {
  t: TestApp
  url: string
  /** Calls the admin API (JSON in, JSON out). */
  admin: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>
  close: () => Promise<void>
}

export function startLoginServer(opts: Omit<TestAppOptions, 'issuer'> = {}): Promise<LoginServer> {
  return startOidcServer(opts)
}

/** Creates (or replaces) an account through the admin API. */
export async function putAccount(
  s: Pick<LoginServer, 'admin'>,
  externalId: string,
  fields: Record<string, unknown>,
): Promise<void> {
  const res = await s.admin('PUT', `/users/${encodeURIComponent(externalId)}`, fields)
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`PUT /users/${externalId}: ${res.status} ${JSON.stringify(res.body)}`)
}

/** A sign-in form's CSRF pair (cookie and field), as one browser holds it. */
export interface LoginForm {
  cookie: string
  csrf: string
}

export async function loginForm(url: string): Promise<LoginForm> {
  const res = await fetch(`${url}/login?return_to=/docs`)
  const html = await res.text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1]
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ')
  if (!csrf || !cookie) throw new Error(`no sign-in form at ${url}/login: ${res.status}`)
  return { cookie, csrf }
}

export interface Attempt {
  status: number
  retryAfter: string | null
  /** Milliseconds from sending the POST to the whole answer read. */
  ms: number
  html: string
}

/** One password POST to /login. */
export async function attempt(
  url: string,
  form: LoginForm,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Attempt> {
  const started = performance.now()
  const res = await fetch(`${url}/login?return_to=/docs`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Cookie: form.cookie,
      ...headers,
    },
    body: new URLSearchParams({ username, password, csrf: form.csrf }).toString(),
  })
  const html = await res.text()
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    ms: performance.now() - started,
    html,
  }
}

/** How many of `attempts` had each status, e.g. `{ 401: 3, 429: 17 }`. */
export function statuses(attempts: Attempt[]): Record<number, number> {
  const out: Record<number, number> = {}
  for (const a of attempts) out[a.status] = (out[a.status] ?? 0) + 1
  return out
}
