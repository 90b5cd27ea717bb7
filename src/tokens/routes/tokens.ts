/**
 * @module tokens/routes/tokens
 * The platform token door over HTTP (tokens/service.ts does the work):
 *
 * - `POST /api/v1/integrations/{id}/tokens` `{"external_id", "referrer_url"?, "redirect_url"?,
 *   "rejected_token"?}` → `{token, url, html, expires_at}`: server to server, with the admin
 *   token or the integration's own `api_key` (both compared in constant time, as digests).
 * - `POST /api/v1/integrations/{id}/inspect` `{"token"}` → its JSON and expiry: admin only.
 * - `GET /tokens/{id}`: the token of the member signed in to the bridge session (BoostGPT's
 *   `/widget-token` pattern). CORS with credentials for the integration's `site_origins` only;
 *   no session → 401 `{"error": "login_required", "login_url"}`, or, for a page the browser
 *   navigates to, the hand-off to the site (below). A server-only type (Discourse: its token is
 *   the forum server's sync payload) → 400 `validation_failed`, session or not.
 * - `GET /tokens/{id}/redirect[?referrerUrl=…][&redirectUrl=…]`: mints the signed-in member's
 *   token and redirects to the platform with it — MeltingSpot's authorization URL (flows a and
 *   b). Redirect options are checked before the session is. No session: with the integration's
 *   `login_url`, a redirect there with `return_to` = this URL (the site signs the member in
 *   and comes back through /ticket); without it, a 401 page saying to sign in on the site first.
 *
 * Signing in at the site (login/handoff.ts): the integration's `site_login_url`, else (when it has
 * no `login_url` of its own) SITE_LOGIN_URL, is the hand-off: `303` to it with `return_to` = this
 * URL on ISSUER; a JSON caller gets that URL as `login_url`.
 *
 * Every answer is `no-store`: each carries a credential.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { Router, type Request, type RequestHandler, type Response } from 'express'
import { jsonBody } from '../../web/json-body.ts'
import type { Account } from '../../accounts/types.ts'
import { hasCode, ValidationFailed } from '../../errors/index.ts'
import type { SiteLogin } from '../../login/handoff.ts'
import type { SessionManager } from '../../login/session.ts'
import type { Services } from '../../services.ts'
import type { IssueOptions, TokenService } from '../index.ts'
import type { BrowserSettings } from '../settings.ts'
import { requireAdmin } from '../../web/admin-auth.ts'
import { liveMember } from '../../web/bridge-session.ts'
import { HttpError } from '../../web/errors.ts'
import { noStore } from '../../web/no-store.ts'
import { requestIdOf } from '../../web/request-id.ts'
import { refusalCode } from '../../events/index.ts'
import { errorPage } from '../../web/error-page.ts'
import type { SiteLook } from '../../web/views.ts'

/** What {@link tokensRouter} needs from createApp. */
export interface TokensRouterOptions {
  services: Pick<Services, 'accounts' | 'integrations' | 'store' | 'events'>
  /** Public base URL: the way back (`return_to`) handed to the site's sign-in page. */
  issuer: string
  sessions: SessionManager
  adminToken: string
  site: SiteLook
  maxBodyBytes: number
  /** The token service, built once in services.ts. */
  tokens: TokenService
  /** Signing in at the site (SITE_LOGIN_URL); without, only `login_url` applies. */
  siteLogin?: SiteLogin
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * `loginUrl` with `return_to` = the request's URL (kept if the configured URL already has one):
 * a path when the sign-in page is ours (sso-bridge's own `/login` takes same-origin paths only),
 * an absolute URL of ours for the site's page (which hands it to /ticket).
 */
function withReturnTo(loginUrl: string, issuer: string, path: string): string {
  const u = new URL(loginUrl)
  if (!u.searchParams.has('return_to'))
    u.searchParams.set('return_to', u.origin === new URL(issuer).origin ? path : `${issuer}${path}`)
  return u.href
}

/** One optional string option from a body or query (`name` is what the caller sent). */
function option(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || value.length > 16_384)
    throw new ValidationFailed([{ path: name, message: 'must be a string' }])
  return value
}

/** The token door's routes (see the module doc); mount before the admin API. */
export function tokensRouter(opts: TokensRouterOptions): Router {
  const { services, sessions, site, tokens } = opts
  const router = Router()
  const body = jsonBody(opts.maxBodyBytes)
  const adminDigest = digest(opts.adminToken)

  /** The integration's api_key, or undefined (no such integration, or no key). */
  async function apiKeyOf(id: string): Promise<string | undefined> {
    try {
      return (await services.integrations.load(id)).secret('api_key')
    } catch (err) {
      if (hasCode(err, 'ERR_INTEGRATION_NOT_FOUND')) return undefined
      throw err
    }
  }

  // The admin token opens every integration; an api_key only its own. An unknown integration
  // answers 401 to a non-admin caller, so keys cannot be used to probe which integrations exist.
  const adminOrApiKey: RequestHandler = async (req, res, next) => {
    const match = /^Bearer ([^\s]+)$/i.exec(req.get('authorization') ?? '')
    if (match) {
      const given = digest(match[1]!)
      if (timingSafeEqual(given, adminDigest)) return next()
      const key = await apiKeyOf(String(req.params.id))
      if (key !== undefined && timingSafeEqual(given, digest(key))) return next()
    }
    res.set('WWW-Authenticate', 'Bearer realm="sso-bridge tokens"')
    next(
      new HttpError(
        'ERR_UNAUTHORIZED',
        "the admin token or this integration's api_key is required",
      ),
    )
  }

  /** Records a token issued, or refused with its code (events/log.ts). */
  function issued(
    res: Response,
    integrationId: string,
    memberId: string | null,
    err?: unknown,
  ): void {
    services.events.record({
      door: 'tokens',
      kind: err === undefined ? 'platform_token' : 'refused',
      result: err === undefined ? 'ok' : refusalCode(err),
      integrationId,
      memberId,
      requestId: requestIdOf(res),
    })
  }

  function bodyObject(req: Request): Record<string, unknown> {
    const b: unknown = req.body
    if (b === null || typeof b !== 'object' || Array.isArray(b))
      throw new ValidationFailed([{ path: '', message: 'must be a JSON object' }])
    return b as Record<string, unknown>
  }

  // The hot route: its answer written directly (express's res.json would also hash it for an
  // ETag, pointless on a no-store answer). Its body reader is every JSON route's (web/json-body.ts).
  router.post('/api/v1/integrations/:id/tokens', noStore, adminOrApiKey, body, async (req, res) => {
    const b = bodyObject(req)
    const options: IssueOptions = {}
    const referrerUrl = option(b.referrer_url, 'referrer_url')
    const redirectUrl = option(b.redirect_url, 'redirect_url')
    const rejectedToken = option(b.rejected_token, 'rejected_token')
    if (referrerUrl !== undefined) options.referrerUrl = referrerUrl
    if (redirectUrl !== undefined) options.redirectUrl = redirectUrl
    if (rejectedToken !== undefined) options.rejectedToken = rejectedToken
    const integrationId = String(req.params.id)
    const memberId = typeof b.external_id === 'string' ? b.external_id : null
    let out: string
    try {
      out = JSON.stringify(await tokens.issue(integrationId, b.external_id, options))
    } catch (err) {
      issued(res, integrationId, memberId, err)
      throw err
    }
    issued(res, integrationId, memberId)
    res
      .writeHead(200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(out),
      })
      .end(out)
  })

  router.post(
    '/api/v1/integrations/:id/inspect',
    noStore,
    requireAdmin(opts.adminToken),
    body,
    async (req, res) => {
      res.json(await tokens.inspect(String(req.params.id), bodyObject(req).token))
    },
  )

  /** The active account of the request's bridge session, or null. */
  async function member(req: Request): Promise<Account | null> {
    return (await liveMember(req, { sessions, accounts: services.accounts }))?.account ?? null
  }

  /**
   * The hand-off URL for a member without a session (`return_to` = this request's URL), or null
   * when the integration signs in elsewhere (`login_url`) or no site is configured.
   */
  async function handoff(req: Request, settings: BrowserSettings): Promise<string | null> {
    const siteUrl =
      settings.site_login_url ??
      (settings.login_url === undefined ? opts.siteLogin?.url : undefined)
    if (!siteUrl || !opts.siteLogin) return null
    return opts.siteLogin.handoff(siteUrl, `${opts.issuer}${req.originalUrl}`)
  }

  /** CORS for the integration's site origins only, with credentials (the session cookie). */
  function cors(req: Request, res: Response, settings: BrowserSettings): void {
    res.vary('Origin')
    const origin = req.get('origin')
    if (origin !== undefined && settings.site_origins.includes(origin)) {
      res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' })
    }
  }

  router.options('/tokens/:id', noStore, async (req, res) => {
    const { integration } = await tokens.load(String(req.params.id))
    cors(req, res, integration.settings)
    res.set({ 'Access-Control-Allow-Methods': 'GET', 'Access-Control-Max-Age': '600' })
    res.status(204).end()
  })

  router.get('/tokens/:id', noStore, async (req, res) => {
    const loaded = await tokens.load(String(req.params.id))
    const { settings } = loaded.integration
    cors(req, res, settings)
    // Before the session: a type whose token no member can use is refused to everyone alike.
    tokens.browserCheck(loaded)
    const account = await member(req)
    if (!account) {
      const signIn = await handoff(req, settings)
      // A page the browser navigates to (a pop-up, a link) goes to the site; a script's fetch
      // gets the URL to send the member to.
      if (signIn !== null && req.accepts(['json', 'html']) === 'html')
        return void res.redirect(303, signIn)
      res.status(401).json({
        error: 'login_required',
        message: 'no member is signed in to sso-bridge in this browser: sign in on the site first',
        login_url: signIn ?? settings.login_url ?? null,
      })
      return
    }
    const out = await tokens.issueForAccount(loaded, account)
    issued(res, loaded.integration.record.id, account.external_id)
    res.json(out)
  })

  router.get('/tokens/:id/redirect', noStore, async (req, res) => {
    const loaded = await tokens.load(String(req.params.id))
    const options: IssueOptions = {}
    const redirectUrl = option(req.query.redirectUrl, 'redirectUrl')
    const referrerUrl = option(req.query.referrerUrl, 'referrerUrl')
    if (redirectUrl !== undefined) options.redirectUrl = redirectUrl
    if (referrerUrl !== undefined) options.referrerUrl = referrerUrl
    tokens.redirectCheck(loaded, options)
    const account = await member(req)
    if (!account) {
      const settings = loaded.integration.settings
      const loginUrl = settings.login_url
      const message = `Sign in on ${site.name} first, then follow the link again.`
      // The hand-off to the site (303, contract §1); else, with a sign-in page configured, send
      // the member there with the way back: the site's page signs them in and passes them
      // through /ticket with it; ours (/login) comes back itself.
      const site303 = await handoff(req, settings)
      const signIn =
        site303 ??
        (loginUrl === undefined ? null : withReturnTo(loginUrl, opts.issuer, req.originalUrl))
      if (req.accepts(['html', 'json']) === 'json') {
        res.status(401).json({ error: 'login_required', message, login_url: signIn })
        return
      }
      if (signIn !== null) {
        res.redirect(site303 !== null ? 303 : 302, signIn)
        return
      }
      res
        .status(401)
        .type('html')
        .send(
          errorPage(site, {
            title: 'Sign in first',
            sentence: 'You are not signed in.',
            code: 'login_required',
            detail: message,
            requestId: requestIdOf(res),
          }),
        )
      return
    }
    const out = await tokens.issueForAccount(loaded, account, options)
    if (out.url === null)
      throw new ValidationFailed([
        { path: 'integration', message: 'this integration has no URL to redirect to' },
      ])
    issued(res, loaded.integration.record.id, account.external_id)
    res.redirect(302, out.url)
  })

  return router
}
