/**
 * @module oidc/revoke-account
 * What oidc-provider keeps for an account, removed when the account is deleted: its OIDC
 * sessions, grants, authorization codes, access and refresh tokens (and device or CIBA requests,
 * should those flows be turned on). The adapter indexes every record by its `accountId`
 * (oidc/adapter.ts), so this is one indexed delete per model. Records stored before that index
 * existed are not found here; the grant's account binding (oidc/account-binding.ts) refuses
 * them instead.
 */
import type { KvStore } from '../store/ports.ts'
import { oidcNamespace } from './adapter.ts'

/** oidc-provider models whose records carry an `accountId`. */
export const ACCOUNT_MODELS = [
  'Session',
  'Grant',
  'AuthorizationCode',
  'AccessToken',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
] as const

/**
 * Removes every OIDC record of the account `externalId` (oidc-provider's accountId).
 * @returns how many live records went
 */
export async function revokeOidcAccount(kv: KvStore, externalId: string): Promise<number> {
  let removed = 0
  for (const model of ACCOUNT_MODELS)
    removed += await kv.kvDeleteBy(oidcNamespace(model), 'accountId', externalId)
  return removed
}

/** What oidc-provider holds live for an account: sessions, grants and tokens, by model. */
export interface OidcAccountCounts {
  sessions: number
  grants: number
  access_tokens: number
  refresh_tokens: number
}

/**
 * Counts the live OIDC records of the account `externalId` (the operator console's member
 * page), by the same `accountId` index {@link revokeOidcAccount} deletes by.
 */
export async function countOidcAccount(
  kv: KvStore,
  externalId: string,
): Promise<OidcAccountCounts> {
  const n = (model: (typeof ACCOUNT_MODELS)[number]) =>
    kv.kvCountBy(oidcNamespace(model), 'accountId', externalId)
  const [sessions, grants, access_tokens, refresh_tokens] = await Promise.all([
    n('Session'),
    n('Grant'),
    n('AccessToken'),
    n('RefreshToken'),
  ])
  return { sessions, grants, access_tokens, refresh_tokens }
}
