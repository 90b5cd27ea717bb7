/**
 * @module accounts/sign-in-key
 * The key a sign-in attempt is counted under (login/throttle.ts), one per account however its
 * login is spelled: `ｂｏｂ`, `𝐛𝐨𝐛`, `BOB` and `bob@example.com` all resolve to one account and
 * so to one key. A login that matches no account is keyed on its normalised form
 * ({@link usernameKey}), hashed: people type passwords into the username field, and the store
 * should not keep them, nor grow with 16 KB names.
 */
import { createHash } from 'node:crypto'
import { usernameKey } from './normalize.ts'

/** The key of an existing account (by its internal id, which never changes). */
export function accountSignInKey(accountId: string): string {
  return `id:${accountId}`
}

/** The key of a login that matches no account. */
export function unknownSignInKey(login: string): string {
  return `name:${createHash('sha256').update(usernameKey(login.trim())).digest('base64url')}`
}
