/**
 * @module oidc/account-binding
 * OIDC grants (and so every code and token issued under one) are bound to the account they were
 * made for by its internal id, not only by its `external_id`.
 *
 * oidc-provider knows an account by its `accountId`, which here is the `external_id` (it is the
 * `sub` clients see, the pairwise input and what `id_token_hint` is matched against). An
 * `external_id` can be used again: delete member 42, create a new member 42, and a token issued
 * to the first would pass every check oidc-provider makes. So each grant also stores the
 * account's internal id ({@link GRANT_ACCOUNT_FIELD}); wherever a token is accepted (code and
 * refresh exchanges, introspection, the user-info URL) the grant must name the account that now
 * holds the `external_id`. The grant is read at each of those places already, so the check costs
 * no extra read.
 *
 * Grants stored before this field existed are judged by time: they are the current account's only
 * if it existed when the grant was made (`created_at` ≤ the grant's `iat`), since an
 * `external_id` names one account at a time.
 */
import type Provider from 'oidc-provider'

/** The grant payload field holding the internal account id. */
export const GRANT_ACCOUNT_FIELD = 'accountUid'

/** What a grant check needs of an account. */
export interface BoundAccount {
  id: string
  created_at: string
}

/**
 * Makes the provider's Grant model store {@link GRANT_ACCOUNT_FIELD}: oidc-provider keeps only
 * the fields its model lists (`IN_PAYLOAD`). Call once, before the provider serves anything.
 */
export function storeGrantAccount(provider: Provider): void {
  const Grant = provider.Grant as unknown as { IN_PAYLOAD: string[] }
  const fields = Grant.IN_PAYLOAD
  if (fields.includes(GRANT_ACCOUNT_FIELD)) return
  Object.defineProperty(Grant, 'IN_PAYLOAD', {
    configurable: true,
    get: () => [...fields, GRANT_ACCOUNT_FIELD],
  })
}

/** Records on a grant (before it is saved) the account it is for. */
export function bindGrant(grant: object, account: BoundAccount): void {
  ;(grant as Record<string, unknown>)[GRANT_ACCOUNT_FIELD] = account.id
}

/** Whether `grant` was made for `account` (see the module comment for grants made before binding). */
export function isGrantOf(grant: object, account: BoundAccount): boolean {
  const bound = (grant as Record<string, unknown>)[GRANT_ACCOUNT_FIELD]
  if (typeof bound === 'string') return bound === account.id
  const iat = (grant as { iat?: unknown }).iat
  const created = Date.parse(account.created_at)
  return typeof iat === 'number' && Number.isFinite(created) && created <= iat * 1000
}
