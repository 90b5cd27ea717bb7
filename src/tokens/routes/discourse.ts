/**
 * @module tokens/routes/discourse
 * The DiscourseConnect endpoint (tokens/platforms/discourse.ts says the contract):
 *
 * - `GET /discourse/{id}/sso?sso=…&sig=…`: Discourse sends the member here. In order: the
 *   integration (404 unless a `discourse` one), `sig` (constant time; `discourse_signature`), the
 *   payload (`nonce` and `return_sso_url` each once; `discourse_malformed`), `return_sso_url`
 *   under the forum's URL (`discourse_return_url`), then the nonce, claimed once across every
 *   instance on the store for a day (`discourse_nonce_replayed`; Discourse forgets used nonces
 *   after 24 hours, discourse_connect_base.rb `used_nonce_expiry_time`). A refusal is an error page
 *   with its code; it stores nothing and signs nobody in.
 * - With a live bridge session the browser goes straight back to `return_sso_url` with our
 *   `sso`/`sig`. Without, the verified request waits in the store (10 minutes, Discourse's own
 *   nonce lifetime, used once) and the member signs in at the site (login/handoff.ts) or on
 *   /login, coming back to `GET /discourse/continue/{pending id}`.
 *
 * Every answer is `no-store`: the redirect carries the member's signed profile.
 */
import { createHash, randomBytes } from 'node:crypto'
import { Router, type Request, type Response } from 'express'
import type { Account } from '../../accounts/types.ts'
import type { EventLog } from '../../events/index.ts'
import { IntegrationNotFound } from '../../errors/index.ts'
import type { IntegrationService, LoadedIntegration } from '../../integrations/registry.ts'
import { isIntegrationOf } from '../../integrations/types.ts'
import type { Logger } from '../../log/logger.ts'
import type { SiteLogin } from '../../login/handoff.ts'
import type { SessionManager } from '../../login/session.ts'
import type { AccountService } from '../../accounts/service.ts'
import type { KvStore } from '../../store/ports.ts'
import { liveMember } from '../../web/bridge-session.ts'
import { noStore } from '../../web/no-store.ts'
import { requestIdOf } from '../../web/request-id.ts'
import { DiscourseRequestInvalid } from '../discourse/errors.ts'
import { DISCOURSE_ROUTES } from '../discourse/paths.ts'
import {
  connectUrl,
  encodeConnect,
  isUnderForum,
  verifyConnectRequest,
} from '../discourse/payload.ts'
import {
  connectPayload,
  connectSecret,
  discourseType,
  type DiscourseSettings,
} from '../platforms/discourse.ts'

/** What {@link discourseRouter} takes from createApp. */
export interface DiscourseRouteDeps {
  integrations: IntegrationService
  kv: KvStore
  accounts: Pick<AccountService, 'getById'>
  sessions: SessionManager
  /** Public base URL: a hand-off's `return_to` is `{issuer}/discourse/continue/<id>`. */
  issuer: string
  siteLogin: SiteLogin
  events: EventLog
  log: Logger
}

const PENDING_NAMESPACE = 'discourse:pending'
/** Discourse's own nonce lifetime (discourse_connect_base.rb `nonce_expiry_time`). */
const PENDING_TTL_MS = 10 * 60_000
/** As long as Discourse remembers a used nonce (`used_nonce_expiry_time`). */
const NONCE_TTL_MS = 24 * 3_600_000
const nonceNamespace = (integrationId: string) => `discourse:nonces:${integrationId}`

interface Pending extends Record<string, unknown> {
  integrationId: string
  nonce: string
  returnSsoUrl: string
}

/**
 * Whether a `return_to` is a Discourse continuation that no longer waits (answered, or expired):
 * the ticket door then says so instead of sending the member on to a dead page.
 */
export async function discoursePendingGone(
  kv: KvStore,
  issuer: string,
  returnTo: string,
): Promise<boolean> {
  const prefix = `${issuer}${DISCOURSE_ROUTES.continue}/`
  if (!returnTo.startsWith(prefix)) return false
  const id = returnTo.slice(prefix.length)
  if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return false
  return (await kv.kvGet(PENDING_NAMESPACE, id)) === null
}

/**
 * For the sign-in page's CSP form-action (web/onward-targets.ts): a `return_to` of a waiting
 * Discourse sign-in ends on that forum (the redirect to `return_sso_url` follows the form's POST).
 */
export function discourseOnwardTargets(kv: KvStore): (path: string) => Promise<string[]> {
  return async (path) => {
    const m = new RegExp(`^${DISCOURSE_ROUTES.continue}/([A-Za-z0-9_-]{32})$`).exec(path)
    if (!m) return []
    const entry = await kv.kvGet(PENDING_NAMESPACE, m[1]!)
    const url = (entry?.value as Pending | undefined)?.returnSsoUrl
    return typeof url === 'string' ? [new URL(url).origin] : []
  }
}

/** The DiscourseConnect endpoint and its continuation (see the module doc). */
export function discourseRouter(deps: DiscourseRouteDeps): Router {
  const { kv, log } = deps
  const router = Router()

  async function load(id: string): Promise<LoadedIntegration<DiscourseSettings>> {
    const loaded = await deps.integrations.load(id)
    if (!isIntegrationOf(loaded, discourseType)) throw new IntegrationNotFound(id)
    return loaded
  }

  function refuse(
    _req: Request,
    res: Response,
    err: DiscourseRequestInvalid,
    integrationId: string | null,
  ) {
    log.info({ code: err.code, integration: integrationId }, 'discourse request refused')
    deps.events.record({
      door: 'tokens',
      kind: 'refused',
      result: err.code,
      integrationId,
      requestId: requestIdOf(res),
    })
    return err
  }

  /** Sends the browser back to Discourse with the member's signed payload. */
  function respond(
    res: Response,
    integration: LoadedIntegration<DiscourseSettings>,
    account: Account,
    p: Pick<Pending, 'nonce' | 'returnSsoUrl'>,
  ) {
    // The nonce first, as Discourse's own payloads list it; a mapping cannot replace it.
    const doc = { nonce: p.nonce, ...connectPayload(account, integration) }
    const url = connectUrl(p.returnSsoUrl, encodeConnect(doc, connectSecret(integration)))
    deps.events.record({
      door: 'tokens',
      kind: 'platform_token',
      result: 'ok',
      integrationId: integration.record.id,
      memberId: account.external_id,
      requestId: requestIdOf(res),
    })
    res.redirect(302, url)
  }

  /** The site's hand-off, or our /login, with the way back to the pending request `id`. */
  async function toSignIn(res: Response, id: string, settings: DiscourseSettings) {
    const back = `${DISCOURSE_ROUTES.continue}/${id}`
    const way = deps.siteLogin.way(settings.site_login_url)
    if (way.kind === 'handoff')
      return res.redirect(303, await deps.siteLogin.handoff(way.siteUrl, `${deps.issuer}${back}`))
    res.redirect(303, `/login?return_to=${encodeURIComponent(back)}`)
  }

  router.get(DISCOURSE_ROUTES.sso(':id'), noStore, async (req, res) => {
    const integration = await load(String(req.params.id))
    const integrationId = integration.record.id
    const checked = verifyConnectRequest(req.query.sso, req.query.sig, connectSecret(integration))
    if (!checked.ok)
      throw refuse(
        req,
        res,
        checked.reason === 'signature'
          ? new DiscourseRequestInvalid(
              'ERR_DISCOURSE_SIGNATURE',
              "the request's signature does not match this forum's discourse connect secret",
            )
          : new DiscourseRequestInvalid(
              'ERR_DISCOURSE_MALFORMED',
              'the request is not a DiscourseConnect request',
            ),
        integrationId,
      )
    const { nonce, return_sso_url: returnSsoUrl } = checked.fields
    if (!nonce || nonce.length > 256 || !returnSsoUrl || returnSsoUrl.length > 4096)
      throw refuse(
        req,
        res,
        new DiscourseRequestInvalid(
          'ERR_DISCOURSE_MALFORMED',
          'the request carries no nonce or no return_sso_url',
        ),
        integrationId,
      )
    if (!isUnderForum(returnSsoUrl, integration.settings.discourse_url))
      throw refuse(
        req,
        res,
        new DiscourseRequestInvalid(
          'ERR_DISCOURSE_RETURN_URL',
          "return_sso_url is not on this integration's forum",
        ),
        integrationId,
      )
    // Once, on every instance: a replayed request (a link copied from history or a log) signs in
    // no one. Only the digest is kept.
    const nonceKey = createHash('sha256').update(nonce).digest('base64url')
    if (
      !(await kv.kvSetIfAbsent(
        nonceNamespace(integrationId),
        nonceKey,
        {},
        { ttlMs: NONCE_TTL_MS },
      ))
    )
      throw refuse(
        req,
        res,
        new DiscourseRequestInvalid(
          'ERR_DISCOURSE_NONCE_REPLAYED',
          'this sign-in request was already used; start again from the forum',
        ),
        integrationId,
      )
    const live = await liveMember(req, deps)
    if (live) return respond(res, integration, live.account, { nonce, returnSsoUrl })
    const id = randomBytes(24).toString('base64url')
    const pending: Pending = { integrationId, nonce, returnSsoUrl }
    await kv.kvSet(PENDING_NAMESPACE, id, pending, { ttlMs: PENDING_TTL_MS })
    await toSignIn(res, id, integration.settings)
  })

  router.get(`${DISCOURSE_ROUTES.continue}/:pending`, noStore, async (req, res) => {
    const id = String(req.params.pending)
    const entry = /^[A-Za-z0-9_-]{32}$/.test(id) ? await kv.kvGet(PENDING_NAMESPACE, id) : null
    const gone = () =>
      new DiscourseRequestInvalid(
        'ERR_DISCOURSE_PENDING_EXPIRED',
        'this sign-in request expired or was already answered; start again from the forum',
      )
    if (!entry) throw refuse(req, res, gone(), null)
    const pending = entry.value as Pending
    const integration = await load(pending.integrationId)
    const live = await liveMember(req, deps)
    if (!live) return toSignIn(res, id, integration.settings)
    // Used once: of two tabs finishing together, one answers.
    if (!(await kv.kvDelete(PENDING_NAMESPACE, id)))
      throw refuse(req, res, gone(), pending.integrationId)
    respond(res, integration, live.account, pending)
  })

  return router
}
