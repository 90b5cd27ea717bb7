/**
 * @module web/bridge-session
 * The bridge session over HTTP, for every door's routes: the cookie is read and written here, the
 * session itself is login/session.ts's (which knows no express).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Request, Response } from 'express'
import type { AccountService } from '../accounts/service.ts'
import type { Account } from '../accounts/types.ts'
import {
  loadLiveMember,
  SESSION_COOKIE,
  signMemberIn,
  type LiveMember,
  type SessionManager,
} from '../login/session.ts'
import type { SignOut, SignOutReason, SignOutResult } from '../login/sign-out.ts'
import { readCookie, setCookie } from './cookies.ts'

/** The member signed in to the bridge in this browser (active account only), or null. */
export function liveMember(
  req: Request,
  deps: { sessions: SessionManager; accounts: Pick<AccountService, 'getById'> },
): Promise<LiveMember | null> {
  return loadLiveMember(deps, readCookie(req, SESSION_COOKIE))
}

/**
 * Signs `account` in to the bridge: a new session id (the browser's previous one ends) set as the
 * cookie for the session's lifetime. `authTime`: when the member entered credentials (default now).
 * @returns the sign-in time (epoch seconds, OIDC `auth_time`)
 */
export async function signIn(
  req: Request,
  res: Response,
  deps: { sessions: SessionManager; secure: boolean },
  account: Pick<Account, 'id'>,
  amr: string[],
  authTime?: number,
): Promise<number> {
  const { cookie, authTime: at } = await signMemberIn(
    deps.sessions,
    account,
    amr,
    readCookie(req, SESSION_COOKIE),
    authTime,
  )
  setCookie(res, SESSION_COOKIE, cookie, deps.secure, deps.sessions.ttlMs)
  return at
}

/**
 * Clears the bridge-session cookie: the one helper every sign-out uses, on an express or a koa
 * (oidc-provider) response alike, so the attributes match the ones it was set with
 * (web/cookies.ts) and a browser really drops it. Appended to any Set-Cookie already there.
 */
export function clearBridgeCookie(res: ServerResponse, secure: boolean): void {
  res.appendHeader(
    'Set-Cookie',
    `${SESSION_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly${secure ? '; Secure' : ''}; SameSite=Lax`,
  )
}

/**
 * Signs this browser out (login/sign-out.ts: its bridge session ends, the doors are told and
 * handed the browser's cookies to find their own sessions) and clears its cookie.
 * @throws {StoreUnavailable} when the store does not answer
 */
export async function signOutBrowser(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { signOut: SignOut; secure: boolean },
  reason: SignOutReason,
): Promise<SignOutResult> {
  const result = await deps.signOut.signOut({
    cookie: readCookie(req, SESSION_COOKIE),
    readCookie: (name) => readCookie(req, name),
    reason,
  })
  clearBridgeCookie(res, deps.secure)
  return result
}
