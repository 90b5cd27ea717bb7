/**
 * @module console/routes/gate
 * The gate before every console page: the console session must be live and fully signed in
 * (password, then TOTP when owed). Otherwise the answer is the sign-in form (no session), the TOTP
 * form (half signed in), or a refusal page with its stable code (session expired, operator
 * disabled) — and the cookie is cleared. The operator is read afresh on each request
 * (console/session.ts), so one disabled mid-session is out at the next click.
 */
import { createHash } from 'node:crypto'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { replyFor, type BridgeErrorCode } from '../../errors/index.ts'
import type { Logger } from '../../log/logger.ts'
import { operatorActor } from '../../operators/service.ts'
import type { Csrf } from '../../web/csrf.ts'
import { page, type SiteLook } from '../../web/views.ts'
import { CONSOLE_ROUTES } from '../paths.ts'
import type { ConsoleSessions, SessionLookup } from '../session.ts'
import type { ConsoleLocals } from './page.ts'

/** What {@link refuseUnlessLive} and {@link operatorGate} need. */
export interface GateDeps {
  sessions: ConsoleSessions
  csrf: Csrf
  site: SiteLook
  log: Logger
  cookieOf: (req: Request) => string | undefined
  dropCookie: (res: Response) => void
  nav: ConsoleLocals['nav']
}

/** A refusal page outside the layout (the session is gone): its code and what to do. */
export function refusedPage(
  deps: Pick<GateDeps, 'site' | 'log'>,
  res: Response,
  code: BridgeErrorCode,
  description: string,
): void {
  deps.log.info({ code, path: res.req.path }, 'console request refused')
  res
    .status(replyFor(code).status)
    .type('html')
    .send(
      page('console-refused', 'Operator console', deps.site, {
        error: replyFor(code).error,
        description,
      }),
    )
}

/** Answers for a session that is not live (and clears its cookie); true when it is live. */
export function refuseUnlessLive(
  deps: Pick<GateDeps, 'site' | 'log' | 'dropCookie'>,
  res: Response,
  found: SessionLookup,
): found is Extract<SessionLookup, { state: 'live' }> {
  if (found.state === 'live') return true
  deps.dropCookie(res)
  if (found.state === 'expired')
    refusedPage(
      deps,
      res,
      'ERR_CONSOLE_SESSION_EXPIRED',
      'Your console session ended (idle or too long since you signed in). Sign in again.',
    )
  else if (found.state === 'disabled')
    refusedPage(deps, res, 'ERR_OPERATOR_DISABLED', 'This operator account is disabled.')
  else res.redirect(303, CONSOLE_ROUTES.login)
  return false
}

/**
 * The middleware before every page: lets a fully signed-in operator through with
 * {@link ConsoleLocals} set, answers everyone else.
 */
export function operatorGate(deps: GateDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const found = await deps.sessions.load(deps.cookieOf(req))
    if (!refuseUnlessLive(deps, res, found)) return
    if (found.session.stage !== 'full') return res.redirect(303, CONSOLE_ROUTES.totp)
    const locals: ConsoleLocals = {
      operator: found.operator,
      actor: operatorActor(found.operator.name),
      csrf: deps.csrf.token(req, res),
      session: createHash('sha256')
        .update(`console-page\0${deps.cookieOf(req) ?? ''}`)
        .digest('base64url'),
      nav: deps.nav,
    }
    Object.assign(res.locals, locals)
    next()
  }
}
