/**
 * @module login/routes/login
 * The standalone sign-in for doors that are not OIDC (the SAML door first): `GET/POST
 * /login?return_to=/saml/continue/<id>`. Same view, CSRF, throttle, passport and bridge
 * session as the OIDC interaction (`passwordSignIn` below is the shared part).
 *
 * - `return_to` is a same-origin path only, checked after normalisation (web/return-to.ts):
 *   anything else is refused, and redirects write the normalised form, so the page is no open
 *   redirect.
 * - A live bridge session skips the form (`GET` redirects straight to `return_to`).
 * - "Cancel" returns to `return_to` with `cancel=1`, for the door to tell its platform.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { urlencoded, Router, type NextFunction, type Request, type Response } from 'express'
import type { Account } from '../../accounts/types.ts'
import type { AccountService } from '../../accounts/service.ts'
import type { Logger } from '../../log/logger.ts'
import type { SiteLogin } from '../handoff.ts'
import type { SessionManager } from '../session.ts'
import type { LoginThrottle, ThrottleDecision, ThrottleKeys } from '../throttle.ts'
import { liveMember, signIn } from '../../web/bridge-session.ts'
import type { Csrf } from '../../web/csrf.ts'
import { replyFor, type BridgeErrorCode } from '../../errors/index.ts'
import type { EventLog } from '../../events/index.ts'
import { HttpError } from '../../web/errors.ts'
import { noStore } from '../../web/no-store.ts'
import { requestIdOf } from '../../web/request-id.ts'
import { localReturnTo } from '../../web/return-to.ts'
import { allowFormTargets } from '../../web/security-headers.ts'
import { gateSignIn, type createPassport, type SignInRefusal } from '../passport.ts'
import { LOGIN_ROUTES } from '../paths.ts'
import { escapeHtml, page, raw, type SiteLook } from '../../web/views.ts'

/** What {@link passwordSignIn} takes: shared by /login and the OIDC interaction's sign-in form. */
export interface SignInDeps {
  accounts: AccountService
  sessions: SessionManager
  throttle: LoginThrottle
  passport: ReturnType<typeof createPassport>
  secure: boolean
  log: Logger
  /**
   * Every refused sign-in (401) is answered no sooner than this many ms after it began
   * (LOGIN_FAILURE_DELAY_MS), so an unknown name, an argon2id account and a bcrypt or phpass
   * one take the same time to fail.
   */
  failureFloorMs: number
  /** Where each password sign-in and its refusal is recorded (events/log.ts). */
  events?: EventLog
}

/** The outcome of one password sign-in: the account, or what to show and the status to answer with. */
export type SignInResult =
  | { ok: true; account: Account; authTime: number }
  | { ok: false; status: number; message: string; username: string; retryAfter?: number }

/**
 * One password sign-in: resolve the login, count the attempt (per IP and account, before the
 * password is checked), passport-local, then a new bridge session id set as the cookie (session
 * fixation). Failures are logged with a code and answered at the failure floor. Each outcome is
 * recorded as an event (never the username typed).
 * @param integrationId the client signing in for, when the OIDC door asks (for the event)
 */
export function passwordSignIn(
  deps: SignInDeps,
  req: Request,
  res: Response,
  next: NextFunction,
  integrationId?: string,
): Promise<SignInResult> {
  const { throttle, log } = deps
  const started = performance.now()
  const username = typeof req.body?.username === 'string' ? req.body.username.slice(0, 320) : ''
  let keys: ThrottleKeys | undefined
  let refusedBy: ThrottleDecision['limit']
  // Called by the account service once the login is resolved to its account key.
  gateSignIn(req, async (account) => {
    keys = { ip: req.ip ?? 'unknown', account }
    const gate = await throttle.attempt(keys)
    refusedBy = gate.limit
    return gate.allowed ? null : { retryAfter: gate.retryAfter }
  })
  return new Promise<SignInResult>((resolve, reject) => {
    deps.passport.authenticate(
      'local',
      { session: false },
      (err: unknown, account: Account | false, info: SignInRefusal | undefined) => {
        ;(async () => {
          if (err) throw err
          if (!account && info?.message === 'throttled') {
            const retryAfter = info.retryAfter ?? 1
            log.warn(
              { code: 'ERR_LOGIN_THROTTLED', path: req.path, limit: refusedBy },
              'sign-in throttled',
            )
            recordSignIn(deps, req, res, 'ERR_LOGIN_THROTTLED', integrationId)
            res.set('Retry-After', String(retryAfter))
            return resolve({
              ok: false,
              status: replyFor('ERR_LOGIN_THROTTLED').status,
              username,
              retryAfter,
              message: `Too many attempts. Try again in ${Math.ceil(retryAfter / 60)} minute(s).`,
            })
          }
          if (!account) {
            await failureFloor(deps, started, req.path)
            const disabled = info?.message === 'account_disabled'
            log.info(
              { code: disabled ? 'ERR_ACCOUNT_DISABLED' : 'ERR_LOGIN_FAILED', path: req.path },
              'sign-in refused',
            )
            // Never the username typed: it may be a password typed in the wrong field.
            recordSignIn(
              deps,
              req,
              res,
              disabled ? 'ERR_ACCOUNT_DISABLED' : 'ERR_LOGIN_FAILED',
              integrationId,
            )
            // A disabled account is told so, with the status of any refused sign-in.
            return resolve({
              ok: false,
              status: replyFor('ERR_LOGIN_FAILED').status,
              username,
              message: disabled
                ? 'This account is disabled.'
                : 'That username or password is not right.',
            })
          }
          if (keys) await throttle.succeed(keys)
          const authTime = await signIn(req, res, deps, account, ['pwd'])
          recordSignIn(deps, req, res, 'ok', integrationId, account.external_id)
          resolve({ ok: true, account, authTime })
        })().catch(reject)
      },
    )(req, res, next)
  })
}

/** Records a password sign-in (`ok`) or its refusal: at the OIDC door or /login. */
function recordSignIn(
  deps: SignInDeps,
  req: Request,
  res: Response,
  result: 'ok' | BridgeErrorCode,
  integrationId?: string,
  memberId?: string,
): void {
  deps.events?.record({
    door: req.originalUrl.startsWith('/interaction/') ? 'oidc' : 'login',
    kind: result === 'ok' ? 'sign_in' : 'refused',
    result,
    integrationId,
    memberId,
    requestId: requestIdOf(res),
  })
}

/**
 * Waits until `failureFloorMs` after `started`. A failure that took longer already (a slow hash
 * on a loaded machine) is logged, as its time may tell which kind of account was tried: raise
 * LOGIN_FAILURE_DELAY_MS above it.
 */
async function failureFloor(
  { failureFloorMs, log }: SignInDeps,
  started: number,
  path: string,
): Promise<void> {
  const elapsed = performance.now() - started
  if (elapsed < failureFloorMs) {
    // Timers run on the loop's millisecond clock and may fire a fraction early: wait again
    // until the floor has really passed.
    while (performance.now() - started < failureFloorMs)
      await delay(Math.ceil(failureFloorMs - (performance.now() - started)))
  } else if (failureFloorMs > 0)
    log.warn(
      { code: 'ERR_LOGIN_FLOOR_EXCEEDED', path, ms: Math.round(elapsed), floorMs: failureFloorMs },
      'a refused sign-in took longer than LOGIN_FAILURE_DELAY_MS',
    )
}

/**
 * `return_to` normalised to a path on this server, else null (web/return-to.ts: the check is
 * made on the normalised form, so `/.//evil.example/` and its kin are refused).
 */
export function safeReturnTo(value: unknown, issuer: string): string | null {
  return localReturnTo(value, issuer)
}

/** What {@link loginRouter} takes: the password sign-in's needs plus the page, CSRF and the site hand-off. */
export interface LoginRouteDeps extends SignInDeps {
  site: SiteLook
  issuer: string
  csrf: Csrf
  /** Origins the flow may be redirected on to after `return_to` (web/onward-targets.ts). */
  onwardTargets?: (returnTo: string) => Promise<string[]>
  /** Signing in at the site (SITE_LOGIN_URL, PASSWORD_SIGN_IN). */
  siteLogin: SiteLogin
}

/**
 * `GET|POST /login` (and `/login/cancel`) for the doors that are not OIDC (the SAML door first):
 * the password form or the hand-off to the site, then back to `return_to`. A `return_to` that is
 * not a path on this server is refused with `ERR_LOGIN_RETURN_TO` (400 `invalid_return_to`).
 */
export function loginRouter(deps: LoginRouteDeps): Router {
  const { site, issuer } = deps
  const router = Router()
  const form = urlencoded({ extended: false, limit: '16kb' })

  function returnTo(req: Request): string {
    const target = safeReturnTo(req.query.return_to, issuer)
    if (!target)
      throw new HttpError('ERR_LOGIN_RETURN_TO', 'return_to must be a path on this server')
    return target
  }

  async function render(
    req: Request,
    res: Response,
    target: string,
    opts: { message?: string; username?: string; status?: number; force?: boolean } = {},
  ) {
    const way = deps.siteLogin.way()
    const demand = opts.force ? { since: Math.floor(Date.now() / 1000) } : null
    const handoff = way.siteUrl
      ? await deps.siteLogin.handoff(way.siteUrl, new URL(target, issuer).href, demand)
      : undefined
    // PASSWORD_SIGN_IN=off: straight to the site, never a form.
    if (way.kind === 'handoff') return res.redirect(303, handoff!)
    // The form's POST is followed by redirects to return_to and on: CSP form-action must name them.
    allowFormTargets(res, (await deps.onwardTargets?.(target)) ?? [])
    const q = `?return_to=${encodeURIComponent(target)}`
    res
      .status(opts.status ?? 200)
      .type('html')
      .send(
        page('login', 'Sign in', site, {
          client: site.name,
          action: `/login${q}`,
          abort: `/login/cancel${q}`,
          csrf: deps.csrf.token(req, res),
          username: opts.username ?? '',
          message: opts.message
            ? raw(`<p class="error" role="alert">${escapeHtml(opts.message)}</p>`)
            : '',
          site_link: siteLink(handoff, site.name),
        }),
      )
  }

  router.get(LOGIN_ROUTES.login, noStore, async (req, res) => {
    const target = returnTo(req)
    // `force=1`: the door needs a fresh sign-in (SAML ForceAuthn) even with a live session.
    const force = req.query.force === '1'
    if ((await liveMember(req, deps)) && !force) return res.redirect(303, target)
    await render(req, res, target, { force })
  })

  router.post(LOGIN_ROUTES.login, noStore, form, async (req, res, next) => {
    refuseWhenPasswordOff(deps.siteLogin)
    const target = returnTo(req)
    deps.csrf.check(req)
    const result = await passwordSignIn(deps, req, res, next)
    if (!result.ok)
      return await render(req, res, target, {
        status: result.status,
        username: result.username,
        message: result.message,
      })
    res.redirect(303, target)
  })

  router.post('/login/cancel', noStore, form, (req, res) => {
    const target = returnTo(req)
    deps.csrf.check(req)
    res.redirect(303, `${target}${target.includes('?') ? '&' : '?'}cancel=1`)
  })

  return router
}

/**
 * PASSWORD_SIGN_IN=off: the password endpoints refuse every POST before reading it (no form is
 * ever shown; a hand-made POST must not sign anyone in either).
 * @throws {HttpError} ERR_PASSWORD_SIGN_IN_OFF (403 `password_sign_in_off`)
 */
export function refuseWhenPasswordOff(siteLogin: Pick<SiteLogin, 'passwordSignIn'>): void {
  if (!siteLogin.passwordSignIn)
    throw new HttpError(
      'ERR_PASSWORD_SIGN_IN_OFF',
      'password sign-in is off on this server: sign in at the site',
    )
}

/** The "Continue with <SITE_NAME>" link above the form, or nothing. */
export function siteLink(href: string | undefined, siteName: string) {
  return href
    ? raw(
        `<p class="site-login"><a href="${escapeHtml(href)}">Continue with ${escapeHtml(siteName)}</a></p><p class="or">or sign in with a password</p>`,
      )
    : ''
}
