/**
 * @module login/session
 * The bridge session: one sign-in shared by every door (OIDC, SAML, token pages). The cookie
 * holds a random 256-bit id; the store holds only its SHA-256, so a leaked database does not
 * hand out live cookies. A sign-in always makes a new id (session fixation), and sign-out
 * (login/sign-out.ts) removes it for every door at once.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { AccountService } from '../accounts/service.ts'
import type { Account } from '../accounts/types.ts'
import type { KvStore } from '../store/ports.ts'

/**
 * The bridge session's cookie (HttpOnly, SameSite=Lax, Secure on an https ISSUER): the session
 * owns its name, and every door (OIDC, SAML, tokens, site tickets) and the CSRF binding read it.
 */
export const SESSION_COOKIE = 'sso_bridge'

/** The KV namespace of bridge sessions (keyed by the SHA-256 of the cookie value, indexed by `account`). */
export const SESSION_NAMESPACE = 'bridge:session'
const NAMESPACE = SESSION_NAMESPACE

/**
 * A bridge session as stored: the one sign-in every door (OIDC, SAML, /login) shares. It holds
 * no account data beyond the id, so a changed or disabled account is seen on the next request.
 */
export interface BridgeSession {
  /** The account's internal id. */
  account_id: string
  /** When the member proved who they are (epoch seconds) — OIDC `auth_time`. */
  auth_time: number
  /** How: `pwd` (password form) or `ticket` (a site ticket). */
  amr: string[]
  /**
   * When this session started, by this server's clock (epoch milliseconds); auth_time may be
   * earlier (a ticket's: the site's sign-in). Absent on sessions started before it was kept.
   */
  started_at_ms?: number
}

/** What {@link createSessionManager} takes. */
export interface SessionManagerOptions {
  kv: KvStore
  /** Lifetime of a session without activity being required, in ms. */
  ttlMs: number
}

const digest = (id: string) => createHash('sha256').update(id).digest('base64url')

/**
 * Ends every bridge session of an account (the internal id), in every browser and on every
 * instance sharing the store. Only login/sign-out.ts calls it: sign-out is written once.
 * @returns how many
 */
export function endSessionsOf(kv: KvStore, accountId: string): Promise<number> {
  return kv.kvDeleteBy(NAMESPACE, 'account', accountId)
}

/** How many live bridge sessions an account (the internal id) has, across browsers and instances. */
export function countSessionsOf(kv: KvStore, accountId: string): Promise<number> {
  return kv.kvCountBy(NAMESPACE, 'account', accountId)
}

/** The session a cookie value names, or null (a value longer than any we issue names none). */
export async function findSession(
  kv: KvStore,
  cookie: string | undefined | null,
): Promise<BridgeSession | null> {
  if (!cookie || cookie.length > 128) return null
  const entry = await kv.kvGet(NAMESPACE, digest(cookie))
  return entry ? (entry.value as unknown as BridgeSession) : null
}

/**
 * Ends the session a cookie value names. Only login/sign-out.ts calls it.
 * @returns whether there was one
 */
export function endSession(kv: KvStore, cookie: string | undefined | null): Promise<boolean> {
  return cookie && cookie.length <= 128
    ? kv.kvDelete(NAMESPACE, digest(cookie))
    : Promise.resolve(false)
}

/**
 * The bridge sessions, kept in the store's KV under the SHA-256 of the cookie value (a store
 * dump holds no usable cookie), so every instance sharing the store sees the same sessions.
 * @example
 * const sessions = createSessionManager({ kv: store, ttlMs: 8 * 3600_000 })
 * const cookie = await sessions.create({ account_id, auth_time, amr: ['pwd'] }, previousCookie)
 */
export function createSessionManager({ kv, ttlMs }: SessionManagerOptions) {
  return {
    ttlMs,

    /** Starts a session; pass the previous cookie value to end it (id rotation). @returns the new cookie value */
    async create(session: BridgeSession, previous?: string | null): Promise<string> {
      if (previous) await kv.kvDelete(NAMESPACE, digest(previous))
      const id = randomBytes(32).toString('base64url')
      await kv.kvSet(
        NAMESPACE,
        digest(id),
        { ...session },
        { ttlMs, indexes: { account: session.account_id } },
      )
      return id
    },

    /** The live session of a cookie value, or null. */
    get(cookie: string | undefined | null): Promise<BridgeSession | null> {
      return findSession(kv, cookie)
    },
  }
}

/** The bridge-session store {@link createSessionManager} builds; one per process. */
export type SessionManager = ReturnType<typeof createSessionManager>

/** A member signed in to the bridge: their session, its cookie value and their (active) account. */
export interface LiveMember {
  session: BridgeSession
  cookie: string
  account: Account
}

/**
 * "Load the live member", for every door: the session of a bridge-session cookie value and its
 * account, or null when there is no live session or the account is gone or disabled — a disabled
 * account's session signs in nowhere, whatever cookies remain.
 * @throws {StoreUnavailable} when the store does not answer
 */
export async function loadLiveMember(
  deps: { sessions: SessionManager; accounts: Pick<AccountService, 'getById'> },
  cookie: string | undefined | null,
): Promise<LiveMember | null> {
  const session = await deps.sessions.get(cookie)
  if (!session || !cookie) return null
  const account = await deps.accounts.getById(session.account_id)
  return account?.status === 'active' ? { session, cookie, account } : null
}

/**
 * "Sign the member in", for every way in (password form, site ticket): a new bridge session
 * with a new id, ending the one this browser had (`previous`: session fixation).
 * @param authTime when the member entered credentials (a ticket's `auth_time`: at the site);
 *   default now. It is the session's auth_time: OIDC `auth_time`, SAML AuthnInstant.
 * @returns the new cookie value and the sign-in time (epoch seconds, OIDC `auth_time`)
 */
export async function signMemberIn(
  sessions: SessionManager,
  account: Pick<Account, 'id'>,
  amr: string[],
  previous?: string | null,
  authTime: number = Math.floor(Date.now() / 1000),
): Promise<{ cookie: string; authTime: number }> {
  const cookie = await sessions.create(
    { account_id: account.id, auth_time: authTime, amr, started_at_ms: Date.now() },
    previous,
  )
  return { cookie, authTime }
}
