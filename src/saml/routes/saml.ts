/**
 * @module saml/routes/saml
 * The SAML 2.0 door's endpoints (saml-bindings §3.4 Redirect, §3.5 POST):
 *
 * - `GET /saml/metadata`                      IdP metadata (both certificates during a rollover)
 * - `GET|POST /saml/sso`                      SP-initiated SSO (AuthnRequest)
 * - `GET /saml/continue/:id`                  back from the sign-in page with the pending request
 * - `GET /saml/idp-initiated/:integration`    unsolicited Response (no InResponseTo attribute)
 * - `GET|POST /saml/slo`                      SP-initiated Single Logout → signed LogoutResponse
 *
 * The bridge session is the sign-in: a member signed in by any door is not asked again (unless
 * the SP says ForceAuthn), and SLO ends it for every door. Without one, the member signs in at the
 * site (login/handoff.ts: `return_to=/saml/continue/<id>`, `force=1` for ForceAuthn, whose
 * ticket must then carry an auth_time after the request) or on /login; IsPassive answers NoPassive
 * at once (saml-core §3.4.1). A request waiting for the member to
 * sign in is kept, already verified, in the KV under a random id (10 minutes, used once).
 * Responses go to the browser as an auto-submitting form whose values are HTML-escaped.
 */
import { createHash, randomBytes } from 'node:crypto'
import { urlencoded, Router, type Request, type Response } from 'express'
import type { AccountService } from '../../accounts/service.ts'
import type { EventLog } from '../../events/index.ts'
import type { Logger } from '../../log/logger.ts'
import { sessionMeets, type SiteLogin } from '../../login/handoff.ts'
import type { LiveMember, SessionManager } from '../../login/session.ts'
import type { SignOut } from '../../login/sign-out.ts'
import type { SamlIdp, InboundMessage, VerifiedAuthnRequest } from '../idp.ts'
import { SAML_ROUTES, relayStateOf } from '../idp.ts'
import { SamlRequestInvalid } from '../errors.ts'
import { LIMITS } from '../xml-guard.ts'
import type { KvStore } from '../../store/ports.ts'
import { liveMember, signOutBrowser } from '../../web/bridge-session.ts'
import { noStore } from '../../web/no-store.ts'
import { requestIdOf } from '../../web/request-id.ts'
import { allowFormTargets } from '../../web/security-headers.ts'
import { escapeHtml, page, type SiteLook } from '../../web/views.ts'

/** What {@link samlRouter} takes: the IdP, the sign-in machinery, the one sign-out and the page look. */
export interface SamlRouteDeps {
  idp: SamlIdp
  kv: KvStore
  accounts: AccountService
  sessions: SessionManager
  /** The one sign-out (login/sign-out.ts), for single logout. */
  signOut: SignOut
  site: SiteLook
  secure: boolean
  log: Logger
  /** Public base URL: a hand-off's `return_to` is `{issuer}/saml/continue/<id>`. */
  issuer: string
  /** Signing in at the site (SITE_LOGIN_URL, PASSWORD_SIGN_IN). */
  siteLogin: SiteLogin
  /** An SP's own `site_login_url` (its integration's setting), if any. */
  siteLoginUrlOf: (integrationId: string) => Promise<string | undefined>
  /** Where each response sent, logout and refusal is recorded (events/log.ts). */
  events: EventLog
}

const PENDING_NAMESPACE = 'saml:pending'
const PENDING_TTL_MS = 10 * 60_000

interface Pending extends Record<string, unknown> {
  integrationId: string
  /** Absent: IdP-initiated. */
  requestId?: string
  acsUrl?: string
  relayState?: string
  forceAuthn: boolean
  /** Epoch seconds: with ForceAuthn, only a sign-in after this counts. */
  createdAt: number
  /** The same instant in ms: with ForceAuthn, only a bridge session started after it counts. */
  createdAtMs?: number
}

/**
 * The page that POSTs a SAML message to the SP (saml-bindings §3.5.4). Every value escaped; the
 * form is submitted by /assets/auto-post.js (the CSP allows no inline script), or by the button
 * when scripts are off.
 */
export function autoPostPage(action: string, fields: Record<string, string | undefined>): string {
  const inputs = Object.entries(fields)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(
      ([name, value]) =>
        `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
    )
    .join('')
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Signing you in…</title></head>' +
    `<body><form method="post" action="${escapeHtml(action)}">${inputs}` +
    '<noscript><p>JavaScript is off: press the button to continue.</p><button type="submit">Continue</button></noscript></form>' +
    '<script src="/assets/auto-post.js"></script></body></html>'
  )
}

/** Sends the auto-post page; its CSP form-action names the SP's endpoint (from its metadata). */
function sendAutoPost(
  res: Response,
  action: string,
  fields: Record<string, string | undefined>,
): void {
  allowFormTargets(res, [action])
  res.type('html').send(autoPostPage(action, fields))
}

/** Something the SP can match to our session without learning the cookie. */
const sessionIndexOf = (cookie: string) =>
  `_${createHash('sha256').update(`saml-session-index\0${cookie}`).digest('hex').slice(0, 40)}`

/**
 * The SAML door's HTTP face: metadata, SSO (Redirect and POST), the continue-after-sign-in
 * page, IdP-initiated sign-in and single logout. Refusals are logged with their cause and
 * answered by the error handler (or as a SAML error Response when the SP is known).
 */
export function samlRouter(deps: SamlRouteDeps): Router {
  const { idp, kv, site, log } = deps
  const router = Router()
  const form = urlencoded({
    extended: false,
    limit: LIMITS.encodedBytes + 4096,
    parameterLimit: 10,
  })

  // The refusal is logged here with its cause (for the operator); the error handler answers it
  // with the status and wire name its code has in errors/codes.ts (an error page or JSON).
  const refuse = (err: SamlRequestInvalid, req: Request): SamlRequestInvalid => {
    refused(req, err)
    log.info(
      { code: err.code, path: req.path, cause: (err.cause as Error | undefined)?.message },
      'saml request refused',
    )
    return err
  }

  /** Records a refused SAML request with its code (events/log.ts). */
  function refused(req: Request, err: SamlRequestInvalid) {
    deps.events.record({
      door: 'saml',
      kind: 'refused',
      result: err.code,
      requestId: req.res ? requestIdOf(req.res) : undefined,
    })
  }

  // A Redirect message is read from the raw query string only (saml/redirect-query.ts): express's
  // req.query keeps the first of duplicated values and drops keys past 1,000.
  const inbound = (req: Request, binding: 'post' | 'redirect'): InboundMessage => {
    if (binding === 'post') {
      const body = req.body as Record<string, unknown> | undefined
      return { binding, message: body?.SAMLRequest, relayState: body?.RelayState }
    }
    const q = req.originalUrl.indexOf('?')
    return { binding, rawQuery: q >= 0 ? req.originalUrl.slice(q + 1) : '' }
  }

  async function respond(
    res: Response,
    p: {
      integrationId: string
      requestId?: string | undefined
      acsUrl?: string | undefined
      relayState?: string | undefined
    },
    live: LiveMember,
  ) {
    const { xml, acsUrl } = await idp.loginResponse({
      integrationId: p.integrationId,
      ...(p.acsUrl ? { acsUrl: p.acsUrl } : {}),
      ...(p.requestId ? { inResponseTo: p.requestId } : {}),
      account: live.account,
      authTime: live.session.auth_time,
      sessionIndex: sessionIndexOf(live.cookie),
    })
    log.info(
      {
        code: 'SAML_RESPONSE_ISSUED',
        integration: p.integrationId,
        solicited: p.requestId !== undefined,
      },
      'saml response issued',
    )
    deps.events.record({
      door: 'saml',
      kind: 'saml_response',
      result: 'ok',
      integrationId: p.integrationId,
      memberId: live.account.external_id,
      requestId: requestIdOf(res),
    })
    sendAutoPost(res, acsUrl, {
      SAMLResponse: Buffer.from(xml).toString('base64'),
      RelayState: p.relayState,
    })
  }

  function errorReply(
    res: Response,
    r: { acsUrl: string; requestId?: string | undefined; relayState?: string | undefined },
    message: string,
    noPassive = false,
  ) {
    const xml = idp.errorResponse({
      acsUrl: r.acsUrl,
      ...(r.requestId ? { inResponseTo: r.requestId } : {}),
      message,
      noPassive,
    })
    sendAutoPost(res, r.acsUrl, {
      SAMLResponse: Buffer.from(xml).toString('base64'),
      RelayState: r.relayState,
    })
  }

  async function toLogin(res: Response, pending: Pending) {
    const id = randomBytes(24).toString('base64url')
    await kv.kvSet(PENDING_NAMESPACE, id, pending, { ttlMs: PENDING_TTL_MS })
    await toSignIn(res, id, pending)
  }

  /** The site's hand-off, or our /login, with the way back to the pending request `id`. */
  async function toSignIn(res: Response, id: string, pending: Pending) {
    const back = `${SAML_ROUTES.continue}/${id}`
    const way = deps.siteLogin.way(await deps.siteLoginUrlOf(pending.integrationId))
    if (way.kind === 'handoff') {
      const demand = pending.forceAuthn ? { since: pending.createdAt } : null
      return res.redirect(
        303,
        await deps.siteLogin.handoff(way.siteUrl, `${deps.issuer}${back}`, demand),
      )
    }
    res.redirect(
      303,
      `/login?return_to=${encodeURIComponent(back)}${pending.forceAuthn ? '&force=1' : ''}`,
    )
  }

  async function sso(req: Request, res: Response, binding: 'post' | 'redirect') {
    let verified: VerifiedAuthnRequest
    try {
      verified = await idp.verifyAuthnRequest(inbound(req, binding))
    } catch (err) {
      if (!(err instanceof SamlRequestInvalid)) throw err
      if (err.reply) {
        log.info({ code: err.code, path: req.path }, 'saml request refused (error Response sent)')
        refused(req, err)
        return errorReply(res, err.reply, err.message)
      }
      throw refuse(err, req)
    }
    const live = await liveMember(req, deps)
    if (live && !verified.forceAuthn) return respond(res, verified, live)
    if (verified.isPassive) {
      log.info(
        { code: 'ERR_SAML_NO_PASSIVE', path: req.path },
        'saml passive request without a session',
      )
      return errorReply(res, verified, 'the member is not signed in', true)
    }
    return toLogin(res, {
      integrationId: verified.integrationId,
      requestId: verified.requestId,
      acsUrl: verified.acsUrl,
      ...(verified.relayState ? { relayState: verified.relayState } : {}),
      forceAuthn: verified.forceAuthn,
      createdAt: Math.floor(Date.now() / 1000),
      createdAtMs: Date.now(),
    })
  }

  router.get(SAML_ROUTES.metadata, (_req, res) => {
    res
      .set('Cache-Control', 'public, max-age=300')
      .type('application/samlmetadata+xml')
      .send(idp.metadata())
  })

  router.get(SAML_ROUTES.sso, noStore, (req, res) => sso(req, res, 'redirect'))
  router.post(SAML_ROUTES.sso, noStore, form, (req, res) => sso(req, res, 'post'))

  router.get(`${SAML_ROUTES.continue}/:id`, noStore, async (req, res) => {
    const id = String(req.params.id)
    const entry = /^[A-Za-z0-9_-]{32}$/.test(id) ? await kv.kvGet(PENDING_NAMESPACE, id) : null
    if (!entry)
      throw refuse(
        new SamlRequestInvalid(
          'ERR_SAML_PENDING_EXPIRED',
          'this sign-in request expired; start again from the platform',
        ),
        req,
      )
    const pending = entry.value as Pending
    if (req.query.cancel === '1') {
      await kv.kvDelete(PENDING_NAMESPACE, id)
      log.info(
        { code: 'ERR_SAML_CANCELLED', integration: pending.integrationId },
        'saml sign-in cancelled',
      )
      if (pending.acsUrl)
        return errorReply(
          res,
          { acsUrl: pending.acsUrl, requestId: pending.requestId, relayState: pending.relayState },
          'the member cancelled the sign-in',
        )
      return res.type('html').send(page('logged-out', 'Cancelled', site, {}))
    }
    const live = await liveMember(req, deps)
    // ForceAuthn: only a sign-in since the request counts (login/handoff.ts sessionMeets).
    const fresh =
      live !== null &&
      (!pending.forceAuthn ||
        sessionMeets(
          {
            since: pending.createdAt,
            ...(pending.createdAtMs ? { atMs: pending.createdAtMs } : {}),
          },
          live.session,
          Math.floor(Date.now() / 1000),
        ))
    if (!live || !fresh) return toSignIn(res, id, pending)
    // Used once: of two tabs finishing together, one answers.
    if (!(await kv.kvDelete(PENDING_NAMESPACE, id)))
      throw refuse(
        new SamlRequestInvalid(
          'ERR_SAML_PENDING_EXPIRED',
          'this sign-in request was already answered',
        ),
        req,
      )
    return respond(res, pending, live)
  })

  router.get(`${SAML_ROUTES.idpInitiated}/:integration`, noStore, async (req, res) => {
    const integrationId = String(req.params.integration)
    let relayState: string | undefined
    try {
      relayState = relayStateOf(req.query.RelayState, LIMITS.relayStateBytes)
    } catch (err) {
      if (err instanceof SamlRequestInvalid) throw refuse(err, req)
      throw err
    }
    const loaded = await idp.loadSp(integrationId)
    if (!loaded)
      throw refuse(
        new SamlRequestInvalid('ERR_SAML_UNKNOWN_SP', 'no SAML service provider has this id'),
        req,
      )
    const live = await liveMember(req, deps)
    if (live) return respond(res, { integrationId, ...(relayState ? { relayState } : {}) }, live)
    return toLogin(res, {
      integrationId,
      ...(relayState ? { relayState } : {}),
      forceAuthn: false,
      createdAt: Math.floor(Date.now() / 1000),
      createdAtMs: Date.now(),
    })
  })

  async function slo(req: Request, res: Response, binding: 'post' | 'redirect') {
    let verified
    try {
      verified = await idp.verifyLogoutRequest(inbound(req, binding))
    } catch (err) {
      if (err instanceof SamlRequestInvalid) throw refuse(err, req)
      throw err
    }
    // The request names a principal (its NameID): this browser's session ends only if it is that
    // member's — an SP cannot sign out whoever happens to be signed in here. A session that is
    // not live (disabled account) goes either way.
    const live = await liveMember(req, deps)
    const named =
      live !== null &&
      verified.nameId !== undefined &&
      (await idp.nameIdFor(verified.integrationId, live.account)) === verified.nameId
    let outcome: 'ended' | 'none' | 'other_principal_kept'
    if (live === null || named) {
      // The one sign-out: the bridge session ends, the OIDC door ends this browser's OIDC session
      // and tells its relying parties (back-channel logout), the cookie is cleared.
      const { ended } = await signOutBrowser(req, res, deps, 'saml_slo')
      outcome = ended > 0 && live ? 'ended' : 'none'
    } else {
      outcome = 'other_principal_kept'
    }
    log.info(
      { code: 'SAML_LOGOUT', integration: verified.integrationId, session: outcome },
      'saml single logout',
    )
    deps.events.record({
      door: 'saml',
      kind: 'logout',
      result: 'ok',
      integrationId: verified.integrationId,
      memberId: live?.account.external_id,
      requestId: requestIdOf(res),
    })
    const out = idp.logoutResponse(verified)
    if (out.binding === 'HTTP-Redirect') {
      res.redirect(302, out.url)
      return
    }
    sendAutoPost(res, out.url, {
      SAMLResponse: Buffer.from(out.xml).toString('base64'),
      RelayState: verified.relayState,
    })
  }

  router.get(SAML_ROUTES.slo, noStore, (req, res) => slo(req, res, 'redirect'))
  router.post(SAML_ROUTES.slo, noStore, form, (req, res) => slo(req, res, 'post'))
  return router
}

/**
 * For /ticket: whether `returnTo` is this door's continuation (`{issuer}/saml/continue/<id>`) of
 * a request that no longer waits (expired, or answered already).
 */
export async function samlPendingGone(
  kv: KvStore,
  issuer: string,
  returnTo: string,
): Promise<boolean> {
  const prefix = `${issuer}${SAML_ROUTES.continue}/`
  if (!returnTo.startsWith(prefix)) return false
  const id = returnTo.slice(prefix.length)
  if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return false
  return (await kv.kvGet(PENDING_NAMESPACE, id)) === null
}
