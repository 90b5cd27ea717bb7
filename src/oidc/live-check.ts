/**
 * @module oidc/live-check
 * The console's live check of an `oidc` integration (issue #14, "Test"): one real
 * authorization-code round trip, over HTTP through ISSUER as a relying party makes it, for a
 * member the operator picked — discovery, the authorization request with the client's own
 * registered redirect URI (state, nonce, PKCE S256), the token request with the client's own
 * authentication, the ID token verified against the JWKS, then the user-info URL. Like
 * Keycloak's "evaluate" and Logto's "try it", but end to end.
 *
 * How the member is signed in without becoming them anywhere: the authorization request stops at
 * the sign-in interaction as a browser's would; instead of a form, the check records the
 * interaction's result server-side (oidc-provider's Interaction model: login as the member,
 * consent by a grant made here and bound to the account), marked `console_check`, and resumes it
 * from its own cookie jar. The provider's bridge-session check accepts that mark in place of a
 * bridge session (provider.ts); nothing a browser sends can set it, since the result lives in the
 * store. The operator's browser never gets a cookie of the member; the OIDC session, grant and
 * tokens the check made are destroyed at the end (no back-channel logout goes out: the client
 * never learnt of them). The code goes nowhere: the redirect to the client's redirect URI is
 * read, never followed.
 *
 * What it proves: discovery answers through ISSUER; the client's registration, redirect URI,
 * scopes and secret are accepted; a code is issued and exchanged; the ID token verifies; the
 * user-info URL answers with the mapping's claims for this member. What it does not: the
 * member's own sign-in at the site (password, hand-off), the consent screen, or the platform's
 * handling of the answer.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import type Provider from 'oidc-provider'
import type { AccountService } from '../accounts/service.ts'
import type { JsonObject } from '../accounts/types.ts'
import { BridgeError } from '../errors/index.ts'
import type { IntegrationService } from '../integrations/registry.ts'
import { bindGrant } from './account-binding.ts'
import { oidcIntegrationType } from './client-settings.ts'

/** The mark a live check leaves in its interaction result (read by provider.ts). */
export const CONSOLE_CHECK = 'console_check'

/** Whether an interaction result is a live check's sign-in of `accountId`. */
export function isConsoleCheckResult(result: unknown, accountId: string | undefined): boolean {
  const r = result as { [CONSOLE_CHECK]?: unknown; login?: { accountId?: unknown } } | undefined
  return r?.[CONSOLE_CHECK] === true && !!accountId && r.login?.accountId === accountId
}

/** One step of the round trip. */
export interface LiveCheckStep {
  name: string
  ok: boolean
  detail: string
}

/** What {@link oidcLiveCheck} found. */
export interface LiveCheck {
  steps: LiveCheckStep[]
  userinfo: JsonObject | null
  idToken: JsonObject | null
  /** The grant the check made (and destroyed), for the record; not a credential. */
  grantId: string | null
}

/** What the check needs: the door's provider and the services behind it. */
export interface LiveCheckDeps {
  provider: Provider
  issuer: string
  integrations: IntegrationService
  accounts: AccountService
  /** Each request's limit (default 10 s). */
  timeoutMs?: number
}

/** A step that failed: the check stops there with what was learnt (never leaves this file). */
class StepFailed extends BridgeError {}

/**
 * Runs the round trip for `externalId` through client `integrationId` (see the module doc).
 * A failing step is reported, not thrown.
 * @throws {IntegrationNotFound} no `oidc` integration `integrationId`
 * @throws {AccountNotFound}
 */
export async function oidcLiveCheck(
  deps: LiveCheckDeps,
  integrationId: string,
  externalId: string,
): Promise<LiveCheck> {
  const { provider, issuer } = deps
  const integration = await deps.integrations.load(integrationId, oidcIntegrationType)
  const account = await deps.accounts.get(externalId)
  const s = integration.settings
  const steps: LiveCheckStep[] = []
  const out: LiveCheck = { steps, userinfo: null, idToken: null, grantId: null }
  const jar = new Map<string, string>()
  const made: { grantId?: string; accessToken?: string; refreshToken?: string } = {}
  const timeout = deps.timeoutMs ?? 10_000

  const step = (name: string, ok: boolean, detail: string) => {
    steps.push({ name, ok, detail })
    if (!ok) throw new StepFailed(detail)
  }
  /** One request through ISSUER with the check's cookie jar; redirects are read, not followed. */
  const call = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '))
    const res = await fetch(url, {
      ...init,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeout),
    })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';', 1)
      const at = pair!.indexOf('=')
      if (at > 0) jar.set(pair!.slice(0, at).trim(), pair!.slice(at + 1).trim())
    }
    return res
  }
  const attempt = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (err) {
      if (err instanceof StepFailed) throw err
      step(name, false, `${(err as Error).name}: ${(err as Error).message}`)
      throw err
    }
  }

  try {
    if (account.status !== 'active') step('Member', false, 'the account is disabled')
    // 1. Discovery (OIDC Discovery 1.0 §4).
    const discovery = await attempt('Discovery', async () => {
      const res = await call(`${issuer}/.well-known/openid-configuration`)
      const doc = (res.ok ? await res.json() : null) as Record<string, unknown> | null
      step(
        'Discovery',
        !!doc && doc.issuer === issuer,
        doc ? `issuer ${String(doc.issuer)}` : `HTTP ${res.status}`,
      )
      return doc as Record<string, string>
    })

    // 2. Authorization request: the client's first registered redirect URI, PKCE S256.
    const redirectUri = s.redirect_uris[0]!
    const state = randomBytes(16).toString('base64url')
    const nonce = randomBytes(16).toString('base64url')
    const verifier = randomBytes(32).toString('base64url')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const scope = s.scopes.join(' ')
    const authorize = new URL(discovery.authorization_endpoint!)
    for (const [k, v] of Object.entries({
      client_id: integration.record.id,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope,
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }))
      authorize.searchParams.set(k, v)
    const uid = await attempt('Authorization request', async () => {
      const res = await call(authorize.href)
      const to = res.headers.get('location')
      const match = to ? /\/interaction\/([\w-]+)$/.exec(new URL(to, issuer).pathname) : null
      step(
        'Authorization request',
        !!match,
        match
          ? `accepted for ${redirectUri} (scope ${scope}); the sign-in interaction was reached`
          : `refused: HTTP ${res.status}${to ? ` → ${new URL(to, issuer).searchParams.get('error') ?? to}` : " (the provider's error page; Activity lists the refusal with its code)"}`,
      )
      return match![1]!
    })

    // 3. The member signs in and consents — recorded server-side (see the module doc).
    const code = await attempt('Sign-in as the member', async () => {
      const interaction = await provider.Interaction.find(uid)
      if (!interaction) {
        step('Sign-in as the member', false, 'the interaction expired')
        return ''
      }
      const grant = new provider.Grant({
        accountId: account.external_id,
        clientId: integration.record.id,
      })
      bindGrant(grant, account)
      grant.addOIDCScope(scope)
      made.grantId = out.grantId = await grant.save()
      interaction.result = {
        login: {
          accountId: account.external_id,
          amr: ['console_check'],
          ts: Math.floor(Date.now() / 1000),
        },
        consent: { grantId: made.grantId },
        [CONSOLE_CHECK]: true,
      }
      await interaction.save(Math.max(1, (interaction.exp ?? 0) - Math.floor(Date.now() / 1000)))
      const res = await call(new URL(interaction.returnTo, issuer).href)
      const to = res.headers.get('location')
      const back = to ? new URL(to, issuer) : null
      const atClient = back && `${back.origin}${back.pathname}` === redirectUri.split('?')[0]
      const got = back?.searchParams.get('code')
      step(
        'Sign-in as the member',
        !!atClient && !!got && back!.searchParams.get('state') === state,
        got
          ? `a code was issued to ${redirectUri} (not followed; nothing reached the platform)`
          : `no code: ${back?.searchParams.get('error') ?? `HTTP ${res.status}`} ${back?.searchParams.get('error_description') ?? ''}`.trim(),
      )
      return got!
    })

    // 4. Token request with the client's own authentication (RFC 6749 §4.1.3, §2.3.1).
    const tokens = await attempt('Token request', async () => {
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      })
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
      }
      if (s.public) body.set('client_id', integration.record.id)
      else {
        const secret = integration.secret('client_secret') ?? ''
        const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+')
        headers.authorization = `Basic ${Buffer.from(`${enc(integration.record.id)}:${enc(secret)}`).toString('base64')}`
      }
      const res = await call(discovery.token_endpoint!, { method: 'POST', headers, body })
      const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
      made.accessToken = typeof json.access_token === 'string' ? json.access_token : undefined
      made.refreshToken = typeof json.refresh_token === 'string' ? json.refresh_token : undefined
      step(
        'Token request',
        res.ok && !!made.accessToken,
        res.ok
          ? `an access token${json.id_token ? ', an ID token' : ''}${made.refreshToken ? ' and a refresh token' : ''} (${s.public ? 'public client, PKCE' : 'client_secret_basic'})`
          : `HTTP ${res.status}: ${String(json.error ?? '')} ${String(json.error_description ?? '')}`.trim(),
      )
      return json
    })

    // 5. The ID token, verified as a relying party would (OIDC Core §3.1.3.7).
    if (typeof tokens.id_token === 'string') {
      await attempt('ID token', async () => {
        const jwks = (await (await call(discovery.jwks_uri!)).json()) as JSONWebKeySet
        const { payload } = await jwtVerify(tokens.id_token as string, createLocalJWKSet(jwks), {
          issuer,
          audience: integration.record.id,
        })
        out.idToken = payload as JsonObject
        step(
          'ID token',
          payload.nonce === nonce,
          payload.nonce === nonce
            ? `signature, issuer, audience and nonce verified; sub ${String(payload.sub)}`
            : 'the nonce does not match',
        )
      })
    }

    // 6. The user-info URL with the access token (OIDC Core §5.3).
    await attempt('User-info', async () => {
      const res = await call(discovery.userinfo_endpoint!, {
        headers: { authorization: `Bearer ${made.accessToken}` },
      })
      const json = (await res.json().catch(() => null)) as JsonObject | null
      if (res.ok) out.userinfo = json
      step(
        'User-info',
        res.ok && !!json,
        res.ok ? `${Object.keys(json ?? {}).length} claims came back` : `HTTP ${res.status}`,
      )
    })
  } catch (err) {
    if (!(err instanceof StepFailed) && steps.every((s) => s.ok)) throw err
  } finally {
    await cleanUp(provider, jar, made)
  }
  return out
}

/** Destroys what the check made: its OIDC session, grant and tokens. */
async function cleanUp(
  provider: Provider,
  jar: Map<string, string>,
  made: { grantId?: string; accessToken?: string; refreshToken?: string },
): Promise<void> {
  const sessionId = jar.get(provider.cookieName('session'))
  const quietly = async (p: Promise<{ destroy(): Promise<void> } | undefined | void>) => {
    try {
      await (await p)?.destroy()
    } catch {
      // Gone already, or expiring on its own: nothing of the member is left usable by it.
    }
  }
  if (sessionId) await quietly(provider.Session.find(sessionId))
  if (made.accessToken) await quietly(provider.AccessToken.find(made.accessToken))
  if (made.refreshToken) await quietly(provider.RefreshToken.find(made.refreshToken))
  if (made.grantId) await quietly(provider.Grant.find(made.grantId))
}
