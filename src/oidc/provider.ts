/**
 * @module oidc/provider
 * The OAuth2/OIDC door: oidc-provider configured over our store, keys, accounts, mappings and
 * integrations. Clients are `oidc` integrations, looked up on each use (a changed integration
 * applies at once). Claims come from the integration's mapping. The login prompt is tied to the
 * bridge session, so signing out of the bridge signs out of every door.
 *
 * @see https://github.com/panva/node-oidc-provider/blob/v9.x/docs/README.md (configuration)
 */
import { CookieKeys } from './cookie-keys.ts'
import { createHmac } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import Provider, {
  interactionPolicy,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider'
import type { AccountService } from '../accounts/service.ts'
import type { Account } from '../accounts/types.ts'
import type { IntegrationService } from '../integrations/registry.ts'
import { isIntegrationOf } from '../integrations/types.ts'
import type { EventLog } from '../events/index.ts'
import type { KeyMaterial } from '../keys/index.ts'
import type { Logger } from '../log/logger.ts'
import { loadLiveMember, SESSION_COOKIE, type SessionManager } from '../login/session.ts'
import type { KvStore } from '../store/ports.ts'
import { createOidcAdapter } from './adapter.ts'
import { storeCall, toOidcError } from './unavailable.ts'
import { hasCode, StoreUnavailable, ValidationFailed } from '../errors/index.ts'
import { oidcRefusalCode } from './refusal-code.ts'
import { OIDC_ROUTES } from './paths.ts'
import { clientMetadata } from './clients.ts'
import { oidcIntegrationType } from './client-settings.ts'
import { customClaims, SCOPE_CLAIMS, scopeFilter } from './claims.ts'
import { bindGrant, isGrantOf, storeGrantAccount } from './account-binding.ts'
import { isConsoleCheckResult } from './live-check.ts'
import { allowFormTargets } from '../web/security-headers.ts'
import { requestIdOf } from '../web/request-id.ts'

/** What {@link createOidcProvider} takes: the services it reads accounts and clients from, and its keys. */
export interface OidcDeps {
  issuer: string
  keys: KeyMaterial
  kv: KvStore
  accounts: AccountService
  integrations: IntegrationService
  sessions: SessionManager
  /** Where refusals are logged, each with a `code` (ERR_OIDC_<protocol error>). */
  log: Logger
  /** Secrets for oidc-provider's signed cookies and the pairwise-subject salt. */
  cookieKeys: string[]
  /** Renders the error page (http/ owns the views). */
  renderError: (
    ctx: KoaContextWithOIDC,
    out: Record<string, unknown>,
    error: Error,
  ) => Promise<void> | void
  /** Renders the logout confirmation around oidc-provider's own form. */
  renderLogout: (ctx: KoaContextWithOIDC, form: string) => Promise<void> | void
  renderLoggedOut: (ctx: KoaContextWithOIDC) => Promise<void> | void
  /**
   * Signs this browser out of the bridge through the one sign-out (login/sign-out.ts) and clears
   * its cookie (web/bridge-session.ts): called when the member chooses "Sign out" at end_session.
   */
  signOutBrowser: (req: IncomingMessage, res: ServerResponse) => Promise<void>
  /**
   * SITE_LOGOUT_URL: where a sign-out that starts here (end_session without a
   * post_logout_redirect_uri) sends the browser on, so the site ends its own session too.
   */
  siteLogoutUrl?: string | undefined
  /**
   * Lets back-channel logout tokens reach relying parties on loopback, private and other
   * special-use addresses, which oidc-provider refuses by default (SSRF protection).
   */
  allowPrivateNetworkFetch?: boolean | undefined
  /** Where each token issued and each refusal is recorded (events/log.ts). */
  events: EventLog
}

/** The OIDC door: the configured oidc-provider and the one rule for the `sub` a client sees. */
export interface OidcDoor {
  provider: Provider
  /** The `sub` a client sees for an account: the external_id, or its pairwise pseudonym. */
  subjectFor(client: { subjectType?: string; sectorIdentifier?: string }, accountId: string): string
}

/**
 * Builds the OIDC door: oidc-provider 9 over our KV store (adapter.ts), with clients taken from
 * the `oidc` integrations, accounts from the account service, claims shaped by each
 * integration's mapping, and the bridge session as the one sign-in. Mount it with
 * `app.use(door.provider.callback())` after the door's own routes (oidc/routes/router.ts).
 * @example
 * const oidc = createOidcProvider(deps) // built once, in doors.ts
 * app.use(oidc.provider.callback()) // last before the error handler: it answers every path it knows
 */
export function createOidcProvider(deps: OidcDeps): OidcDoor {
  const { issuer, kv, accounts, integrations, sessions } = deps
  const secure = issuer.startsWith('https:')
  const pairwiseSalt = createHmac('sha256', deps.cookieKeys[0]!).update('pairwise-subject').digest()
  const pairwise = (sector: string | undefined, accountId: string) =>
    createHmac('sha256', pairwiseSalt).update(`${sector}\u0000${accountId}`).digest('base64url')

  async function findClient(id: string) {
    try {
      const loaded = await integrations.load(id)
      if (!isIntegrationOf(loaded, oidcIntegrationType)) return undefined
      if (!loaded.settings.public && !loaded.secret('client_secret')) {
        // An `{ env }` secret whose variable is not set where the server runs: no such client
        // (invalid_client), and the operator learns why from the log.
        const source = loaded.record.secrets.client_secret
        deps.log.warn(
          {
            code: 'ERR_OIDC_CLIENT_SECRET_UNSET',
            client_id: id,
            ...(source && 'env' in source ? { env: source.env } : {}),
          },
          'oidc client has no secret',
        )
        return undefined
      }
      return clientMetadata(loaded)
    } catch (err) {
      if (hasCode(err, 'ERR_INTEGRATION_NOT_FOUND')) return undefined
      if (err instanceof ValidationFailed) {
        // Stored settings today's schema refuses (saved before a rule tightened, such as an http
        // logo_uri off loopback): no such client (invalid_client, a 400 page), never a 500; the
        // operator learns which setting from the log and fixes it with a PUT.
        deps.log.error(
          { code: err.code, client_id: id, fields: err.issues.map((i) => i.path) },
          'oidc client settings are no longer valid',
        )
        return undefined
      }
      if (hasCode(err, 'ERR_SECRETS_KEY_MISSING') || hasCode(err, 'ERR_SECRET_UNREADABLE')) {
        // The operator's to fix: the log names the key id, never a value (the client gets 503).
        deps.log.error(
          { code: err.code, client_id: id, err: { message: err.message } },
          'oidc client secret cannot be decrypted',
        )
        throw toOidcError(err)
      }
      throw err
    }
  }

  async function activeAccount(externalId: string): Promise<Account | undefined> {
    const account = await accounts.get(externalId).catch((err) => {
      if (hasCode(err, 'ERR_ACCOUNT_NOT_FOUND')) return undefined
      throw toOidcError(err)
    })
    return account?.status === 'active' ? account : undefined
  }

  // The login prompt also fires when the bridge session is gone or belongs to someone else:
  // one sign-in, one sign-out, for every door.
  const policy = interactionPolicy.base()
  policy.get('login')!.checks.add(
    new interactionPolicy.Check(
      'bridge_session',
      'the bridge session ended or changed',
      async (ctx) => {
        // The console's live check (oidc/live-check.ts) resumes with a result it recorded in the
        // store for the member it signs in: that stands for the bridge session, once.
        if (isConsoleCheckResult(ctx.oidc.result, ctx.oidc.session?.accountId))
          return interactionPolicy.Check.NO_NEED_TO_PROMPT
        // The live member (login/session.ts): a disabled (or deleted) account's session signs in
        // nowhere, whatever cookies remain.
        const live = await storeCall(
          loadLiveMember({ sessions, accounts }, ctx.cookies.get(SESSION_COOKIE)),
        )
        const { accountId } = ctx.oidc.session ?? {}
        return live && accountId && live.account.external_id === accountId
          ? interactionPolicy.Check.NO_NEED_TO_PROMPT
          : interactionPolicy.Check.REQUEST_PROMPT
      },
    ),
  )

  const ttlOf = (client: { [key: string]: unknown } | undefined, key: string, fallback: number) => {
    const v = client?.[key]
    return typeof v === 'number' ? v : fallback
  }

  const configuration: Configuration = {
    adapter: createOidcAdapter(kv, { findClient }),
    clients: [],
    jwks: deps.keys.oidc.jwks as Configuration['jwks'],
    cookies: {
      // keygrip's format, keys imported once (oidc/cookie-keys.ts); the types only know arrays.
      keys: new CookieKeys(deps.cookieKeys) as unknown as string[],
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure },
    },
    claims: { ...SCOPE_CLAIMS } as unknown as Configuration['claims'],
    responseTypes: ['code'],
    // A confidential client may send its secret either way (oidc-provider takes basic and post
    // alike for a secret client); public clients use `none` and PKCE.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // A request without `scope` (plain OAuth2 clients such as Minnit's OAuth2 form never send
    // one) is processed with a pre-defined default, as RFC 6749 §3.3 allows: the client's
    // registered scopes but `openid` (it did not ask for OIDC) and `offline_access`, or just
    // `openid` when it has nothing else. oidc-provider would otherwise grant nothing and answer
    // access_denied. Its extra-parameter validators run for every request and may assign defaults.
    extraParams: {
      scope: (ctx, value, client) => {
        if (value !== undefined || !client || !ctx.oidc.params) return
        const registered = (client.scope ?? '')
          .split(' ')
          .filter((v) => v !== '' && v !== 'openid' && v !== 'offline_access')
        ctx.oidc.params.scope = registered.length > 0 ? registered.join(' ') : 'openid'
      },
      // prompt=none with a live bridge session but no OIDC session yet (the member signed in by
      // a ticket, at a SAML SP or on /login): the bridge session is the sign-in every door
      // shares, so it becomes this OIDC session's login here — before oidc-provider loads the
      // account and runs the prompt checks, which then pass — and the request succeeds without
      // an interaction (OIDC Core §3.1.2.1: prompt=none succeeds when the End-User is already
      // authenticated). max_age and id_token_hint are still checked against it. Without a live
      // session, login_required as before; never a hand-off.
      prompt: async (ctx, value) => {
        if (ctx.oidc.route !== 'authorization' || !value?.split(' ').includes('none')) return
        const session = ctx.oidc.session
        if (!session || session.accountId) return
        const live = await storeCall(
          loadLiveMember({ sessions, accounts }, ctx.cookies.get(SESSION_COOKIE)),
        )
        if (live)
          session.loginAccount({
            accountId: live.account.external_id,
            loginTs: live.session.auth_time,
            amr: live.session.amr,
          })
      },
    },
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (_ctx, accountId, client) =>
      pairwise(client.sectorIdentifier as string | undefined, accountId),
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    extraClientMetadata: { properties: ['access_token_ttl', 'refresh_token_ttl', 'first_party'] },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: (_ctx, _token, client) => ttlOf(client as never, 'access_token_ttl', 3600),
      RefreshToken: (_ctx, _token, client) =>
        ttlOf(client as never, 'refresh_token_ttl', 14 * 86_400),
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 30 * 60,
      Session: Math.floor(sessions.ttlMs / 1000),
      Grant: 365 * 86_400,
    },
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        // oidc-provider's default answers any authenticated confidential client about any token
        // (RFC 7662 §4 leaves it to the server). A client learns about its own tokens only: for
        // another client's, and for a token whose account is gone, disabled or was replaced
        // under the same external_id, the answer is {"active": false}.
        allowedPolicy: async (ctx, client, token) => {
          if (token.clientId !== client.clientId) return false
          const accountId = 'accountId' in token ? token.accountId : undefined
          if (!accountId) return true
          const account = await activeAccount(accountId)
          const grant = ctx.oidc.entities.Grant
          return account !== undefined && grant !== undefined && isGrantOf(grant, account)
        },
      },
      revocation: { enabled: true },
      // Our own user-info URL (oidc/routes/userinfo.ts) serves OIDC and plain OAuth2 clients alike.
      userinfo: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => deps.renderLogout(ctx, form),
        postLogoutSuccessSource: async (ctx) => deps.renderLoggedOut(ctx),
      },
      // Clients registering a backchannel_logout_uri get a logout token on every sign-out:
      // oidc-provider sends it at end_session, oidc/sign-out.ts on every other way out.
      backchannelLogout: { enabled: true },
    },
    // oidc-provider sends its outgoing requests (back-channel logout) through a dispatcher that
    // refuses special-use addresses; a relying party on a private network needs that lifted.
    ...(deps.allowPrivateNetworkFetch
      ? {
          fetch: (url: string | URL | Request, options?: RequestInit) => {
            const { dispatcher: _ssrfGuard, ...rest } = (options ?? {}) as RequestInit & {
              dispatcher?: unknown
            }
            return fetch(url, rest)
          },
        }
      : {}),
    discovery: {
      userinfo_endpoint: `${issuer}${OIDC_ROUTES.userinfo}`,
    } as Configuration['discovery'],
    // One table of paths for the provider, the app's routing and the connection sheet.
    routes: {
      authorization: OIDC_ROUTES.authorization,
      token: OIDC_ROUTES.token,
      jwks: OIDC_ROUTES.jwks,
      end_session: OIDC_ROUTES.end_session,
      introspection: OIDC_ROUTES.introspection,
      revocation: OIDC_ROUTES.revocation,
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // First-party clients skip consent: their grant is made here, with what they ask for. A
    // grant made for an earlier account under the same external_id is never reused.
    loadExistingGrant: async (ctx) => {
      const account = (ctx.oidc.account as { bridge?: Account } | undefined)?.bridge
      const grantId =
        ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId)
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined
      if (existing && account && isGrantOf(existing, account)) return existing
      if (ctx.oidc.client!.first_party !== true || !account) return undefined
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId!,
      })
      bindGrant(grant, account)
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '))
      const claims = ctx.oidc.requestParamClaims
      if (claims && claims.size > 0) grant.addOIDCClaims([...claims])
      await grant.save()
      return grant
    },
    findAccount: async (ctx, sub, token) => {
      const account = await activeAccount(sub)
      if (!account) return undefined
      // Code and refresh exchanges (a `token` given): oidc-provider has loaded the grant already,
      // and a grant of an earlier account under this external_id makes it invalid_grant.
      if (token) {
        const grant = ctx.oidc.entities.Grant
        if (!grant || !isGrantOf(grant, account)) return undefined
      }
      return {
        accountId: sub,
        /** The bridge account (its internal id binds new grants: oidc/account-binding.ts). */
        bridge: account,
        claims: async (_use, scope) => {
          const clientId = ctx.oidc.client?.clientId
          const document = clientId
            ? (await storeCall(integrations.load(clientId))).mapping.apply(account)
            : {}
          return { ...scopeFilter(document, scope), sub }
        },
      }
    },
    renderError: async (ctx, out, error) =>
      deps.renderError(ctx, out as unknown as Record<string, unknown>, error),
  }

  const provider = new Provider(issuer, configuration)
  storeGrantAccount(provider)

  // Every URL oidc-provider writes (discovery, the logout form's action, redirects) is built from
  // koa's `ctx.href`: protocol + host + path. The host is pinned to ISSUER's before the request
  // gets here (http/pin-host.ts); the scheme is pinned here, so a hostile `X-Forwarded-Proto`
  // neither turns the document's URLs into http:// ones nor makes koa refuse a Secure cookie.
  const issuerProtocol = new URL(issuer).protocol.slice(0, -1)
  provider.use(async (ctx, next) => {
    Object.defineProperty(ctx.request, 'protocol', { value: issuerProtocol, configurable: true })
    await next()
  })

  // Outermost: a store outage is 503 with Retry-After on every route, as in the admin and token
  // APIs (one answer for one cause). oidc-provider's own error handler has already answered
  // `temporarily_unavailable` for what failed inside a route (unavailable.ts); what fails in the
  // middlewares below is answered here the same way.
  provider.use(async (ctx, next) => {
    try {
      await next()
    } catch (err) {
      const out = toOidcError(err) as {
        statusCode?: number
        error?: string
        error_description?: string
      }
      if (out.statusCode !== 503) throw err
      ctx.status = 503
      ctx.body = { error: out.error, error_description: out.error_description }
    }
    if (ctx.status === 503) ctx.set('Retry-After', String(StoreUnavailable.RETRY_AFTER_SECONDS))
  })

  // Keys the integration's mapping adds beyond the standard claims go into ID tokens too, as
  // they go to the user-info URL (claims.ts: the operator's explicit choice). oidc-provider
  // releases only claims named in its static `claims` configuration, and mappings change at
  // run time, so they are added to this provider's own IdToken class after its filtering.
  const IdToken = provider.IdToken
  const basePayload = IdToken.prototype.payload
  //
  // `auth_time` too, in every ID token: the bridge session's sign-in time (a site ticket's
  // auth_time, so the site's own sign-in), which oidc-provider releases only when max_age or
  // prompt=login asked for it. (Its `require_auth_time` client setting would do the same, but
  // it refuses plain OAuth2 requests without `openid`, as Minnit's OAuth2 form sends.)
  IdToken.prototype.payload = async function payload(this: InstanceType<typeof IdToken>) {
    const out = await basePayload.call(this)
    const authTime = (this.available as { auth_time?: unknown }).auth_time
    return {
      ...customClaims(this.available),
      ...(typeof authTime === 'number' ? { auth_time: authTime } : {}),
      ...out,
    }
  }

  // The bridge session ends with the OIDC one when the member chooses "Sign out" (RP-initiated
  // logout, `logout=yes`): every door signs out, through the one sign-out. "Stay signed in" only
  // ends that client's authorization, as oidc-provider does. Done after the route and awaited,
  // so the session is gone before the browser follows the redirect. Without a
  // post_logout_redirect_uri the browser goes on to SITE_LOGOUT_URL when it is set (the site
  // signs out too) instead of our "signed out" page.
  //
  // oidc-provider also goes through this route when a different member signs in over a stale
  // OIDC session (the account switch in its authorization `resume`): it ends the old member's
  // OIDC session and comes back to the authorization it interrupted. That bridge session is the
  // new member's, just started: it stays, or they would have to sign in twice. The switch is the
  // one logout whose redirect goes back to this provider's own authorization URL (oidc-provider
  // builds it from the request, as `urlFor('resume')`).
  provider.use(async (ctx, next) => {
    await next()
    if (
      ctx.oidc?.route === 'end_session_confirm' &&
      ctx.status === 303 &&
      ctx.oidc.params?.logout
    ) {
      const here = new URL(ctx.href)
      const to = new URL(ctx.response.get('location'), here)
      if (to.origin === here.origin && to.pathname.startsWith(`${OIDC_ROUTES.authorization}/`))
        return
      await storeCall(deps.signOutBrowser(ctx.req, ctx.res))
      if (
        deps.siteLogoutUrl &&
        to.origin === here.origin &&
        to.pathname === `${OIDC_ROUTES.end_session}/success`
      )
        ctx.redirect(deps.siteLogoutUrl)
    }
  })
  // The logout confirmation (and the auto-submitted form oidc-provider sends when there is no
  // OIDC session) now ends at SITE_LOGOUT_URL: Chromium applies CSP form-action to the redirects
  // after a form submission, so the page's form-action names the site's origin.
  const siteLogoutUrl = deps.siteLogoutUrl
  if (siteLogoutUrl)
    provider.use(async (ctx, next) => {
      await next()
      if (ctx.oidc?.route === 'end_session' && ctx.response.is('html'))
        allowFormTargets(ctx.res, [siteLogoutUrl])
    })

  // Back-channel logout sent by oidc-provider's end_session (oidc/sign-out.ts logs its own).
  provider.on('backchannel.success', (_ctx, client) => {
    deps.log.info(
      { code: 'OIDC_BACKCHANNEL_LOGOUT', client_id: client.clientId, reason: 'end_session' },
      'back-channel logout delivered',
    )
  })
  provider.on('backchannel.error', (_ctx, err, client) => {
    deps.log.warn(
      {
        code: 'ERR_BACKCHANNEL_LOGOUT_FAILED',
        client_id: client.clientId,
        reason: 'end_session',
        cause: err.message?.slice(0, 200),
      },
      'back-channel logout failed',
    )
  })

  // Every refusal oidc-provider makes (wrong redirect_uri, unknown client, PKCE, reused code,
  // bad secret…) is logged with a code. Only the error and the client: never parameters,
  // which carry codes, tokens and secrets.
  const refused =
    (event: string) =>
    (
      ctx: KoaContextWithOIDC,
      err: { error?: string; error_description?: string; statusCode?: number; cause?: unknown },
    ) => {
      const error = typeof err.error === 'string' ? err.error : 'server_error'
      const clientId = ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id
      // A store outage (503, unavailable.ts) is ours, not the client's: logged as an error with its own code.
      const outage = err.cause instanceof StoreUnavailable
      deps.events.record({
        door: 'oidc',
        kind: 'refused',
        result: outage ? 'ERR_STORE_UNAVAILABLE' : oidcRefusalCode(error),
        integrationId: typeof clientId === 'string' ? clientId : null,
        memberId: ctx.oidc?.account?.accountId ?? null,
        requestId: requestIdOf(ctx.res),
      })
      ;(outage ? deps.log.error.bind(deps.log) : deps.log.info.bind(deps.log))(
        {
          code: outage ? 'ERR_STORE_UNAVAILABLE' : oidcRefusalCode(error),
          event,
          error,
          description: err.error_description,
          status: err.statusCode,
          ...(typeof clientId === 'string' ? { client_id: clientId.slice(0, 100) } : {}),
        },
        outage ? 'oidc request failed: store unavailable' : 'oidc request refused',
      )
    }
  for (const event of [
    'authorization.error',
    'grant.error',
    'introspection.error',
    'revocation.error',
    'end_session.error',
    'end_session_confirm.error',
    'end_session_success.error',
    'discovery.error',
    'jwks.error',
  ]) {
    provider.on(event as 'grant.error', refused(event))
  }
  // A token endpoint grant that succeeded (authorization_code, refresh_token,
  // client_credentials): one `oidc_token` event, with the member when the grant has one.
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const token = ctx.oidc.entities.AccessToken ?? ctx.oidc.entities.ClientCredentials
    deps.events.record({
      door: 'oidc',
      kind: 'oidc_token',
      result: 'ok',
      integrationId: ctx.oidc.client?.clientId ?? null,
      memberId: token && 'accountId' in token ? token.accountId : null,
      requestId: requestIdOf(ctx.res),
    })
  })
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    deps.log.error(
      {
        code: 'ERR_OIDC_SERVER_ERROR',
        route: ctx.oidc?.route,
        err: { message: err.message, stack: err.stack },
      },
      'oidc request failed',
    )
  })
  return {
    provider,
    subjectFor: (client, accountId) =>
      client.subjectType === 'pairwise' ? pairwise(client.sectorIdentifier, accountId) : accountId,
  }
}
