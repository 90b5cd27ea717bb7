/**
 * @module oidc/sign-out
 * The OIDC door's part in every sign-out (login/sign-out.ts): when a member signs out by any way
 * but oidc-provider's own end_session (which does this itself), the member's OIDC sessions end —
 * this browser's, or every one of theirs — and each client they had signed in to that registered
 * a `backchannel_logout_uri` receives a logout token (OpenID Connect Back-Channel Logout 1.0 §2.5,
 * signed and sent by oidc-provider's own `Client#backchannelLogout`, as end_session does).
 *
 * As oidc-provider's end_session does with `logout=yes`, each authorization's grant is revoked
 * with its codes and tokens unless it persists logout (an `offline_access` grant: Back-Channel
 * Logout 1.0 §2.7 lets such refresh tokens live on).
 *
 * A session is deleted before its clients are told, and only the caller whose delete removed it
 * tells them: two instances ending the same member's sessions at once send each token once.
 */
import type Provider from 'oidc-provider'
import type { Logger } from '../log/logger.ts'
import type { SignOutDoor, SignOutEvent } from '../login/sign-out.ts'
import type { KvStore } from '../store/ports.ts'
import { oidcNamespace } from './adapter.ts'

const SESSIONS = oidcNamespace('Session')
/** Models whose records belong to a grant, as oidc-provider's `revoke` helper removes them. */
const GRANT_MODELS = [
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
] as const
/** A member with more OIDC sessions than this has them ended by expiry instead (a loop guard). */
const MAX_SESSIONS = 1000

interface BackchannelSender {
  backchannelLogout(sub: string, sid: string | undefined): Promise<void>
}

interface StoredSession {
  accountId?: string
  authorizations?: Record<string, { sid?: string; grantId?: string; persistsLogout?: boolean }>
}

/**
 * Builds the OIDC door's {@link SignOutDoor}.
 * @param deps.provider oidc-provider with `features.backchannelLogout` on
 * @param deps.kv the store its adapter writes to (oidc/adapter.ts)
 */
export function oidcSignOutDoor(deps: {
  provider: Provider
  kv: KvStore
  log: Logger
}): SignOutDoor {
  const { provider, kv, log } = deps

  async function revokeGrant(grantId: string): Promise<void> {
    for (const model of GRANT_MODELS) await kv.kvDeleteBy(oidcNamespace(model), 'grantId', grantId)
    await kv.kvDelete(oidcNamespace('Grant'), grantId)
  }

  async function tellClient(
    clientId: string,
    accountId: string,
    sid: string | undefined,
    event: SignOutEvent,
  ) {
    const client = await provider.Client.find(clientId).catch(() => undefined)
    if (!client?.backchannelLogoutUri) return
    try {
      // oidc-provider's own sender (lib/models/client.js), untyped in @types/oidc-provider.
      await (client as unknown as BackchannelSender).backchannelLogout(accountId, sid)
      log.info(
        { code: 'OIDC_BACKCHANNEL_LOGOUT', client_id: clientId, reason: event.reason },
        'back-channel logout delivered',
      )
    } catch (err) {
      // The member is signed out here whatever the relying party answers; the operator learns
      // which one did not hear of it (never the token).
      log.warn(
        {
          code: 'ERR_BACKCHANNEL_LOGOUT_FAILED',
          client_id: clientId,
          reason: event.reason,
          cause: (err as Error).message?.slice(0, 200),
        },
        'back-channel logout failed',
      )
    }
  }

  async function end(id: string, session: StoredSession, event: SignOutEvent): Promise<void> {
    if (!(await kv.kvDelete(SESSIONS, id))) return
    const accountId = session.accountId ?? event.account.external_id
    await Promise.all(
      Object.entries(session.authorizations ?? {}).map(async ([clientId, authorization]) => {
        if (authorization.grantId && !authorization.persistsLogout)
          await revokeGrant(authorization.grantId)
        await tellClient(clientId, accountId, authorization.sid, event)
      }),
    )
  }

  return {
    name: 'oidc',
    async signedOut(event) {
      const externalId = event.account.external_id
      if (event.scope === 'browser') {
        // This browser's OIDC session, named by oidc-provider's session cookie; only if it is the
        // member's (the id is a secret the browser holds, its signature is not needed to end it).
        const id = event.cookie?.(provider.cookieName('session'))
        if (!id || id.length > 128) return
        const found = await kv.kvGet(SESSIONS, id)
        const session = found?.value as StoredSession | undefined
        if (session?.accountId === externalId) await end(id, session, event)
        return
      }
      for (let i = 0; i < MAX_SESSIONS; i++) {
        const found = await kv.kvFindBy(SESSIONS, 'accountId', externalId)
        if (!found) return
        await end(found.key, found.entry.value as StoredSession, event)
      }
    },
  }
}
