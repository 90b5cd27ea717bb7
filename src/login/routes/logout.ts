/**
 * @module login/routes/logout
 * The site's sign-out reaching the bridge (README "Signing out", the site contract §4): a
 * **logout ticket** — a site ticket for the audience `{ISSUER}/logout`, `external_id` only
 * (login/ticket.ts) — ends every bridge session of that member, in every browser and on every
 * instance, and the doors tell their relying parties (login/sign-out.ts).
 *
 * - From the browser: `GET /logout?ticket=…&return_to=…`, or an auto-submitted `POST /logout`
 *   form with the same fields: the cookie is cleared too, then `303` to `return_to` (checked
 *   exactly as /ticket checks it, before the ticket is read) or, without one, a "signed out"
 *   page (a POST counts as the browser's when it is a navigation, `Sec-Fetch-Mode: navigate`).
 * - Server to server: `POST /logout` with the form field `ticket` and no `return_to` → `204`.
 *
 * A ticket for a member this server does not know is answered the same way and changes nothing,
 * so the endpoint does not tell whether a member exists. Refusals are the ticket refusals (an
 * HTML page with the opaque code, a log line with the `ERR_TICKET_*` code, nothing changed).
 * Off (404) unless a ticket key is configured.
 */
import { Router, urlencoded, type Request, type Response } from 'express'
import type { AccountService } from '../../accounts/service.ts'
import type { Account } from '../../accounts/types.ts'
import { hasCode, replyFor, type BridgeErrorCode } from '../../errors/index.ts'
import type { EventLog } from '../../events/index.ts'
import type { Logger } from '../../log/logger.ts'
import type { SignOut } from '../sign-out.ts'
import { LOGOUT_PATH, TicketRefused, type TicketErrorCode, type TicketVerifier } from '../ticket.ts'
import { clearBridgeCookie } from '../../web/bridge-session.ts'
import { noStore } from '../../web/no-store.ts'
import { requestIdOf } from '../../web/request-id.ts'
import { errorPage } from '../../web/error-page.ts'
import { page, type SiteLook } from '../../web/views.ts'
import {
  allowedReturnTo,
  noReferrer,
  returnToOriginForLog,
  type SiteTicketSettings,
} from './ticket.ts'

/** What {@link logoutRouter} takes: the logout-ticket verifier, the one sign-out and the page look. */
export interface LogoutRouteDeps {
  /** SITE_ORIGINS (return_to) come from here. */
  settings?: SiteTicketSettings | undefined
  /** Built once in doors.ts (login/ticket.ts createLogoutTicketVerifier); undefined: /logout answers 404. */
  verifier: TicketVerifier | undefined
  issuer: string
  accounts: Pick<AccountService, 'get'>
  signOut: SignOut
  site: SiteLook
  secure: boolean
  log: Logger
  /** Where each sign-out by logout ticket, and each refusal, is recorded (events/log.ts). */
  events?: EventLog
}

/** What the page says for each refusal of a logout ticket (status and name: errors/codes.ts). */
const MESSAGES: Record<TicketErrorCode, string> = {
  ERR_TICKET_INVALID: 'This sign-out link is not valid.',
  ERR_TICKET_EXPIRED: 'This sign-out link has expired.',
  ERR_TICKET_REPLAYED: 'This sign-out link has already been used.',
  ERR_TICKET_AUDIENCE: 'This is not a sign-out link for this server.',
  ERR_TICKET_ACCOUNT_DISABLED: 'This account is disabled.',
  // A logout ticket is never checked for freshness (only a sign-in that asked for one is).
  ERR_TICKET_STALE: 'This sign-out link is not valid.',
}

/**
 * `GET|POST /logout`: a logout ticket from the site ends that member's bridge sessions (and,
 * through the one sign-out, tells the doors), then returns to an allowed `return_to`. 404 when
 * no ticket key is configured.
 */
export function logoutRouter(deps: LogoutRouteDeps): Router {
  const { settings, site, log } = deps
  const router = Router()
  const ownOrigin = new URL(deps.issuer).origin
  const origins = new Set((settings?.origins ?? []).map((o) => new URL(o).origin))
  const { verifier } = deps
  // A logout ticket carries no account fields: a few hundred bytes.
  const form = urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 })

  /** The error page for `code`, with its status and name from errors/codes.ts. */
  function refuse(res: Response, code: BridgeErrorCode, description: string) {
    recordLogout(res, code)
    const { status, error } = replyFor(code)
    res
      .status(status)
      .type('html')
      .send(
        errorPage(site, {
          title: 'Sign-out refused',
          sentence: description,
          code: error,
          requestId: requestIdOf(res),
        }),
      )
  }

  /** Records a sign-out by logout ticket (`ok`) or its refusal; never the ticket. */
  function recordLogout(res: Response, result: 'ok' | BridgeErrorCode, memberId?: string) {
    deps.events?.record({
      door: 'ticket',
      kind: result === 'ok' ? 'logout' : 'refused',
      result,
      memberId,
      requestId: requestIdOf(res),
    })
  }

  async function handle(req: Request, res: Response, input: Record<string, unknown>) {
    if (!verifier) {
      log.info({ code: 'ERR_TICKET_DISABLED', path: req.path }, 'logout ticket refused')
      return refuse(res, 'ERR_TICKET_DISABLED', 'Site tickets are not enabled on this server.')
    }
    // A browser sends return_to, comes by GET, or submits a form (a navigation: browsers mark it
    // Sec-Fetch-Mode: navigate); a site's server POSTs the ticket alone and gets 204.
    const browser =
      req.method === 'GET' ||
      input.return_to !== undefined ||
      req.get('sec-fetch-mode') === 'navigate'
    let returnTo: string | null = null
    if (input.return_to !== undefined) {
      // Checked first, as /ticket does: a bad one does not even use the ticket up.
      returnTo = allowedReturnTo(input.return_to, ownOrigin, origins)
      if (!returnTo) {
        log.warn(
          {
            code: 'ERR_TICKET_RETURN_TO',
            reason: 'not_allowed',
            ...returnToOriginForLog(input.return_to),
            path: req.path,
          },
          'logout ticket refused',
        )
        return refuse(
          res,
          'ERR_TICKET_RETURN_TO',
          'The page to continue to is not one this server may send you to.',
        )
      }
    }
    let externalId: string
    try {
      externalId = (await verifier.verify(input.ticket as string)).externalId
    } catch (err) {
      if (!(err instanceof TicketRefused)) throw err
      log.warn({ code: err.code, reason: err.reason, path: req.path }, 'logout ticket refused')
      return refuse(res, err.code, MESSAGES[err.code])
    }
    const account: Account | null = await deps.accounts.get(externalId).catch((err: unknown) => {
      if (hasCode(err, 'ERR_ACCOUNT_NOT_FOUND')) return null
      throw err
    })
    const { ended } = account
      ? await deps.signOut.signOut({ account, reason: 'logout_ticket' })
      : { ended: 0 }
    log.info(
      {
        code: 'LOGOUT_TICKET_SIGNED_OUT',
        external_id: externalId,
        known: account !== null,
        sessions: ended,
        path: req.path,
      },
      'logout ticket: member signed out',
    )
    recordLogout(res, 'ok', externalId)
    if (!browser) return void res.status(204).end()
    clearBridgeCookie(res, deps.secure)
    if (returnTo) return res.redirect(303, returnTo)
    res.type('html').send(page('logged-out', 'Signed out', site, {}))
  }

  router.get(LOGOUT_PATH, noStore, noReferrer, async (req, res) => {
    // Link checkers and previews send HEAD: it must not use the ticket up.
    if (req.method === 'HEAD') return void res.status(405).set('Allow', 'GET, POST').end()
    await handle(req, res, req.query as Record<string, unknown>)
  })
  router.post(LOGOUT_PATH, noStore, noReferrer, form, async (req, res) => {
    await handle(req, res, (req.body ?? {}) as Record<string, unknown>)
  })
  return router
}
