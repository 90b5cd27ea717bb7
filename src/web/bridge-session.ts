/**
 * @module web/bridge-session
 * The bridge session over HTTP, for every door's routes: the cookie is read and written here, the
 * session itself is login/session.ts's (which knows no express).
 */
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
