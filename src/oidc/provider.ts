/**
 * @module oidc/provider
 * The OAuth2/OIDC door: oidc-provider configured over our store, keys, accounts, mappings and
 * integrations. Clients are `oidc` integrations, looked up on each use (a changed integration
 * applies at once). Claims come from the integration's mapping. The login prompt is tied to the
 * bridge session, so signing out of the bridge signs out of every door.
 *
 * @see https://github.com/panva/node-oidc-provider/blob/v9.x/docs/README.md (configuration)
 */
import { createHmac } from 'node:crypto'
import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider'
import type { AccountService } from '../accounts/service.ts'
import type { Account } from '../accounts/types.ts'
import type { IntegrationService } from '../integrations/registry.ts'
import type { KeyMaterial } from '../keys/index.ts'
import type { SessionManager } from '../login/session.ts'
import type { KvStore } from '../store/ports.ts'
import { createOidcAdapter } from './adapter.ts'
import { clientMetadata } from './clients.ts'
import { SCOPE_CLAIMS, scopeFilter } from './claims.ts'

export const SESSION_COOKIE = 'sso_bridge'

export interface OidcDeps {
  issuer: string
  keys: KeyMaterial
  kv: KvStore
  accounts: AccountService
  integrations: IntegrationService
  sessions: SessionManager
  /** Secrets for oidc-provider's signed cookies and the pairwise-subject salt. */
  cookieKeys: string[]
  /** Renders the error page (http/ owns the views). */
  renderError: (ctx: KoaContextWithOIDC, out: Record<string, unknown>, error: Error) => Promise<void> | void
  /** Renders the logout confirmation around oidc-provider's own form. */
  renderLogout: (ctx: KoaContextWithOIDC, form: string) => Promise<void> | void
  renderLoggedOut: (ctx: KoaContextWithOIDC) => Promise<void> | void
}

export interface OidcDoor {
  provider: Provider
  /** The `sub` a client sees for an account: the external_id, or its pairwise pseudonym. */
  subjectFor(client: { subjectType?: string; sectorIdentifier?: string }, accountId: string): string
}

export function createOidcProvider(deps: OidcDeps): OidcDoor {
  const { issuer, kv, accounts, integrations, sessions } = deps
  const secure = issuer.startsWith('https:')
  const pairwiseSalt = createHmac('sha256', deps.cookieKeys[0]!).update('pairwise-subject').digest()
  const pairwise = (sector: string | undefined, accountId: string) =>
    createHmac('sha256', pairwiseSalt).update(`${sector}\u0000${accountId}`).digest('base64url')

  async function findClient(id: string) {
    try {
      const loaded = await integrations.load(id)
      return loaded.record.type === 'oidc' ? clientMetadata(loaded) : undefined
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_INTEGRATION_NOT_FOUND') return undefined
      throw err
    }
  }

  async function activeAccount(externalId: string): Promise<Account | undefined> {
    const account = await accounts.get(externalId).catch((err) => {
      if ((err as { code?: string }).code === 'ERR_ACCOUNT_NOT_FOUND') return undefined
      throw err
    })
    return account?.status === 'active' ? account : undefined
  }

  // The login prompt also fires when the bridge session is gone or belongs to someone else:
  // one sign-in, one sign-out, for every door.
  const policy = interactionPolicy.base()
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('bridge_session', 'the bridge session ended or changed', async (ctx) => {
      const session = await sessions.get(ctx.cookies.get(SESSION_COOKIE))
      const { accountId } = ctx.oidc.session ?? {}
      if (!session || !accountId) return interactionPolicy.Check.REQUEST_PROMPT
      const account = await accounts.get(accountId).catch(() => undefined)
      return account?.id === session.account_id ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT
    }),
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
      keys: deps.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure },
    },
    claims: { ...SCOPE_CLAIMS } as unknown as Configuration['claims'],
    responseTypes: ['code'],
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (_ctx, accountId, client) => pairwise(client.sectorIdentifier as string | undefined, accountId),
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    extraClientMetadata: { properties: ['access_token_ttl', 'refresh_token_ttl', 'first_party'] },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: (_ctx, _token, client) => ttlOf(client as never, 'access_token_ttl', 3600),
      RefreshToken: (_ctx, _token, client) => ttlOf(client as never, 'refresh_token_ttl', 14 * 86_400),
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 30 * 60,
      Session: Math.floor(sessions.ttlMs / 1000),
      Grant: 365 * 86_400,
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      // Our own user-info URL (oidc/userinfo.ts) serves OIDC and plain OAuth2 clients alike.
      userinfo: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => deps.renderLogout(ctx, form),
        postLogoutSuccessSource: async (ctx) => deps.renderLoggedOut(ctx),
      },
    },
    discovery: { userinfo_endpoint: `${issuer}/me` } as Configuration['discovery'],
    interactions: {
      policy,
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // First-party clients skip consent: their grant is made here, with what they ask for.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId)
      if (grantId) return ctx.oidc.provider.Grant.find(grantId)
      if (ctx.oidc.client!.first_party !== true) return undefined
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! })
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '))
      const claims = ctx.oidc.requestParamClaims
      if (claims && claims.size > 0) grant.addOIDCClaims([...claims])
      await grant.save()
      return grant
    },
    findAccount: async (ctx, sub) => {
      const account = await activeAccount(sub)
      if (!account) return undefined
      return {
        accountId: sub,
        claims: async (_use, scope) => {
          const clientId = ctx.oidc.client?.clientId
          const document = clientId ? (await integrations.load(clientId)).mapping.apply(account) : {}
          return { ...scopeFilter(document, scope), sub }
        },
      }
    },
    renderError: async (ctx, out, error) => deps.renderError(ctx, out as unknown as Record<string, unknown>, error),
  }

  const provider = new Provider(issuer, configuration)
  // The bridge session ends with the OIDC one (RP-initiated logout): every door signs out.
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    void sessions.destroy(ctx.cookies.get(SESSION_COOKIE))
    ctx.cookies.set(SESSION_COOKIE, null)
  })
  return {
    provider,
    subjectFor: (client, accountId) => (client.subjectType === 'pairwise' ? pairwise(client.sectorIdentifier, accountId) : accountId),
  }
}
