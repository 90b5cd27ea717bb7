/**
 * @module login/routes/ticket
 * The site-ticket door (zero prompt): `GET /ticket?ticket=…&return_to=…` or `POST /ticket` with
 * the same two form fields. A valid ticket (login/ticket.ts) writes the member's account through
 * the conflict rules, starts a new bridge session (amr `ticket`) and sends the browser on (303)
 * to `return_to`, which must be on an allow-listed origin (SITE_ORIGINS) or on this server —
 * e.g. `/interaction/<uid>` to finish a pending OIDC sign-in.
 *
 * Everything is checked before anything changes: `return_to` first (a bad one does not even use
 * the ticket up), then the ticket, then the account. Each refusal is an HTML error page with an
 * opaque code, and a log line with a stable `ERR_TICKET_*` code; the ticket itself is never
 * logged (request lines carry no query string). Off (404) unless a ticket key is configured.
 */
import { randomBytes } from 'node:crypto'
import { Router, urlencoded, type Request, type Response } from 'express'
import type { AccountService } from '../../accounts/service.ts'
import {
  AccountConflict,
  replyFor,
  ValidationFailed,
  type BridgeErrorCode,
} from '../../errors/index.ts'
import type { EventLog } from '../../events/index.ts'
import type { Logger } from '../../log/logger.ts'
import type { SiteLogin } from '../handoff.ts'
import type { SessionManager } from '../session.ts'
import {
  applyTicket,
  TICKET_MAX_LENGTH,
  TicketRefused,
  type TicketErrorCode,
  type TicketVerifier,
  type VerifiedTicket,
} from '../ticket.ts'
import type { KvStore } from '../../store/ports.ts'
import { signIn } from '../../web/bridge-session.ts'
import type { Csrf } from '../../web/csrf.ts'
import { noStore } from '../../web/no-store.ts'
import { requestIdOf } from '../../web/request-id.ts'
import { localReturnTo, RETURN_TO_MAX_LENGTH } from '../../web/return-to.ts'
import { allowFormTargets } from '../../web/security-headers.ts'
import { errorPage } from '../../web/error-page.ts'
import { escapeHtml, page, raw, type SiteLook } from '../../web/views.ts'
import { LOGIN_ROUTES } from '../paths.ts'

const PROMPT_NAMESPACE = 'bridge:conflict-prompt'
const PROMPT_TTL_MS = 10 * 60_000

/** What config/load.ts reads from SITE_TICKET_SECRET, SITE_TICKET_PUBLIC_KEY and SITE_ORIGINS. */
export interface SiteTicketSettings {
  secret?: string
  /** SPKI PEM text. */
  publicKey?: string
  /** Origins return_to may lead to, besides this server's own. */
  origins: string[]
}

/** What {@link ticketRouter} takes: the verifier, the site's settings and the sign-in machinery. */
export interface TicketRouteDeps {
  settings?: SiteTicketSettings
  /** Built once in doors.ts (audience `<ISSUER>/ticket`); undefined: /ticket answers 404. */
  verifier: TicketVerifier | undefined
  issuer: string
  kv: KvStore
  accounts: AccountService
  sessions: SessionManager
  site: SiteLook
  secure: boolean
  log: Logger
  csrf: Csrf
  /** The hand-off (login/handoff.ts): what freshness the sign-in at `return_to` asked for. */
  siteLogin?: SiteLogin
  /**
   * Whether `return_to` continues a pending sign-in that no longer exists (an OIDC interaction or
   * SAML request that expired or was answered): each door says for its own URLs (http/app.ts).
   */
  continuationGone?: (returnTo: string) => Promise<boolean>
  /** Where each redeemed or refused ticket is recorded (events/log.ts). */
  events: EventLog
}

/** What the page says for each refusal of a ticket (status and opaque name: errors/codes.ts). */
const MESSAGES: Record<TicketErrorCode, string> = {
  ERR_TICKET_INVALID: 'This sign-in link is not valid. Go back to the site and try again.',
  ERR_TICKET_EXPIRED: 'This sign-in link has expired. Go back to the site and try again.',
  ERR_TICKET_REPLAYED:
    'This sign-in link has already been used. Go back to the site and try again.',
  ERR_TICKET_AUDIENCE: 'This sign-in link was made for another server.',
  ERR_TICKET_ACCOUNT_DISABLED: 'This account is disabled.',
  ERR_TICKET_STALE:
    'This sign-in needs you to enter your password at the site again. Go back to the platform and try again.',
}

/**
 * What a refused `return_to` may put in the log: its origin only (to help set SITE_ORIGINS), as a
 * full URL could carry anything.
 */
export function returnToOriginForLog(value: unknown): { return_to_origin?: string } {
  return typeof value === 'string' && URL.canParse(value)
    ? { return_to_origin: new URL(value).origin.slice(0, 200) }
    : {}
}

/**
 * The absolute URL to send the browser to, or null when `value` may not be followed: http(s) URLs
 * on an allowed origin, or paths of this server. A path is checked after normalisation, by the
 * same rule as /login's (web/return-to.ts): `/.//evil.example/` and its kin, which resolve to the
 * path `//evil.example/`, are refused, as is any URL of this server whose path starts with `//`.
 * Whitespace and control characters are refused outright.
 */
export function allowedReturnTo(
  value: unknown,
  ownOrigin: string,
  origins: ReadonlySet<string>,
): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > RETURN_TO_MAX_LENGTH)
    return null
  if (/[\u0000-\u0020\u007f-\u00a0\\]/.test(value)) return null
  if (value.startsWith('/'))
    return localReturnTo(value, ownOrigin) === null ? null : new URL(value, ownOrigin).href
  if (!URL.canParse(value)) return null
  const url = new URL(value)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  if (url.username || url.password) return null
  if (url.origin === ownOrigin) return url.pathname.startsWith('//') ? null : url.href
  return origins.has(url.origin) ? url.href : null
}

/**
 * Why a POST may not come from where it came from, or null. `Origin` (sent by browsers on every
 * POST) must be ISSUER's origin or one of SITE_ORIGINS; `null` (a sandboxed frame, a page served
 * with `Referrer-Policy: no-referrer`) is not one. Without `Origin` (older clients, server-side
 * callers), only a browser's own `Sec-Fetch-Site: cross-site` refuses.
 */
export function crossSiteRefusal(
  req: Request,
  ownOrigin: string,
  origins: ReadonlySet<string>,
): { reason: 'origin_not_allowed' | 'cross_site'; origin?: string } | null {
  const origin = req.get('origin')
  if (origin !== undefined) {
    return origin === ownOrigin || origins.has(origin)
      ? null
      : { reason: 'origin_not_allowed', origin: origin.slice(0, 200) }
  }
  return req.get('sec-fetch-site') === 'cross-site' ? { reason: 'cross_site' } : null
}

/**
 * The ticket rides in the URL: these pages (and /logout's) never send it on in a Referer,
 * whatever the app-wide security headers say.
 */
export function noReferrer(_req: Request, res: Response, next: () => void) {
  res.set('Referrer-Policy', 'no-referrer')
  next()
}

/**
 * `GET|POST /ticket`: a site ticket signs the member in (a new bridge session) and sends them
 * on to `return_to` when it is on this server or one of SITE_ORIGINS. 404 when no ticket key
 * is configured; a refused ticket gets an error page with its code, never the token.
 */
export function ticketRouter(deps: TicketRouteDeps): Router {
  const { settings, accounts, site, log } = deps
  const router = Router()
  const ownOrigin = new URL(deps.issuer).origin
  const origins = new Set((settings?.origins ?? []).map((o) => new URL(o).origin))
  const { verifier } = deps
  // A ticket may carry a profile object; its base64url form is about 4/3 of its size.
  const form = urlencoded({
    extended: false,
    limit: TICKET_MAX_LENGTH + 8 * 1024,
    parameterLimit: 10,
  })

  /**
   * The error page for `code`, with the status and opaque name its line in errors/codes.ts gives
   * (`error` overrides the name where the page says more, e.g. which field is taken).
   */
  function refuse(
    res: Response,
    code: BridgeErrorCode,
    description: string,
    error = replyFor(code).error,
    memberId?: string,
  ) {
    recordTicket(res, code, memberId)
    res
      .status(replyFor(code).status)
      .type('html')
      .send(
        errorPage(site, {
          title: 'Sign-in refused',
          sentence: description,
          code: error,
          requestId: requestIdOf(res),
        }),
      )
  }

  /** Records a redeemed (`ok`) or refused ticket (events/log.ts); never the ticket itself. */
  function recordTicket(res: Response, result: 'ok' | BridgeErrorCode, memberId?: string) {
    deps.events.record({
      door: 'ticket',
      kind: result === 'ok' ? 'ticket_redeemed' : 'refused',
      result,
      memberId,
      requestId: requestIdOf(res),
    })
  }

  async function handle(req: Request, res: Response, input: Record<string, unknown>) {
    if (!verifier) {
      log.info({ code: 'ERR_TICKET_DISABLED', path: req.path }, 'site ticket refused')
      return refuse(res, 'ERR_TICKET_DISABLED', 'Site tickets are not enabled on this server.')
    }
    const returnTo = allowedReturnTo(input.return_to, ownOrigin, origins)
    if (!returnTo) {
      log.warn(
        {
          code: 'ERR_TICKET_RETURN_TO',
          reason: input.return_to === undefined ? 'missing' : 'not_allowed',
          ...returnToOriginForLog(input.return_to),
          path: req.path,
        },
        'site ticket refused',
      )
      return refuse(
        res,
        'ERR_TICKET_RETURN_TO',
        'The page to continue to is not one this server may send you to. Go back to the site and try again.',
      )
    }
    // Coming back to a sign-in that is gone: nothing to continue, so nothing is done (the
    // ticket stays unused; the member starts again from the platform).
    if (deps.continuationGone && (await deps.continuationGone(returnTo))) {
      log.warn(
        { code: 'ERR_TICKET_CONTINUATION_GONE', path: req.path },
        'site ticket refused: the sign-in it continues is gone',
      )
      return refuse(
        res,
        'ERR_TICKET_CONTINUATION_GONE',
        'This sign-in expired before you came back from the site. Start again from the platform.',
      )
    }
    let externalId: string | undefined
    let lastTicket: VerifiedTicket | undefined
    try {
      // A sign-in that asked for a fresh one (prompt=login, max_age, ForceAuthn) is answered only
      // by a ticket whose auth_time meets it (contract §3); checked before anything changes.
      const demand = (await deps.siteLogin?.demandFor(returnTo)) ?? null
      const ticket = await verifier.verify(input.ticket as string, demand)
      lastTicket = ticket
      externalId = ticket.externalId
      const { account, created, resolutions } = await applyTicket(accounts, ticket)
      await signIn(req, res, deps, account, ['ticket'], ticket.authTime)
      log.info(
        {
          code: 'TICKET_SIGNED_IN',
          external_id: account.external_id,
          created,
          resolutions: resolutions.length,
          path: req.path,
        },
        'site ticket signed in',
      )
      recordTicket(res, 'ok', account.external_id)
      res.redirect(303, returnTo)
    } catch (err) {
      if (err instanceof TicketRefused) {
        log.warn(
          {
            code: err.code,
            reason: err.reason,
            ...(externalId === undefined ? {} : { external_id: externalId }),
            path: req.path,
          },
          'site ticket refused',
        )
        return refuse(res, err.code, MESSAGES[err.code], undefined, externalId)
      }
      if (
        err instanceof AccountConflict &&
        err.policy === 'prompt' &&
        (err.field === 'username' || err.field === 'email') &&
        lastTicket
      ) {
        // CONFLICT_*=prompt: the member picks another value; the verified (and now used) ticket
        // waits server-side, bound to this browser's CSRF token, for a few minutes.
        const id = randomBytes(24).toString('base64url')
        const csrf = deps.csrf.token(req, res)
        await deps.kv.kvSet(
          PROMPT_NAMESPACE,
          id,
          {
            externalId: lastTicket.externalId,
            fields: lastTicket.fields,
            field: err.field,
            returnTo,
            csrf,
            ...(lastTicket.authTime === undefined ? {} : { authTime: lastTicket.authTime }),
          },
          { ttlMs: PROMPT_TTL_MS },
        )
        log.info(
          {
            code: 'TICKET_CONFLICT_PROMPT',
            field: err.field,
            external_id: externalId,
            path: req.path,
          },
          'site ticket: member asked for another value',
        )
        return renderPrompt(
          res,
          id,
          returnTo,
          err.field,
          String(lastTicket.fields[err.field] ?? ''),
          csrf,
          'ERR_TICKET_CONFLICT',
        )
      }
      if (err instanceof AccountConflict) {
        log.warn(
          {
            code: 'ERR_TICKET_CONFLICT',
            field: err.field,
            policy: err.policy,
            external_id: externalId,
            path: req.path,
          },
          'site ticket refused',
        )
        return refuse(
          res,
          'ERR_TICKET_CONFLICT',
          `The ${err.field} the site sent is already used by another member. Ask the site's team to sort it out.`,
          `${err.field}_taken`,
        )
      }
      if (err instanceof ValidationFailed) {
        log.warn(
          {
            code: 'ERR_TICKET_INVALID',
            reason: `account_fields:${err.issues.map((i) => i.path).join(',')}`,
            external_id: externalId,
            path: req.path,
          },
          'site ticket refused',
        )
        return refuse(res, 'ERR_TICKET_INVALID', MESSAGES.ERR_TICKET_INVALID)
      }
      throw err
    }
  }

  function renderPrompt(
    res: Response,
    id: string,
    returnTo: string,
    field: 'username' | 'email',
    value: string,
    csrf: string,
    /** Why the prompt is shown (again): its status is the code's (errors/codes.ts). */
    code: 'ERR_TICKET_CONFLICT' | 'ERR_TICKET_PROMPT_INVALID',
    message?: string,
  ) {
    // The answer's redirect goes on to return_to (already checked): the CSP form-action names it.
    allowFormTargets(res, [returnTo])
    res
      .status(replyFor(code).status)
      .type('html')
      .send(
        page(
          'conflict-prompt',
          field === 'username' ? 'Choose another username' : 'Choose another email',
          site,
          {
            field_label: field,
            requested: value,
            value,
            input_type: field === 'email' ? 'email' : 'text',
            autocomplete: field === 'email' ? 'email' : 'username',
            action: `/ticket/prompt/${id}`,
            csrf,
            message: message ? raw(`<p class="error" role="alert">${escapeHtml(message)}</p>`) : '',
          },
        ),
      )
  }

  // The conflict prompt's answer: the member's new username or email, then on as the ticket would.
  router.post(
    '/ticket/prompt/:id',
    noStore,
    noReferrer,
    urlencoded({ extended: false, limit: '4kb' }),
    async (req, res) => {
      deps.csrf.check(req)
      const id = String(req.params.id)
      const entry = /^[A-Za-z0-9_-]{32}$/.test(id)
        ? await deps.kv.kvGet(PROMPT_NAMESPACE, id)
        : null
      const pending = entry?.value as
        | {
            externalId: string
            fields: VerifiedTicket['fields']
            field: 'username' | 'email'
            returnTo: string
            csrf: string
            authTime?: number
          }
        | undefined
      if (!pending || pending.csrf !== req.body?.csrf) {
        log.warn(
          { code: 'ERR_TICKET_PROMPT_EXPIRED', path: '/ticket/prompt' },
          'conflict prompt refused',
        )
        return refuse(
          res,
          'ERR_TICKET_PROMPT_EXPIRED',
          'This page expired. Go back to the site and sign in again.',
        )
      }
      const value = typeof req.body?.value === 'string' ? req.body.value.trim() : ''
      try {
        // The site vouched for the email it sent, not for what the member typed here: a typed
        // email is never verified, whatever the ticket said of the original.
        const fields = {
          ...pending.fields,
          [pending.field]: value,
          ...(pending.field === 'email' ? { email_verified: false } : {}),
        }
        const ticket: VerifiedTicket = { externalId: pending.externalId, fields, jti: '', exp: 0 }
        const { account } = await applyTicket(accounts, ticket)
        await deps.kv.kvDelete(PROMPT_NAMESPACE, id)
        await signIn(req, res, deps, account, ['ticket'], pending.authTime)
        log.info(
          {
            code: 'TICKET_SIGNED_IN',
            external_id: account.external_id,
            field: pending.field,
            path: '/ticket/prompt',
          },
          'site ticket signed in after the conflict prompt',
        )
        recordTicket(res, 'ok', account.external_id)
        res.redirect(303, pending.returnTo)
      } catch (err) {
        if (err instanceof AccountConflict || err instanceof ValidationFailed) {
          const code =
            err instanceof AccountConflict ? 'ERR_TICKET_CONFLICT' : 'ERR_TICKET_PROMPT_INVALID'
          const message =
            err instanceof AccountConflict
              ? `That ${pending.field} is taken too. Try another one.`
              : `That is not a valid ${pending.field}: ${err.issues.map((i) => i.message).join('; ')}.`
          log.info(
            {
              code,
              field: pending.field,
              external_id: pending.externalId,
              path: '/ticket/prompt',
            },
            'conflict prompt answer refused',
          )
          return renderPrompt(
            res,
            id,
            pending.returnTo,
            pending.field,
            value,
            pending.csrf,
            code,
            message,
          )
        }
        throw err
      }
    },
  )

  router.get(LOGIN_ROUTES.ticket, noStore, noReferrer, async (req, res) => {
    // Link checkers and previews send HEAD: it must not use the ticket up.
    if (req.method === 'HEAD') return void res.status(405).set('Allow', 'GET, POST').end()
    await handle(req, res, req.query as Record<string, unknown>)
  })
  router.post(LOGIN_ROUTES.ticket, noStore, noReferrer, form, async (req, res) => {
    // Login CSRF: a page on any other site could auto-submit a ticket the attacker got for their
    // own account and sign this browser in as them. A POST whose Origin is not ours or one of
    // SITE_ORIGINS (or, with no Origin, that the browser marks cross-site) is refused before
    // anything is read, so the ticket stays unused.
    const refusal = crossSiteRefusal(req, ownOrigin, origins)
    if (refusal) {
      log.warn(
        {
          code: 'ERR_TICKET_ORIGIN',
          reason: refusal.reason,
          ...(refusal.origin ? { origin: refusal.origin } : {}),
          path: req.path,
        },
        'site ticket refused',
      )
      return refuse(
        res,
        'ERR_TICKET_ORIGIN',
        'This sign-in form did not come from a site this server trusts. Go back to the site and try again.',
      )
    }
    await handle(req, res, (req.body ?? {}) as Record<string, unknown>)
  })
  return router
}
