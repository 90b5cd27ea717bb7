/**
 * @module http/app
 * Builds the express application: logging, health, the home page and the admin API. The
 * doors mount here as they land. Knows nothing of which database is behind `services`.
 */
import express, { type Express, type RequestHandler } from 'express'
import { randomUUID } from 'node:crypto'
import type { Logger } from '../log/logger.ts'
import type { Services } from '../services.ts'
import { requireAdmin } from '../web/admin-auth.ts'
import { errorHandler } from './error-handler.ts'
import { notFound } from '../web/errors.ts'
import { noStore } from '../web/no-store.ts'
import { pinHost } from './pin-host.ts'
import { createCsrf } from '../web/csrf.ts'
import { oidcFormTargets, securityHeaders } from '../web/security-headers.ts'
import { assetsRouter } from './routes/assets.ts'
import { createOnwardTargets } from '../web/onward-targets.ts'
import { auditRouter } from './admin/audit.ts'
import { docsRouter } from './routes/docs.ts'
import { healthRouter } from './routes/health.ts'
import { homeRouter } from './routes/home.ts'
import { inspectRouter } from './admin/inspect.ts'
import { integrationsRouter } from './admin/integrations.ts'
import { usersRouter } from './admin/users.ts'
import { userinfoRouter } from '../oidc/routes/userinfo.ts'
import { interactionRouter } from '../oidc/routes/interaction.ts'
import { tokensRouter } from '../tokens/routes/tokens.ts'
import { ticketRouter, type SiteTicketSettings } from '../login/routes/ticket.ts'
import { createPassport } from '../login/passport.ts'
import { loginRouter } from '../login/routes/login.ts'
import { samlRouter } from '../saml/routes/saml.ts'
import { createSamlIdp } from '../saml/idp.ts'
import { page, raw, type SiteLook } from '../web/views.ts'
import { createOidcProvider } from '../oidc/provider.ts'
import { OIDC_ROUTES } from '../oidc/paths.ts'
import { createSessionManager } from '../login/session.ts'
import type { TrustProxy } from '../config/index.ts'
import type { KeyMaterial } from '../keys/index.ts'

export interface AppOptions {
  services: Services
  log: Logger
  issuer: string
  version: string
  adminToken: string
  maxBodyBytes: number
  importMaxBytes: number
  keys: KeyMaterial
  cookieSecret: string
  site: SiteLook
  sessionTtlMs: number
  /**
   * TRUST_PROXY (config/schema.ts): false, a hop count or proxy addresses. `true` is taken as
   * one hop, never as express's "trust every hop".
   */
  trustProxy: TrustProxy | boolean
  /** LOGIN_FAILURE_DELAY_MS: how long after it began a refused sign-in is answered (default 1 s). */
  loginFailureFloorMs?: number
  /** Site tickets (SITE_TICKET_*, SITE_ORIGINS); /ticket answers 404 without a key. */
  siteTicket?: SiteTicketSettings
  /** SAML: accepted AuthnRequest IssueInstant skew, ms (default 3 min). */
  samlSkewMs?: number
}

export function createApp(opts: AppOptions): Express {
  const app = express()
  const { services, site } = opts
  const secure = opts.issuer.startsWith('https:')
  const sessions = createSessionManager({ kv: services.store, ttlMs: opts.sessionTtlMs })
  const door = createOidcProvider({
    issuer: opts.issuer,
    keys: opts.keys,
    kv: services.store,
    accounts: services.accounts,
    integrations: services.integrations,
    sessions,
    log: opts.log,
    cookieKeys: [opts.cookieSecret],
    renderError: (ctx, out) => {
      ctx.type = 'html'
      ctx.body = page('error', 'Something went wrong', site, {
        error: String(out.error ?? 'error'),
        description: String(out.error_description ?? ''),
        reference: '',
      })
    },
    renderLogout: (ctx, form) => {
      ctx.type = 'html'
      ctx.body = page('logout', 'Sign out', site, { form: raw(form) })
    },
    renderLoggedOut: (ctx) => {
      ctx.type = 'html'
      ctx.body = page('logged-out', 'Signed out', site, {})
    },
  })
  const trust = trustProxySetting(opts.trustProxy)
  // koa (oidc-provider) has only on/off plus a hop count for its ctx.ip (its scheme is pinned to
  // ISSUER's in oidc/provider.ts); the client IP the throttle uses is express's.
  door.provider.proxy = trust !== false
  if (typeof trust === 'number') door.provider.maxIpsCount = trust
  app.disable('x-powered-by')
  // No ETags: nearly every answer here is per-member and no-store (sign-in pages, user-info,
  // tokens, the admin API), where express would hash each body for nothing.
  app.set('etag', false)
  app.set('trust proxy', trust)
  // First: nothing downstream may read a host from the request (every URL comes from ISSUER).
  app.use(pinHost(opts.issuer))
  app.use(requestLog(opts.log))
  // helmet: CSP, frame-ancestors, X-Frame-Options, HSTS (https ISSUER), nosniff, no-referrer.
  app.use(securityHeaders(opts.issuer))
  app.use(assetsRouter(site))
  // oidc-provider's own pages (form_post, the logout confirmation) name their client's redirect origin.
  door.provider.use(oidcFormTargets)

  // oidc-provider's own endpoints go straight to it (no trip through the routers below).
  const oidcHandler = door.provider.callback()
  app.use((req, res, next) => (isOidcPath(req.path) ? oidcHandler(req, res) : next()))
  // Platform tokens next: the server-to-server token API is as hot (none of its paths is
  // oidc-provider's), and must come before the admin API, whose token check refuses an api_key.
  app.use(
    tokensRouter({
      services,
      sessions,
      issuer: opts.issuer,
      adminToken: opts.adminToken,
      site,
      maxBodyBytes: opts.maxBodyBytes,
      log: opts.log,
    }),
  )
  // The user-info URL is as hot as the token endpoint: ahead of the other routers too.
  app.use(
    userinfoRouter({
      door,
      accounts: services.accounts,
      integrations: services.integrations,
      issuer: opts.issuer,
      log: opts.log,
    }),
  )
  app.use(healthRouter(opts.services.store))
  app.use(docsRouter())
  app.use(
    homeRouter({
      issuer: opts.issuer,
      version: opts.version,
      types: opts.services.integrations.types(),
      links: [
        { label: 'OpenID Connect discovery document', path: '/.well-known/openid-configuration' },
        { label: 'Documentation', path: '/docs' },
        { label: 'Health', path: '/healthz' },
        { label: 'Readiness', path: '/readyz' },
      ],
    }),
  )

  const api = express.Router()
  api.use(requireAdmin(opts.adminToken))
  api.use(noStore)
  api.use(usersRouter(opts.services, opts))
  api.use(integrationsRouter(opts.services, opts))
  api.use(inspectRouter(opts))
  api.use(auditRouter(opts.services))
  api.use((_req, _res, next) => next(notFound()))
  app.use('/api/v1', api)

  // One throttle (in the store: services.ts) and one passport for every password form (OIDC
  // interaction and /login).
  const throttle = services.throttle
  const failureFloorMs = opts.loginFailureFloorMs ?? DEFAULT_FAILURE_FLOOR_MS
  // One CSRF key for every form (sign-in, consent, the ticket's conflict prompt).
  const csrf = createCsrf({ secret: opts.cookieSecret, secure })
  const passport = createPassport(services.accounts)
  app.use(
    interactionRouter({
      provider: door.provider,
      accounts: services.accounts,
      sessions,
      throttle,
      passport,
      site,
      secure,
      log: opts.log,
      csrf,
      failureFloorMs,
    }),
  )
  app.use(
    ticketRouter({
      settings: opts.siteTicket,
      issuer: opts.issuer,
      kv: services.store,
      accounts: services.accounts,
      sessions,
      site,
      secure,
      log: opts.log,
      csrf,
    }),
  )
  // The SAML door and the standalone sign-in it (and any non-OIDC door) sends members to.
  app.use(
    loginRouter({
      accounts: services.accounts,
      sessions,
      throttle,
      passport,
      site,
      secure,
      log: opts.log,
      issuer: opts.issuer,
      csrf,
      onwardTargets: createOnwardTargets(services.integrations),
      failureFloorMs,
    }),
  )
  app.use(
    samlRouter({
      idp: createSamlIdp({
        issuer: opts.issuer,
        keys: opts.keys,
        kv: services.store,
        integrations: services.integrations,
        pairwiseSecret: opts.cookieSecret,
        ...(opts.samlSkewMs ? { skewMs: opts.samlSkewMs } : {}),
      }),
      kv: services.store,
      accounts: services.accounts,
      sessions,
      site,
      secure,
      log: opts.log,
    }),
  )
  // oidc-provider answers its own routes (discovery, /auth, /token, /jwks, …) and 404s the rest.
  app.use(oidcHandler)
  app.use(errorHandler(opts.log, site))
  return app
}

/** The default of LOGIN_FAILURE_DELAY_MS (config/schema.ts). */
const DEFAULT_FAILURE_FLOOR_MS = 1000

/**
 * express's `trust proxy` value for TRUST_PROXY: `true` becomes one hop, because express's own
 * `true` believes every hop of X-Forwarded-For, whose left end the client writes itself.
 */
export function trustProxySetting(value: TrustProxy | boolean): false | number | string[] {
  if (value === true) return 1
  if (value === 0) return false
  return value
}

const OIDC_PREFIXES = Object.values(OIDC_ROUTES).filter((p) => p !== OIDC_ROUTES.userinfo)
function isOidcPath(path: string): boolean {
  return (
    path === '/.well-known/openid-configuration' ||
    OIDC_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))
  )
}

/** One line per request, after it ends. The query string is left out: it carries tokens. */
function requestLog(log: Logger): RequestHandler {
  // The request line is built here from id, method, path (no query), status and time only: it
  // can hold no secret, so it skips the redaction pass, which cost ~45 µs a line (measured).
  const lines = log.child({}, { redact: [] })
  return (req, res, next) => {
    const start = process.hrtime.bigint()
    const id = randomUUID()
    res.set('X-Request-Id', id)
    res.on('finish', () => {
      lines.info(
        {
          req: { id, method: req.method, path: req.originalUrl.split('?')[0] },
          res: { status: res.statusCode },
          ms: Number(process.hrtime.bigint() - start) / 1e6,
        },
        'request',
      )
    })
    next()
  }
}
