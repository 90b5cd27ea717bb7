/**
 * @module login/routes/router
 * Login's HTTP face, mounted by http/app.ts as one router: the site-ticket door (`/ticket`), the
 * site's sign-out (`/logout`) and the standalone sign-in page (`/login`) that the SAML door, the token redirects and any other
 * non-OIDC door send members to.
 */
import { Router } from 'express'
import type { EventLog } from '../../events/index.ts'
import type { KvStore } from '../../store/ports.ts'
import type { SignOut } from '../sign-out.ts'
import type { TicketVerifier } from '../ticket.ts'
import { logoutRouter } from './logout.ts'
import { loginRouter, type LoginRouteDeps } from './login.ts'
import { ticketRouter, type SiteTicketSettings } from './ticket.ts'

/** What {@link loginRoutes} needs: the sign-in page's deps, plus the ticket door's. */
export interface LoginRoutesDeps extends LoginRouteDeps {
  kv: KvStore
  /** Site tickets (SITE_TICKET_*, SITE_ORIGINS): the origins `return_to` may lead to. */
  siteTicket?: SiteTicketSettings
  /** Built once in doors.ts; undefined (no ticket key): /ticket answers 404. */
  tickets: TicketVerifier | undefined
  /** See TicketRouteDeps.continuationGone (http/app.ts asks each door). */
  continuationGone?: (returnTo: string) => Promise<boolean>
  /** Built once in doors.ts; undefined (no ticket key): /logout answers 404. */
  logoutTickets: TicketVerifier | undefined
  /** The one sign-out (login/sign-out.ts), for /logout. */
  signOut: SignOut
  /** The event log (events/log.ts): the ticket door records each ticket and logout ticket. */
  events: EventLog
}

/** Login's router (see the module doc). */
export function loginRoutes(deps: LoginRoutesDeps): Router {
  const router = Router()
  router.use(
    ticketRouter({
      settings: deps.siteTicket,
      verifier: deps.tickets,
      issuer: deps.issuer,
      kv: deps.kv,
      accounts: deps.accounts,
      sessions: deps.sessions,
      site: deps.site,
      secure: deps.secure,
      log: deps.log,
      csrf: deps.csrf,
      siteLogin: deps.siteLogin,
      events: deps.events,
      ...(deps.continuationGone ? { continuationGone: deps.continuationGone } : {}),
    }),
  )
  // The site's sign-out: a logout ticket ends every bridge session of its member.
  router.use(
    logoutRouter({
      events: deps.events,
      settings: deps.siteTicket,
      verifier: deps.logoutTickets,
      issuer: deps.issuer,
      accounts: deps.accounts,
      signOut: deps.signOut,
      site: deps.site,
      secure: deps.secure,
      log: deps.log,
    }),
  )
  router.use(loginRouter(deps))
  return router
}
