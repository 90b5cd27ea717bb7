/**
 * @module login/sign-out
 * Sign-out, written once. Every way out — OIDC end_session, SAML single logout, a site's logout
 * ticket at /logout, a deleted account, the admin API's "sign out everywhere" — calls {@link SignOut.signOut}, which
 *
 * 1. ends the bridge session(s) in the store (so every instance sharing the store sees it at
 *    once): one browser's, or every one of the member's in every browser;
 * 2. then tells each door that registered ({@link SignOut.addDoor}) who signed out and how far,
 *    so it ends its own sessions and tells its relying parties (the OIDC door: its sessions end
 *    and clients with a `backchannel_logout_uri` get a logout token).
 *
 * Clearing the browser's cookie is the HTTP layer's half (one helper beside the cookie code);
 * nothing else ends a bridge session. Nothing here knows HTTP.
 */
import type { Account } from '../accounts/types.ts'
import type { KvStore } from '../store/ports.ts'
import { endSession, endSessionsOf, findSession } from './session.ts'

/** Who signed out: the internal id (bridge sessions) and the external_id (OIDC's accountId). */
export type SignedOutAccount = Pick<Account, 'id' | 'external_id'>

/** Why a sign-out happened, for the doors' logs. */
export type SignOutReason =
  | 'end_session'
  | 'saml_slo'
  | 'logout_ticket'
  | 'account_removed'
  /** The admin API's "sign out everywhere". */
  | 'admin'

/** What a door is told after the bridge session(s) ended. */
export interface SignOutEvent {
  account: SignedOutAccount
  /**
   * `browser`: one browser signed out (its other sessions stay: another browser's, another
   * member's); `member`: every session of the member ends, in every browser.
   */
  scope: 'browser' | 'member'
  /** `browser` scope only: reads a cookie of that browser, so a door finds its own session there. */
  cookie?: (name: string) => string | undefined
  reason: SignOutReason
}

/** A door's part in every sign-out. It handles its own expected failures (an RP that does not answer). */
export interface SignOutDoor {
  /** For logs. */
  name: string
  signedOut(event: SignOutEvent): Promise<void>
}

/** Whom to sign out. */
export type SignOutTarget =
  | {
      /** This browser's bridge-session cookie value (absent: the browser had none). */
      cookie: string | undefined | null
      /** Reads the browser's other cookies, handed to the doors. */
      readCookie?: (name: string) => string | undefined
      reason: SignOutReason
    }
  | { account: SignedOutAccount; reason: SignOutReason }

/** What one sign-out did; `account` tells the doors whom to tell. */
export interface SignOutResult {
  /** Whose session(s) ended, or null when the browser had no session (nothing to tell). */
  account: SignedOutAccount | null
  /** How many bridge sessions ended. */
  ended: number
}

/** What {@link createSignOut} takes: the store holding the sessions and a way to name their account. */
export interface SignOutDeps {
  kv: KvStore
  /**
   * The account of a session's internal id, disabled ones too (a disabled member's sessions end
   * like any other), or null when it is gone.
   */
  getAccount: (id: string) => Promise<SignedOutAccount | null>
}

/**
 * Builds the one sign-out. Doors register after it is built (they are built later, over the
 * same services); a sign-out tells the doors registered at that time.
 * @example
 * const out = createSignOut({ kv: store, getAccount: (id) => accounts.getById(id) })
 * out.addDoor(oidcSignOutDoor)
 * await out.signOut({ account, reason: 'logout_ticket' }) // every browser, every instance
 */
export function createSignOut(deps: SignOutDeps) {
  const { kv } = deps
  const doors: SignOutDoor[] = []

  async function tell(event: SignOutEvent): Promise<void> {
    for (const door of doors) await door.signedOut(event)
  }

  return {
    /** Adds a door to tell on every sign-out. */
    addDoor(door: SignOutDoor): void {
      doors.push(door)
    },

    /**
     * Ends the bridge session(s) of the target, then tells every door.
     * @throws {StoreUnavailable} when the store does not answer
     */
    async signOut(target: SignOutTarget): Promise<SignOutResult> {
      if ('account' in target) {
        const ended = await endSessionsOf(kv, target.account.id)
        await tell({ account: target.account, scope: 'member', reason: target.reason })
        return { account: target.account, ended }
      }
      const session = await findSession(kv, target.cookie)
      const ended = (await endSession(kv, target.cookie)) ? 1 : 0
      const account = session ? await deps.getAccount(session.account_id) : null
      if (account)
        await tell({
          account,
          scope: 'browser',
          reason: target.reason,
          ...(target.readCookie ? { cookie: target.readCookie } : {}),
        })
      return { account, ended }
    },
  }
}

/** The one sign-out {@link createSignOut} builds, which /logout, SAML SLO and the admin API all call. */
export type SignOut = ReturnType<typeof createSignOut>
