/**
 * @module oidc/routes/interaction
 * The OIDC interaction pages (shape of oidc-provider's example/routes/express.js): sign-in and
 * consent, every one `no-store`, every form CSRF-protected.
 *
 * - A bridge session that is still valid signs the member in without a form (one session for
 *   every door); a disabled account never does.
 * - The password form goes through passport-local, is throttled per IP and per account (each
 *   attempt counted before its password is checked), failures answer at one floor, and a
 *   success starts a new bridge session id (session fixation).
 * - No live session: with a site to sign in at (SITE_LOGIN_URL or the client's
 *   `site_login_url`), the member is handed off to it (login/handoff.ts) with
 *   `return_to=/interaction/<uid>`, `force=1` for prompt=login and max_age; with
 *   PASSWORD_SIGN_IN=on and SITE_LOGIN_URL, the form offers "Continue with <SITE_NAME>" instead.
 *   The ticket that comes back starts the bridge session, and this page finishes the sign-in.
 * - First-party clients never see the consent page.
 */
import { urlencoded, Router, type Request, type Response } from 'express'
import type Provider from 'oidc-provider'
import type { Account } from '../../accounts/types.ts'
import type { AccountService } from '../../accounts/service.ts'
import type { Logger } from '../../log/logger.ts'
import { sessionMeets, type SiteLogin } from '../../login/handoff.ts'
import type { SessionManager } from '../../login/session.ts'
import type { FreshnessDemand } from '../../login/ticket.ts'
import type { LoginThrottle } from '../../login/throttle.ts'
import type { EventLog } from '../../events/index.ts'
import { bindGrant, isGrantOf } from '../account-binding.ts'
import { OIDC_CLIENT_TITLE } from '../client-settings.ts'
import { liveMember } from '../../web/bridge-session.ts'
import type { Csrf } from '../../web/csrf.ts'
import { HttpError } from '../../web/errors.ts'
import { noStore } from '../../web/no-store.ts'
import { allowFormTargets, allowImage } from '../../web/security-headers.ts'
import type { createPassport } from '../../login/passport.ts'
import { escapeHtml, page, raw, type SiteLook } from '../../web/views.ts'
import { passwordSignIn, refuseWhenPasswordOff, siteLink } from '../../login/routes/login.ts'

/** What {@link interactionRouter} takes: the provider, the sign-in machinery shared with /login, and the page look. */
export interface InteractionDeps {
  provider: Provider
  accounts: AccountService
  sessions: SessionManager
  throttle: LoginThrottle
  passport: ReturnType<typeof createPassport>
  site: SiteLook
  secure: boolean
  log: Logger
  csrf: Csrf
  /** See SignInDeps.failureFloorMs (routes/login.ts). */
  failureFloorMs: number
  /** Public base URL: `return_to` of a hand-off is `{issuer}/interaction/<uid>`. */
  issuer: string
  /** Signing in at the site (SITE_LOGIN_URL, PASSWORD_SIGN_IN). */
  siteLogin: SiteLogin
  /** A client's own `site_login_url` (its integration's setting), if any. */
  siteLoginUrlOf: (clientId: string) => Promise<string | undefined>
  /** Where each password sign-in and its refusal is recorded (events/log.ts). */
  events?: EventLog
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Your account identifier',
  profile: 'Your name, username, picture and profile',
  email: 'Your email address',
  offline_access: 'Staying signed in when you are away',
}

/**
 * Login prompt reasons a live bridge session answers without asking again. Anything else
 * (`login_prompt`: the client asked with prompt=login; `id_token_hint`: another member was
 * expected; an ACR the password form would have to give) needs the form.
 */
const SESSION_ANSWERS = new Set(['no_session', 'bridge_session', 'max_age'])

function sessionAnswers(reasons: string[], maxAge: unknown, authTime: number): boolean {
  if (!reasons.every((r) => SESSION_ANSWERS.has(r))) return false
  if (maxAge === undefined) return true
  const seconds = Number(maxAge)
  return Number.isFinite(seconds) && Math.floor(Date.now() / 1000) - authTime <= seconds
}

/**
 * The fresh sign-in a login prompt asks for, or null: prompt=login wants credentials entered
 * after now, max_age wants them no older than max_age (OIDC Core §3.1.2.1).
 */
function demandOf(reasons: string[], maxAge: unknown): FreshnessDemand | null {
  const since = Math.floor(Date.now() / 1000)
  if (reasons.includes('login_prompt')) return { since }
  const seconds = Number(maxAge)
  return maxAge !== undefined && Number.isFinite(seconds) ? { since, maxAge: seconds } : null
}

/**
 * oidc-provider's interaction pages (`/interaction/:uid`: sign-in, consent, abort), in the
 * order of its `example/routes/express.js`: `interactionDetails`, render or act, then
 * `interactionFinished`; every page `no-store`, every form CSRF-checked. A live bridge session
 * signs the member in without a form (one sign-in for every door).
 */
export function interactionRouter(deps: InteractionDeps): Router {
  const { provider, accounts, site } = deps
  const router = Router()
  const form = urlencoded({ extended: false, limit: '16kb' })

  /**
   * How the pages name a client to a member: its integration's `display_name`, else its type's
   * title — never its id, which is a configuration key (oidc/client-settings.ts) — and its logo.
   */
  async function clientLook(clientId: unknown): Promise<{ name: string; logoUri?: string }> {
    const client = typeof clientId === 'string' ? await provider.Client.find(clientId) : undefined
    const name = typeof client?.clientName === 'string' ? client.clientName : OIDC_CLIENT_TITLE
    return typeof client?.logoUri === 'string' ? { name, logoUri: client.logoUri } : { name }
  }

  const clientName = async (clientId: unknown): Promise<string> => (await clientLook(clientId)).name

  async function finishLogin(
    req: Request,
    res: Response,
    account: Account,
    amr: string[],
    authTime: number,
  ) {
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.external_id, amr, ts: authTime } },
      { mergeWithLastSubmission: false },
    )
  }

  function renderLogin(
    req: Request,
    res: Response,
    uid: string,
    client: string,
    redirectUri: unknown,
    opts: { message?: string; username?: string; status?: number; siteLink?: string } = {},
  ) {
    // Never a form with password sign-in off (a client's site_login_url hands off before this).
    refuseWhenPasswordOff(deps.siteLogin)
    // The form's flow ends at the client's redirect_uri (validated by oidc-provider at /auth).
    allowFormTargets(res, [typeof redirectUri === 'string' ? redirectUri : undefined])
    res
      .status(opts.status ?? 200)
      .type('html')
      .send(
        page('login', 'Sign in', site, {
          client,
          action: `/interaction/${uid}/login`,
          abort: `/interaction/${uid}/abort`,
          csrf: deps.csrf.token(req, res),
          username: opts.username ?? '',
          message: opts.message
            ? raw(`<p class="error" role="alert">${escapeHtml(opts.message)}</p>`)
            : '',
          site_link: siteLink(opts.siteLink, site.name),
        }),
      )
  }

  /**
   * The member has no session that answers this prompt: the hand-off to the site, or the form
   * (offering the hand-off when SITE_LOGIN_URL is set beside it).
   */
  async function signInNeeded(
    req: Request,
    res: Response,
    uid: string,
    reasons: string[],
    params: Record<string, unknown>,
  ) {
    const clientId = typeof params.client_id === 'string' ? params.client_id : undefined
    const way = deps.siteLogin.way(clientId ? await deps.siteLoginUrlOf(clientId) : undefined)
    const returnTo = `${deps.issuer}/interaction/${uid}`
    const demand = demandOf(reasons, params.max_age)
    if (way.kind === 'handoff')
      return res.redirect(303, await deps.siteLogin.handoff(way.siteUrl, returnTo, demand))
    const link = way.siteUrl
      ? await deps.siteLogin.handoff(way.siteUrl, returnTo, demand)
      : undefined
    return renderLogin(req, res, uid, await clientName(clientId), params.redirect_uri, {
      ...(link ? { siteLink: link } : {}),
    })
  }

  async function grantConsent(req: Request, res: Response) {
    const details = await provider.interactionDetails(req, res)
    const { prompt, params, session } = details
    // The grant names the account by its internal id too (oidc/account-binding.ts): one made for
    // an earlier account under this external_id is not extended, a new one is made.
    const account = await accounts.get(session!.accountId).catch(() => null)
    if (!account || account.status !== 'active')
      throw new HttpError('ERR_INTERACTION_STATE', 'the account signed in here is no longer active')
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined
    if (grant && !isGrantOf(grant, account)) grant = undefined
    if (!grant) {
      grant = new provider.Grant({
        accountId: session!.accountId,
        clientId: params.client_id as string,
      })
      bindGrant(grant, account)
    }
    const missing = prompt.details as {
      missingOIDCScope?: string[]
      missingOIDCClaims?: string[]
      missingResourceScopes?: Record<string, string[]>
    }
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '))
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims)
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '))
    const grantId = await grant.save()
    await provider.interactionFinished(
      req,
      res,
      { consent: details.grantId === grantId ? {} : { grantId } },
      { mergeWithLastSubmission: true },
    )
  }

  router.get('/interaction/:uid', noStore, async (req, res) => {
    const { uid, prompt, params } = await provider.interactionDetails(req, res)
    if (prompt.name === 'login') {
      const live = await liveMember(req, deps)
      if (live && sessionAnswers(prompt.reasons, params.max_age, live.session.auth_time)) {
        return finishLogin(req, res, live.account, live.session.amr, live.session.auth_time)
      }
      // prompt=login: a session started after the hand-off asked for it (the ticket it sent
      // back, checked by /ticket against the same demand) answers it.
      if (
        live &&
        prompt.reasons.includes('login_prompt') &&
        prompt.reasons.every((r) => r === 'login_prompt' || SESSION_ANSWERS.has(r))
      ) {
        const demand = await deps.siteLogin.demandFor(`${deps.issuer}/interaction/${uid}`)
        if (demand && sessionMeets(demand, live.session, Math.floor(Date.now() / 1000)))
          return finishLogin(req, res, live.account, live.session.amr, live.session.auth_time)
      }
      return signInNeeded(req, res, uid, prompt.reasons, params)
    }
    if (prompt.name === 'consent') {
      const registered = await provider.Client.find(params.client_id as string)
      if (registered?.first_party === true) return grantConsent(req, res)
      const client = await clientLook(params.client_id)
      const scopes = String(params.scope ?? '')
        .split(' ')
        .filter(Boolean)
      const details = await provider.interactionDetails(req, res)
      const account = details.session?.accountId
        ? await accounts.get(details.session.accountId).catch(() => null)
        : null
      const items = (scopes.length > 0 ? scopes : ['openid'])
        .map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`)
        .join('')
      allowFormTargets(res, [
        typeof params.redirect_uri === 'string' ? params.redirect_uri : undefined,
      ])
      // The integration's logo, loaded by the browser from its own URL: this page's CSP names
      // that one image (web/security-headers.ts); the name beside it is its text, so alt="".
      allowImage(res, client.logoUri)
      return res.type('html').send(
        page('consent', 'Allow access', site, {
          client: client.name,
          logo: client.logoUri
            ? raw(`<img src="${escapeHtml(client.logoUri)}" alt="" width="48" height="48">`)
            : '',
          account: account?.username ? ` as ${account.username}` : '',
          scopes: raw(items),
          action: `/interaction/${uid}/confirm`,
          abort: `/interaction/${uid}/abort`,
          csrf: deps.csrf.token(req, res),
        }),
      )
    }
    throw new HttpError('ERR_INTERACTION_UNKNOWN', `unsupported prompt ${prompt.name}`)
  })

  router.post('/interaction/:uid/login', noStore, form, async (req, res, next) => {
    refuseWhenPasswordOff(deps.siteLogin)
    deps.csrf.check(req)
    const { uid, prompt, params } = await provider.interactionDetails(req, res)
    if (prompt.name !== 'login')
      throw new HttpError('ERR_INTERACTION_STATE', 'this sign-in step is already done')
    const client = await clientName(params.client_id)
    // Throttle, passport, new bridge session: the same steps as /login (routes/login.ts).
    const result = await passwordSignIn(deps, req, res, next, String(params.client_id))
    if (!result.ok) {
      // The form again, with "Continue with <SITE_NAME>" still above it when SITE_LOGIN_URL is set.
      const way = deps.siteLogin.way()
      const link =
        way.kind === 'form' && way.siteUrl
          ? await deps.siteLogin.handoff(
              way.siteUrl,
              `${deps.issuer}/interaction/${uid}`,
              demandOf(prompt.reasons, params.max_age),
            )
          : undefined
      return renderLogin(req, res, uid, client, params.redirect_uri, {
        status: result.status,
        username: result.username,
        message: result.message,
        ...(link ? { siteLink: link } : {}),
      })
    }
    await finishLogin(req, res, result.account, ['pwd'], result.authTime)
  })

  router.post('/interaction/:uid/confirm', noStore, form, async (req, res) => {
    deps.csrf.check(req)
    const { prompt } = await provider.interactionDetails(req, res)
    if (prompt.name !== 'consent')
      throw new HttpError('ERR_INTERACTION_STATE', 'this consent step is already done')
    await grantConsent(req, res)
  })

  router.post('/interaction/:uid/abort', noStore, form, async (req, res) => {
    deps.csrf.check(req)
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'End-User aborted interaction' },
      { mergeWithLastSubmission: false },
    )
  })

  return router
}

/**
 * For /ticket: whether `returnTo` is this door's continuation (`{issuer}/interaction/<uid>`) of an
 * interaction that no longer exists (expired, or finished already).
 */
export async function interactionGone(
  provider: Provider,
  issuer: string,
  returnTo: string,
): Promise<boolean> {
  const prefix = `${issuer}/interaction/`
  if (!returnTo.startsWith(prefix)) return false
  const uid = returnTo.slice(prefix.length)
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(uid)) return false
  return !(await provider.Interaction.find(uid))
}
