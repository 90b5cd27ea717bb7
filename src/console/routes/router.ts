/**
 * @module console/routes/router
 * The operator console's HTTP face (issue #14): sign-in (password, then TOTP when the operator has
 * it or CONSOLE_REQUIRE_TOTP=true), sign-out, and the signed-in landing page. It mirrors the
 * members' sign-in (login/routes/login.ts): the same throttle and failure floor, CSRF on every
 * form — but its own session (console/session.ts) and cookie:
 *
 * - the cookie is HttpOnly, SameSite=Strict, Path=/console, Secure (and `__Secure-`) on https;
 * - a member's bridge session opens nothing here, and the console cookie is never a member's;
 * - each request re-reads the operator: disabled mid-session, the next request signs it out;
 * - each refusal is a page with its stable code (errors/codes.ts), and changes nothing.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { urlencoded, Router, type ErrorRequestHandler, type Request, type Response } from 'express'
import { BridgeError, replyFor, type BridgeErrorCode } from '../../errors/index.ts'
import type { Logger } from '../../log/logger.ts'
import type { LoginThrottle, ThrottleKeys } from '../../login/throttle.ts'
import { operatorActor, type OperatorService } from '../../operators/service.ts'
import type { OperatorRecord } from '../../store/ports.ts'
import { readCookie } from '../../web/cookies.ts'
import type { Csrf } from '../../web/csrf.ts'
import { noStore } from '../../web/no-store.ts'
import type { Services } from '../../services.ts'
import { escapeHtml, page, raw, type SiteLook } from '../../web/views.ts'
import { CONSOLE_ROUTES } from '../paths.ts'
import { consoleCookieName, type ConsoleSessions } from '../session.ts'
import { operatorGate, refusedPage, refuseUnlessLive } from './gate.ts'
import { sendRefusal, type ConsoleHooks, type ConsolePageDeps } from './page.ts'
import { CONSOLE_PAGES } from './pages/index.ts'

/** What {@link consoleRouter} takes. */
export interface ConsoleRouteDeps {
  operators: OperatorService
  sessions: ConsoleSessions
  /** The console's CSRF helper, bound to the console session (doors.ts). */
  csrf: Csrf
  /** The members' sign-in throttle: operators count against the same limits. */
  throttle: LoginThrottle
  /** CONSOLE_REQUIRE_TOTP. */
  requireTotp: boolean
  site: SiteLook
  secure: boolean
  log: Logger
  /** LOGIN_FAILURE_DELAY_MS: a refused sign-in is answered no sooner than this. */
  failureFloorMs: number
  /** What the pages read and change through: the admin API's services. */
  services: Services
  /** Door capabilities the pages use, handed over by http/app.ts (console/routes/page.ts). */
  hooks: ConsoleHooks
  issuer: string
}

const TITLE = 'Operator console'

/** The console's router (see the module doc). */
export function consoleRouter(deps: ConsoleRouteDeps): Router {
  const { sessions, operators, csrf, log, site } = deps
  const router = Router()
  const form = urlencoded({ extended: false, limit: '16kb' })
  const cookieName = consoleCookieName(deps.secure)
  const cookieAttrs = {
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: deps.secure,
    path: CONSOLE_ROUTES.home,
  }
  const setSession = (res: Response, value: string) => res.cookie(cookieName, value, cookieAttrs)
  const dropCookie = (res: Response) =>
    res.cookie(cookieName, '', { ...cookieAttrs, expires: new Date(0) })
  const cookieOf = (req: Request) => readCookie(req, cookieName)
  const throttleKeys = (req: Request, name: string): ThrottleKeys => ({
    ip: req.ip ?? 'unknown',
    // Apart from members' keys (accounts/sign-in-key.ts), so an operator name never locks a member.
    account: `operator:${name.toLowerCase()}`,
  })

  /** A sign-in form again, with its message and the code it answers with. */
  function message(code: BridgeErrorCode, text: string) {
    return raw(
      `<p class="error" role="alert" data-code="${replyFor(code).error}">${escapeHtml(text)} <small>(${replyFor(code).error})</small></p>`,
    )
  }

  function loginForm(
    req: Request,
    res: Response,
    opts: { code?: BridgeErrorCode; text?: string; name?: string } = {},
  ) {
    res
      .status(opts.code ? replyFor(opts.code).status : 200)
      .type('html')
      .send(
        page('console-login', TITLE, site, {
          csrf: csrf.token(req, res),
          name: opts.name ?? '',
          message: opts.code ? message(opts.code, opts.text ?? '') : '',
        }),
      )
  }

  function totpForm(
    req: Request,
    res: Response,
    operator: OperatorRecord,
    opts: { code?: BridgeErrorCode; text?: string } = {},
  ) {
    res
      .status(opts.code ? replyFor(opts.code).status : 200)
      .type('html')
      .send(
        page('console-totp', TITLE, site, {
          csrf: csrf.token(req, res),
          name: operator.name,
          message: opts.code ? message(opts.code, opts.text ?? '') : '',
        }),
      )
  }

  const gateDeps = {
    sessions,
    csrf,
    site,
    log,
    cookieOf,
    dropCookie,
    nav: CONSOLE_PAGES.flatMap((p) => (p.nav ? [p.nav] : [])).sort((a, b) => a.order - b.order),
  }
  const refused = (res: Response, code: BridgeErrorCode, description: string) =>
    refusedPage(gateDeps, res, code, description)

  /** Waits until `failureFloorMs` after `started`, so every refusal takes the same time. */
  async function floor(started: number) {
    while (performance.now() - started < deps.failureFloorMs)
      await delay(Math.ceil(deps.failureFloorMs - (performance.now() - started)))
  }

  router.get(CONSOLE_ROUTES.login, noStore, async (req, res) => {
    const found = await sessions.load(cookieOf(req))
    if (found.state === 'live' && found.session.stage === 'full')
      return res.redirect(303, CONSOLE_ROUTES.home)
    loginForm(req, res)
  })

  router.post(CONSOLE_ROUTES.login, noStore, form, async (req, res) => {
    csrf.check(req)
    const started = performance.now()
    const name = typeof req.body?.name === 'string' ? req.body.name.slice(0, 64) : ''
    const password = typeof req.body?.password === 'string' ? req.body.password : ''
    const keys = throttleKeys(req, name)
    // Counted before the password is checked, as for members (login/throttle.ts).
    const gate = await deps.throttle.attempt(keys)
    if (!gate.allowed) {
      log.warn({ code: 'ERR_LOGIN_THROTTLED', path: req.path, limit: gate.limit }, 'throttled')
      res.set('Retry-After', String(gate.retryAfter))
      return loginForm(req, res, {
        code: 'ERR_LOGIN_THROTTLED',
        text: `Too many attempts. Try again in ${Math.ceil(gate.retryAfter / 60)} minute(s).`,
        name,
      })
    }
    const operator = password.length <= 1024 ? await operators.checkSignIn(name, password) : null
    if (!operator) {
      await floor(started)
      log.info({ code: 'ERR_CONSOLE_LOGIN_FAILED', path: req.path }, 'console sign-in refused')
      return loginForm(req, res, {
        code: 'ERR_CONSOLE_LOGIN_FAILED',
        text: 'That operator name or password is not right.',
        name,
      })
    }
    if (operator.disabled) {
      await floor(started)
      log.info({ code: 'ERR_OPERATOR_DISABLED', path: req.path }, 'console sign-in refused')
      return loginForm(req, res, {
        code: 'ERR_OPERATOR_DISABLED',
        text: 'This operator account is disabled.',
        name,
      })
    }
    if (operator.totp_seed === null && deps.requireTotp) {
      log.info({ code: 'ERR_CONSOLE_TOTP_REQUIRED', path: req.path }, 'console sign-in refused')
      return refused(
        res,
        'ERR_CONSOLE_TOTP_REQUIRED',
        `This console requires a second factor. Set one up first: npx sso-bridge operators totp ${operator.name}`,
      )
    }
    if (operator.totp_seed !== null) {
      // Half signed in: the throttle's count stays until the code is right too.
      setSession(res, await sessions.start(operator, 'totp', cookieOf(req)))
      return res.redirect(303, CONSOLE_ROUTES.totp)
    }
    await deps.throttle.succeed(keys)
    setSession(res, await sessions.start(operator, 'full', cookieOf(req)))
    await operators.audit(operatorActor(operator.name), 'console_sign_in', operator.name)
    res.redirect(303, CONSOLE_ROUTES.home)
  })

  router.get(CONSOLE_ROUTES.totp, noStore, async (req, res) => {
    const found = await sessions.load(cookieOf(req))
    if (!refuseUnlessLive(gateDeps, res, found)) return
    if (found.session.stage !== 'totp') return res.redirect(303, CONSOLE_ROUTES.home)
    totpForm(req, res, found.operator)
  })

  router.post(CONSOLE_ROUTES.totp, noStore, form, async (req, res) => {
    csrf.check(req)
    const found = await sessions.load(cookieOf(req))
    if (!refuseUnlessLive(gateDeps, res, found)) return
    const { operator, session } = found
    if (session.stage !== 'totp') return res.redirect(303, CONSOLE_ROUTES.home)
    const started = performance.now()
    const keys = throttleKeys(req, operator.name)
    const gate = await deps.throttle.attempt(keys)
    if (!gate.allowed) {
      res.set('Retry-After', String(gate.retryAfter))
      return totpForm(req, res, operator, {
        code: 'ERR_LOGIN_THROTTLED',
        text: `Too many attempts. Try again in ${Math.ceil(gate.retryAfter / 60)} minute(s).`,
      })
    }
    const code = typeof req.body?.code === 'string' ? req.body.code.trim() : ''
    const result = await operators.checkTotp(operator, code)
    if (result !== 'ok') {
      await floor(started)
      const failure =
        result === 'replayed' ? 'ERR_CONSOLE_TOTP_REPLAYED' : 'ERR_CONSOLE_TOTP_FAILED'
      log.info({ code: failure, path: req.path }, 'console TOTP refused')
      return totpForm(req, res, operator, {
        code: failure,
        text:
          result === 'replayed'
            ? 'That code was already used. Wait for the next one.'
            : 'That code is not right.',
      })
    }
    await deps.throttle.succeed(keys)
    // A new id for the full sign-in (fixation); the absolute timeout still counts from the password.
    setSession(res, await sessions.start(operator, 'full', cookieOf(req), session.started_at))
    await operators.audit(operatorActor(operator.name), 'console_sign_in', operator.name)
    res.redirect(303, CONSOLE_ROUTES.home)
  })

  router.post(CONSOLE_ROUTES.logout, noStore, form, async (req, res) => {
    csrf.check(req)
    const found = await sessions.load(cookieOf(req))
    await sessions.drop(cookieOf(req))
    dropCookie(res)
    if (found.state === 'live')
      await operators.audit(
        operatorActor(found.operator.name),
        'console_sign_out',
        found.operator.name,
      )
    res.redirect(303, CONSOLE_ROUTES.login)
  })

  // Every page behind the gate; a refusal a page throws (CSRF, validation, not found) becomes a
  // page with its code, inside the layout, and nothing changed.
  const pageDeps: ConsolePageDeps = {
    services: deps.services,
    hooks: deps.hooks,
    csrf,
    issuer: deps.issuer,
    site,
    log,
  }
  const pages = Router()
  pages.use(CONSOLE_ROUTES.home, operatorGate(gateDeps))
  for (const p of CONSOLE_PAGES) pages.use(p.routes(pageDeps))
  pages.use(((err, req, res, next) => {
    if (!(err instanceof BridgeError) || res.headersSent) return next(err)
    log.info({ code: err.code, path: req.path }, 'console request refused')
    sendRefusal(req, res, site, err.code, err.message)
  }) as ErrorRequestHandler)
  router.use(pages)

  return router
}
