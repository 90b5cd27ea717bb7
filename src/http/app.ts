/**
 * @module http/app
 * The HTTP shell: request log, Host pinning, security headers, then each door's router (every
 * door is built once in doors.ts, handed in here), the health, docs and home pages, the admin API
 * (admin/), and the error handler. Knows nothing of which database is behind `services`.
 */
import express, { type Express, type RequestHandler } from 'express'
import { randomUUID } from 'node:crypto'
import type { TrustProxy } from '../config/index.ts'
import { connectionSheet } from '../connection/sheet.ts'
import { consoleRouter } from '../console/routes/router.ts'
import type { Doors } from '../doors.ts'
import type { KeyMaterial } from '../keys/index.ts'
import { countOidcAccount } from '../oidc/revoke-account.ts'
import type { Logger } from '../log/logger.ts'
import type { Metrics } from '../metrics/index.ts'
import { loginRoutes } from '../login/routes/router.ts'
import type { SiteTicketSettings } from '../login/routes/ticket.ts'
import { interactionGone } from '../oidc/routes/interaction.ts'
import { oidcLiveCheck } from '../oidc/live-check.ts'
import { OIDC_DISCOVERY } from '../oidc/paths.ts'
import { oidcRoutes } from '../oidc/routes/router.ts'
import { checkSpMetadata } from '../saml/metadata-check.ts'
import { samlPendingGone, samlRouter } from '../saml/routes/saml.ts'
import type { Services } from '../services.ts'
import { discoursePendingGone, discourseRouter } from '../tokens/routes/discourse.ts'
import { tokensRouter } from '../tokens/routes/tokens.ts'
import { requireAdmin } from '../web/admin-auth.ts'
import { notFound } from '../web/errors.ts'
import { noStore } from '../web/no-store.ts'
import { setRequestId } from '../web/request-id.ts'
import { securityHeaders } from '../web/security-headers.ts'
import type { SiteLook } from '../web/views.ts'
import { auditRouter } from './admin/audit.ts'
import { dryRunRouter } from './admin/dry-run.ts'
import { eventsRouter } from './admin/events.ts'
import { inspectRouter } from './admin/inspect.ts'
import { integrationsRouter } from './admin/integrations.ts'
import { usersRouter } from './admin/users.ts'
import { errorHandler } from './error-handler.ts'
import { pinHost } from './pin-host.ts'
import { HTTP_ROUTES } from './paths.ts'
import { assetsRouter } from './routes/assets.ts'
import { docsRouter } from './routes/docs.ts'
import { healthRouter } from './routes/health.ts'
import { metricsRouter } from './routes/metrics.ts'
import { routeGroup } from './route-group.ts'
import { homeRouter } from './routes/home.ts'

/** What {@link createApp} takes: the built services and doors plus the slices of config the shell reads. */
export interface AppOptions {
  services: Services
  /** Every door, built once by createDoors (doors.ts) over the same services. */
  doors: Doors
  log: Logger
  issuer: string
  version: string
  adminToken: string
  maxBodyBytes: number
  importMaxBytes: number
  /** For the connection sheets the admin API serves (certificates, JWKS). */
  keys: KeyMaterial
  /**
   * KEYS_DIR, where `keys` were loaded from: the console's Keys page rotates there. Without it
   * (a test app over fixture keys) the console refuses to rotate.
   */
  keysDir?: string
  site: SiteLook
  /**
   * TRUST_PROXY (config/schema.ts): false, a hop count or proxy addresses. `true` is taken as
   * one hop, never as express's "trust every hop".
   */
  trustProxy: TrustProxy | boolean
  /** LOGIN_FAILURE_DELAY_MS: how long after it began a refused sign-in is answered (default 1 s). */
  loginFailureFloorMs?: number
  /** Site tickets (SITE_TICKET_*, SITE_ORIGINS): the origins /ticket may send the browser on to. */
  siteTicket?: SiteTicketSettings
  /**
   * Serve `GET /metrics` here, behind the admin token (default); false when METRICS_PORT gives
   * metrics a listener of their own (main.ts).
   */
  metricsHere?: boolean
  /**
   * BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS: the console's live checks may fetch from loopback and
   * private addresses too (an SP's metadata URL), as back-channel logout may.
   */
  privateNetworkFetch?: boolean | undefined
}

/**
 * The express application over the services and the doors.
 * @example
 * const services = createServices(store, config, log)
 * const app = createApp({ services, doors: createDoors(services, { ... }), log, ... })
 */
export function createApp(opts: AppOptions): Express {
  const app = express()
  const { services, doors, site, log, issuer } = opts
  const secure = issuer.startsWith('https:')
  const trust = trustProxySetting(opts.trustProxy)
  const { sessions, csrf, passport } = doors.login
  // One throttle (in the store: services.ts) and one floor for every password form (OIDC
  // interaction and /login).
  const signIn = {
    accounts: services.accounts,
    sessions,
    throttle: services.throttle,
    passport,
    site,
    secure,
    log,
    csrf,
    failureFloorMs: opts.loginFailureFloorMs ?? DEFAULT_FAILURE_FLOOR_MS,
    // Every password sign-in and its refusal is recorded (events/log.ts).
    events: services.events,
    // The hand-off to the site (SITE_LOGIN_URL, an integration's site_login_url).
    issuer,
    siteLogin: doors.login.siteLogin,
    siteLoginUrlOf: doors.login.siteLoginUrlOf,
  }
  app.disable('x-powered-by')
  // No ETags: nearly every answer here is per-member and no-store (sign-in pages, user-info,
  // tokens, the admin API), where express would hash each body for nothing.
  app.set('etag', false)
  app.set('trust proxy', trust)
  // First: nothing downstream may read a host from the request (every URL comes from ISSUER).
  app.use(pinHost(issuer))
  app.use(requestLog(log, services.metrics))
  // helmet: CSP, frame-ancestors, X-Frame-Options, HSTS (https ISSUER), nosniff, no-referrer.
  app.use(securityHeaders(issuer))
  app.use(assetsRouter(site))

  // The doors. OIDC first: oidc-provider's own endpoints and the user-info URL are the hottest.
  app.use(
    oidcRoutes({
      ...signIn,
      door: doors.oidc,
      integrations: services.integrations,
      issuer,
      trustProxy: trust,
    }),
  )
  // Platform tokens next: the server-to-server token API is as hot (none of its paths is
  // oidc-provider's), and must come before the admin API, whose token check refuses an api_key.
  app.use(
    tokensRouter({
      services,
      tokens: doors.tokens,
      sessions,
      issuer,
      adminToken: opts.adminToken,
      site,
      maxBodyBytes: opts.maxBodyBytes,
      siteLogin: doors.login.siteLogin,
    }),
  )
  // DiscourseConnect: Discourse sends members here (tokens/routes/discourse.ts).
  app.use(
    discourseRouter({
      integrations: services.integrations,
      kv: services.store,
      accounts: services.accounts,
      sessions,
      issuer,
      siteLogin: doors.login.siteLogin,
      events: services.events,
      log,
    }),
  )
  // The site-ticket door and the standalone sign-in the SAML door (and any non-OIDC door) sends
  // members to.
  app.use(
    loginRoutes({
      ...signIn,
      issuer,
      kv: services.store,
      tickets: doors.login.tickets,
      logoutTickets: doors.login.logoutTickets,
      signOut: services.signOut,
      onwardTargets: doors.login.onwardTargets,
      ...(opts.siteTicket ? { siteTicket: opts.siteTicket } : {}),
      // Each door knows its own continuations; a ticket coming back to a gone one does nothing.
      continuationGone: async (returnTo: string) =>
        (await interactionGone(doors.oidc.provider, issuer, returnTo)) ||
        (await samlPendingGone(services.store, issuer, returnTo)) ||
        (await discoursePendingGone(services.store, issuer, returnTo)),
    }),
  )
  app.use(
    samlRouter({
      idp: doors.saml,
      kv: services.store,
      accounts: services.accounts,
      sessions,
      signOut: services.signOut,
      site,
      secure,
      log,
      issuer,
      siteLogin: doors.login.siteLogin,
      siteLoginUrlOf: doors.login.siteLoginUrlOf,
      events: services.events,
    }),
  )

  // The operator console (issue #14): its own session and cookie, apart from the members'.
  app.use(
    consoleRouter({
      operators: services.operators,
      sessions: doors.console.sessions,
      csrf: doors.console.csrf,
      throttle: services.throttle,
      requireTotp: doors.console.settings.requireTotp,
      site,
      secure,
      log,
      failureFloorMs: signIn.failureFloorMs,
      services,
      issuer,
      // What the pages need from the doors; each page part adds its own (console/routes/page.ts).
      hooks: {
        // The Test page (console/routes/pages/integration-test.ts): what an SP would receive,
        // and its metadata fetched under the back-channel logout's address rule.
        samlPreview: (id, account) => doors.saml.preview(id, account),
        samlMetadataCheck: (id, url) =>
          checkSpMetadata(
            { integrations: services.integrations, allowPrivateNetworks: opts.privateNetworkFetch },
            id,
            url,
          ),
        // A real authorization-code round trip through ISSUER for the member (oidc/live-check.ts).
        oidcLiveCheck: (id, externalId) =>
          oidcLiveCheck(
            {
              provider: doors.oidc.provider,
              issuer,
              integrations: services.integrations,
              accounts: services.accounts,
            },
            id,
            externalId,
          ),
        // The member page: what oidc-provider holds for a member (oidc/revoke-account.ts).
        memberOidc: (externalId) => countOidcAccount(services.store, externalId),
        // The keys page: the keys this process signs with, and KEYS_DIR to rotate in.
        keys: { loaded: opts.keys, dir: opts.keysDir, commonName: new URL(issuer).hostname },
        connectionSheet: (id) => connectionSheet(services.integrations, id, issuer, opts.keys),
        // The Overview (console/routes/pages/overview.ts): the doors' keys and set-up.
        doorFacts: () => ({
          oidcSigningKeys: opts.keys.oidc.publicJwks.keys.map((k) => ({
            kid: String(k.kid ?? ''),
            alg: String(k.alg ?? ''),
          })),
          samlCertificate: {
            fingerprintSha256: opts.keys.saml.current.fingerprintSha256,
            createdAt: opts.keys.saml.current.createdAt,
          },
          siteLoginUrl: doors.login.siteLogin.url ?? null,
          passwordSignIn: doors.login.siteLogin.passwordSignIn,
          siteTickets: doors.login.tickets !== undefined,
          requireTotp: doors.console.settings.requireTotp,
        }),
      },
    }),
  )

  app.use(healthRouter(services.store))
  if (opts.metricsHere !== false) app.use(metricsRouter(services.metrics, opts.adminToken))
  app.use(docsRouter())
  app.use(
    homeRouter({
      issuer,
      version: opts.version,
      types: services.integrations.types(),
      links: [
        { label: 'OpenID Connect discovery document', path: OIDC_DISCOVERY },
        { label: 'Documentation', path: HTTP_ROUTES.docs },
        { label: 'Health', path: HTTP_ROUTES.health },
        { label: 'Readiness', path: HTTP_ROUTES.ready },
      ],
    }),
  )

  const api = express.Router()
  api.use(requireAdmin(opts.adminToken))
  api.use(noStore)
  api.use(usersRouter(services, opts))
  api.use(integrationsRouter(services, opts))
  api.use(dryRunRouter(services, opts))
  api.use(inspectRouter(opts))
  api.use(auditRouter(services))
  api.use(eventsRouter(services))
  api.use((_req, _res, next) => next(notFound()))
  app.use(HTTP_ROUTES.adminApi, api)

  // oidc-provider answers whatever no router took (its own 404 page).
  app.use(doors.oidc.provider.callback())
  app.use(errorHandler(log, site, services.events))
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

/**
 * One line per request, after it ends, and its latency for the metrics (by route group). The
 * query string is left out: it carries tokens.
 */
function requestLog(log: Logger, metrics: Metrics): RequestHandler {
  // The request line is built here from id, method, path (no query), status and time only: it
  // can hold no secret, so it skips the redaction pass, which cost ~45 µs a line (measured).
  const lines = log.child({}, { redact: [] })
  return (req, res, next) => {
    const start = process.hrtime.bigint()
    const id = randomUUID()
    res.set('X-Request-Id', id)
    setRequestId(res, id)
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      const path = req.originalUrl.split('?')[0]!
      // Grouped only once metrics are scraped: until then the route-group regexes cost nothing.
      if (metrics.timing) metrics.observeRequest(routeGroup(path), ms / 1000)
      lines.info(
        { req: { id, method: req.method, path }, res: { status: res.statusCode }, ms },
        'request',
      )
    })
    next()
  }
}
