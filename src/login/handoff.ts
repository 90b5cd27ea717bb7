/**
 * @module login/handoff
 * Signing in at the site (README "Signing in at the site", contract §1 and §3): a door that needs
 * a member and finds no bridge session sends the browser to the site's hand-off page,
 * `SITE_LOGIN_URL?return_to=<the URL that continues the pending sign-in>[&force=1]`. The site
 * signs the member in if needed and comes back through `/ticket` with that `return_to`.
 *
 * When the pending sign-in asked for a fresh sign-in (OIDC prompt=login or max_age, SAML
 * ForceAuthn) the hand-off says `force=1` and remembers, keyed by the digest of `return_to`, what
 * the answering ticket must show ({@link FreshnessDemand}): the browser carries `force=1` to the
 * site and could drop it, so the rule is kept here, not in the URL. A hand-off without force
 * writes nothing. Nothing here knows HTTP.
 */
import { createHash } from 'node:crypto'
import type { KvStore } from '../store/ports.ts'
import type { BridgeSession } from './session.ts'
import { staleness, type FreshnessDemand } from './ticket.ts'

/** KV namespace of the freshness a pending sign-in asked for (keyed by the digest of `return_to`). */
export const HANDOFF_NAMESPACE = 'bridge:handoff'
/** As long as an OIDC interaction lives: a demand outliving its sign-in is never read again. */
const HANDOFF_TTL_MS = 30 * 60_000

/** What {@link createSiteLogin} takes: the site's hand-off page, whether our own form is offered, and the store. */
export interface SiteLoginOptions {
  /** SITE_LOGIN_URL: the site's hand-off page; unset, only an integration's own may apply. */
  url?: string | undefined
  /** PASSWORD_SIGN_IN: whether sso-bridge's own form is offered. */
  passwordSignIn: boolean
  kv: KvStore
}

/** Where a door sends a member without a bridge session. */
export type SignInWay =
  /** Straight to the site's hand-off page (no form on our side). */
  | { kind: 'handoff'; siteUrl: string }
  /** Our sign-in page; with `siteUrl`, it offers "Continue with <SITE_NAME>" above the form. */
  | { kind: 'form'; siteUrl?: string }

const digest = (returnTo: string) => createHash('sha256').update(returnTo).digest('base64url')

/**
 * `siteUrl` with `return_to` (and `force=1`) appended, with `&` when it already has a query
 * (contract §1).
 */
export function handoffUrl(siteUrl: string, returnTo: string, force: boolean): string {
  const u = new URL(siteUrl)
  u.searchParams.append('return_to', returnTo)
  if (force) u.searchParams.append('force', '1')
  return u.href
}

/**
 * The hand-off, as every door uses it.
 * @example
 * const site = createSiteLogin({ url: config.siteLogin.url, passwordSignIn: true, kv })
 * const way = site.way(integration.settings.site_login_url)
 * if (way.kind === 'handoff') res.redirect(303, await site.handoff(way.siteUrl, returnTo, demand))
 */
export function createSiteLogin(opts: SiteLoginOptions) {
  const { kv } = opts
  return {
    passwordSignIn: opts.passwordSignIn,
    /** SITE_LOGIN_URL, if set. */
    url: opts.url,

    /**
     * How a member without a session signs in for an integration. Its own `site_login_url` hands
     * off directly (its members are that site's); SITE_LOGIN_URL does with PASSWORD_SIGN_IN=off,
     * and is offered beside the form with it on; neither: the form.
     */
    way(integrationUrl?: string | undefined): SignInWay {
      if (integrationUrl) return { kind: 'handoff', siteUrl: integrationUrl }
      if (opts.url && !opts.passwordSignIn) return { kind: 'handoff', siteUrl: opts.url }
      return opts.url ? { kind: 'form', siteUrl: opts.url } : { kind: 'form' }
    },

    /**
     * The hand-off URL for `returnTo` (an absolute URL on ISSUER). With `demand`, `force=1` is
     * added and the demand kept for /ticket to check the answering ticket against.
     * @throws {StoreUnavailable} when the store does not answer
     */
    async handoff(
      siteUrl: string,
      returnTo: string,
      demand?: FreshnessDemand | null,
    ): Promise<string> {
      if (demand)
        await kv.kvSet(
          HANDOFF_NAMESPACE,
          digest(returnTo),
          { ...demand, atMs: Date.now() },
          { ttlMs: HANDOFF_TTL_MS },
        )
      return handoffUrl(siteUrl, returnTo, Boolean(demand))
    },

    /** The freshness the sign-in continued at `returnTo` asked for, or null (none asked). */
    async demandFor(returnTo: string): Promise<FreshnessDemand | null> {
      const entry = await kv.kvGet(HANDOFF_NAMESPACE, digest(returnTo))
      return entry ? (entry.value as unknown as FreshnessDemand) : null
    },
  }
}

/** The hand-off to the site {@link createSiteLogin} builds; one per process, shared by every door. */
export type SiteLogin = ReturnType<typeof createSiteLogin>

/**
 * Whether a bridge session meets a demand. A session a ticket started gets the ticket's skew
 * (its auth_time is the site's clock, and /ticket accepted it by that rule, so the door it
 * continues must not send it round again); any other session's auth_time is this server's own
 * clock and is held to the demand exactly.
 */
export function sessionMeets(
  demand: FreshnessDemand,
  session: Pick<BridgeSession, 'auth_time' | 'amr' | 'started_at_ms'>,
  nowS: number,
): boolean {
  if (session.amr.includes('ticket'))
    // The skew is for the site's clock only: a session this server started before the hand-off
    // (a ticket a few seconds older than it) never answers a demand made after it.
    return (
      (demand.maxAge !== undefined ||
        (session.started_at_ms ?? 0) >= (demand.atMs ?? demand.since * 1000)) &&
      staleness(demand, session.auth_time, nowS) === null
    )
  if (demand.maxAge !== undefined) return nowS - session.auth_time <= demand.maxAge
  return session.auth_time >= demand.since
}
