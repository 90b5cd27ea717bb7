/**
 * @module doors
 * Builds every door once, over the services (services.ts): the OIDC provider, the SAML IdP, and
 * what their sign-ins share (login/: the bridge session, CSRF, passport, site tickets). The token
 * door needs no keys and the CLI uses it too, so services.ts builds it; it is handed on here so
 * the HTTP shell (http/app.ts) finds every door in one object and builds none itself.
 *
 * Adding a door: its folder, one line here, one mount line in http/app.ts.
 */
import type { ConsoleConfig } from './config/index.ts'
import { consoleCookieName, createConsoleSessions } from './console/session.ts'
import type { KeyMaterial } from './keys/index.ts'
import type { Logger } from './log/logger.ts'
import { createSiteLogin } from './login/handoff.ts'
import { createPassport } from './login/passport.ts'
import type { SiteTicketSettings } from './login/routes/ticket.ts'
import { createSessionManager } from './login/session.ts'
import { createLogoutTicketVerifier, createTicketVerifier } from './login/ticket.ts'
import { renderOidcError } from './oidc/error-page.ts'
import { createOidcProvider } from './oidc/provider.ts'
import { oidcSignOutDoor } from './oidc/sign-out.ts'
import { createSamlIdp } from './saml/idp.ts'
import type { Services } from './services.ts'
import { signOutBrowser } from './web/bridge-session.ts'
import { createCsrf } from './web/csrf.ts'
import { requestIdOf } from './web/request-id.ts'
import { createOnwardTargets } from './web/onward-targets.ts'
import { discourseOnwardTargets } from './tokens/routes/discourse.ts'
import { page, raw, type SiteLook } from './web/views.ts'
import { hasCode } from './errors/index.ts'

/** What the doors need besides the services: the keys and the config slices they read. */
export interface DoorsOptions {
  /** ISSUER: every door's public base URL. */
  issuer: string
  keys: KeyMaterial
  /** Signs the bridge-session CSRF tokens and oidc-provider's cookies; salts SAML's pairwise ids. */
  cookieSecret: string
  site: SiteLook
  /** SESSION_TTL_MS: the bridge session's lifetime. */
  sessionTtlMs: number
  log: Logger
  /** Site tickets (SITE_TICKET_*, SITE_ORIGINS); no verifier (/ticket answers 404) without a key. */
  siteTicket?: SiteTicketSettings
  /** SAML: accepted AuthnRequest IssueInstant skew, ms (default 3 min). */
  samlSkewMs?: number
  /**
   * Signing in at the site (SITE_LOGIN_URL, PASSWORD_SIGN_IN): without `url`, sso-bridge's own
   * form; `passwordSignIn` defaults as the config does (off with a `url`, on without).
   */
  siteLogin?: { url?: string; passwordSignIn?: boolean }
  /** SITE_LOGOUT_URL: where a sign-out that starts here sends the browser on (the site signs out too). */
  siteLogoutUrl?: string | undefined
  /**
   * BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS: back-channel logout may reach relying parties on
   * loopback and private addresses (oidc-provider refuses them by default).
   */
  backchannelPrivateNetworks?: boolean | undefined
  /** The operator console's sign-in (CONSOLE_*); the defaults of config/schema.ts without. */
  console?: ConsoleConfig | undefined
  /** The clock the console's timeouts read (tests inject one); Date.now without. */
  now?: (() => number) | undefined
}

/** CONSOLE_* defaults (config/schema.ts), for callers that pass no console settings. */
const CONSOLE_DEFAULTS: ConsoleConfig = {
  requireTotp: false,
  idleMs: 900_000,
  absoluteMs: 8 * 3_600_000,
}

/**
 * Every door and the sign-in pieces they share, built once for one process.
 * @throws {TypeError} a site ticket key that cannot be used (login/ticket.ts)
 * @example
 * const services = createServices(store, config, log)
 * const doors = createDoors(services, { issuer, keys, cookieSecret, site, sessionTtlMs, log })
 * const app = createApp({ services, doors, ... })
 */
export function createDoors(services: Services, opts: DoorsOptions) {
  const { issuer, site } = opts
  const secure = issuer.startsWith('https:')
  const sessions = createSessionManager({ kv: services.store, ttlMs: opts.sessionTtlMs })
  const ticket = opts.siteTicket
  // An integration's own hand-off page (its `site_login_url`), looked up on each sign-in (the
  // registry caches), so a changed setting applies at once.
  const siteLoginUrlOf = async (integrationId: string): Promise<string | undefined> => {
    try {
      // Every integration type takes `site_login_url` (integrations/schemas.ts siteLoginSettings).
      const { settings } = await services.integrations.load(integrationId)
      return 'site_login_url' in settings && typeof settings.site_login_url === 'string'
        ? settings.site_login_url
        : undefined
    } catch (err) {
      if (hasCode(err, 'ERR_INTEGRATION_NOT_FOUND')) return undefined
      throw err
    }
  }
  const oidc = createOidcProvider({
    issuer,
    keys: opts.keys,
    kv: services.store,
    accounts: services.accounts,
    integrations: services.integrations,
    sessions,
    log: opts.log,
    cookieKeys: [opts.cookieSecret],
    // The member's error page (a sentence, the way back to the site, the request id), or JSON.
    renderError: renderOidcError(site),
    renderLogout: (ctx, form) => {
      ctx.type = 'html'
      ctx.body = page('logout', 'Sign out', site, { form: raw(form) })
    },
    renderLoggedOut: (ctx) => {
      ctx.type = 'html'
      ctx.body = page('logged-out', 'Signed out', site, {})
    },
    signOutBrowser: async (req, res) => {
      const { account } = await signOutBrowser(
        req,
        res,
        { signOut: services.signOut, secure },
        'end_session',
      )
      services.events.record({
        door: 'oidc',
        kind: 'logout',
        result: 'ok',
        memberId: account?.external_id,
        requestId: requestIdOf(res),
      })
    },
    siteLogoutUrl: opts.siteLogoutUrl,
    allowPrivateNetworkFetch: opts.backchannelPrivateNetworks,
    events: services.events,
  })
  // Every sign-out (login/sign-out.ts) ends the member's OIDC sessions and tells their clients.
  services.signOut.addDoor(
    oidcSignOutDoor({ provider: oidc.provider, kv: services.store, log: opts.log }),
  )
  return {
    /** What every door's sign-in shares (login/): one bridge session for every door. */
    login: {
      sessions,
      // One CSRF key for every form (sign-in, consent, the ticket's conflict prompt).
      csrf: createCsrf({ secret: opts.cookieSecret, secure }),
      // One passport for every password form (OIDC interaction and /login).
      passport: createPassport(services.accounts),
      /** The site-ticket verifier; undefined when no ticket key is configured. */
      tickets:
        ticket && (ticket.secret !== undefined || ticket.publicKey !== undefined)
          ? createTicketVerifier({
              secret: ticket.secret,
              publicKey: ticket.publicKey,
              audience: `${issuer}/ticket`,
              kv: services.store,
            })
          : undefined,
      /** The logout-ticket verifier (/logout); undefined when no ticket key is configured. */
      logoutTickets: createLogoutTicketVerifier(issuer, ticket, services.store),
      onwardTargets: createOnwardTargets(
        services.integrations,
        discourseOnwardTargets(services.store),
      ),
      /** The hand-off to the site (login/handoff.ts). */
      siteLogin: createSiteLogin({
        url: opts.siteLogin?.url,
        passwordSignIn: opts.siteLogin?.passwordSignIn ?? !opts.siteLogin?.url,
        kv: services.store,
      }),
      siteLoginUrlOf,
    },
    oidc,
    saml: createSamlIdp({
      issuer,
      keys: opts.keys,
      kv: services.store,
      integrations: services.integrations,
      pairwiseSecret: opts.cookieSecret,
      ...(opts.samlSkewMs ? { skewMs: opts.samlSkewMs } : {}),
    }),
    tokens: services.tokens,
    /** The operator console's sign-in (console/): its own sessions and its own CSRF binding. */
    console: {
      settings: opts.console ?? CONSOLE_DEFAULTS,
      now: opts.now ?? Date.now,
      sessions: createConsoleSessions({
        kv: services.store,
        operatorById: (id) => services.operators.byId(id),
        idleMs: (opts.console ?? CONSOLE_DEFAULTS).idleMs,
        absoluteMs: (opts.console ?? CONSOLE_DEFAULTS).absoluteMs,
        now: opts.now ?? Date.now,
      }),
      // Bound to the console session, not the bridge one: a member's token opens no console form.
      csrf: createCsrf({
        secret: opts.cookieSecret,
        secure,
        sessionCookie: consoleCookieName(secure),
      }),
    },
  }
}

/** Every door of one process (see {@link createDoors}). */
export type Doors = ReturnType<typeof createDoors>
