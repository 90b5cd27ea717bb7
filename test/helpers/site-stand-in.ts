/**
 * A site stand-in for the hand-off (README "Signing in at the site", contract §2): a few lines of
 * node:http that play the site's SITE_LOGIN_URL endpoint. It refuses a `return_to` that is not on
 * sso-bridge's origin, shows its own sign-in page while the member is signed out (its form signs
 * them in), honours `force=1` (taken as the member entering credentials again: `authTime` becomes
 * now) unless told not to,
 * signs an HS256 ticket for its member and answers with the auto-submitting form to /ticket.
 * `/cb` records a relying party's callbacks. Nothing of sso-bridge is used.
 */
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT } from 'jose'

export interface SiteState {
  /** sso-bridge's ISSUER (set once the server runs). */
  issuer: string
  /** The "signed in" switch. */
  signedIn: boolean
  /** The member's external_id and account fields, as the ticket carries them. */
  member: Record<string, unknown>
  /** When the member last entered credentials at the site (epoch seconds). */
  authTime: number
  /** Whether `force=1` makes the member sign in again (a broken site would ignore it). */
  honourForce: boolean
  /** Whether tickets carry `auth_time`. */
  sendAuthTime: boolean
}

export interface SiteStandIn {
  /** The stand-in's origin (add it to SITE_ORIGINS). */
  url: string
  /** Its hand-off endpoint: SITE_LOGIN_URL. */
  loginUrl: string
  state: SiteState
  /** Every hand-off received: its `return_to` and whether it said `force=1`. */
  handoffs: { returnTo: string; force: boolean }[]
  /** Every request to `/cb` (a relying party's redirect_uri on this origin). */
  callbacks: URL[]
  /** A ticket for the current member (the claims may be overridden). */
  ticket: (claims?: Record<string, unknown>) => Promise<string>
  close: () => Promise<void>
}

const escape = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export async function startSiteStandIn(secret: string): Promise<SiteStandIn> {
  const key = new TextEncoder().encode(secret)
  const state: SiteState = {
    issuer: '',
    signedIn: true,
    member: { external_id: 'wp-42', username: 'grace', email: 'grace@site.example' },
    // Signed in at the site an hour ago.
    authTime: Math.floor(Date.now() / 1000) - 3600,
    honourForce: true,
    sendAuthTime: true,
  }
  const handoffs: SiteStandIn['handoffs'] = []
  const callbacks: URL[] = []

  const ticket = (claims: Record<string, unknown> = {}) =>
    new SignJWT({
      ...state.member,
      ...(state.sendAuthTime ? { auth_time: state.authTime } : {}),
      ...claims,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setAudience(`${state.issuer}/ticket`)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(key)

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stand-in')
      if (url.pathname === '/cb') {
        callbacks.push(new URL(req.url ?? '/', base))
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('callback received')
        return
      }
      if (url.pathname === '/site-login' && req.method === 'POST') {
        // The site's own sign-in: the member enters credentials now.
        state.signedIn = true
        state.authTime = Math.floor(Date.now() / 1000)
        res.writeHead(303, { Location: `/sso-login${url.search}` }).end()
        return
      }
      if (url.pathname !== '/sso-login') {
        res.writeHead(404).end()
        return
      }
      const returnTo = url.searchParams.get('return_to')
      // Contract §2: a missing return_to or one off sso-bridge's origin is refused.
      if (
        !returnTo ||
        !URL.canParse(returnTo) ||
        new URL(returnTo).origin !== new URL(state.issuer).origin
      ) {
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end('return_to refused')
        return
      }
      const force = url.searchParams.get('force') === '1'
      handoffs.push({ returnTo, force })
      // force=1: the member enters credentials again (a real site shows its sign-in; the stand-in
      // takes it as done now).
      if (force && state.honourForce && state.signedIn)
        state.authTime = Math.floor(Date.now() / 1000)
      if (!state.signedIn) {
        res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end(
            `<!doctype html><title>Site sign-in</title><h1>Sign in to the site</h1><form method="post" action="/site-login${escape(url.search)}"><input name="log"><input name="pwd" type="password"><button>Log in</button></form>`,
          )
        return
      }
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<!doctype html><title>Signing you in</title><form method="post" action="${escape(state.issuer)}/ticket">` +
            `<input type="hidden" name="ticket" value="${escape(await ticket())}">` +
            `<input type="hidden" name="return_to" value="${escape(returnTo)}"></form>` +
            '<script>document.forms[0].submit()</script>',
        )
    })().catch((err: unknown) => res.writeHead(500).end(String(err)))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: base,
    loginUrl: `${base}/sso-login`,
    state,
    handoffs,
    callbacks,
    ticket,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
