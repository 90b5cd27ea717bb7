/**
 * @module console/session
 * The console session: an operator's sign-in to /console, apart from the members' bridge session
 * (login/session.ts) in its own cookie and KV namespace, so neither can stand for the other.
 * Like the bridge session, the cookie holds a random 256-bit id and the store only its SHA-256.
 *
 * Its rules, checked on every request ({@link ConsoleSessions.load}):
 * 1. Idle timeout: no request for `idleMs` ends it (each request moves `seen_at` on).
 * 2. Absolute timeout: `absoluteMs` after the password was entered it ends, active or not.
 * 3. The operator is read from the store each time: disabled or deleted, the session ends.
 * 4. `stage: 'totp'` is a half sign-in (password right, TOTP still owed): it opens nothing but
 *    the TOTP form, and lasts at most five minutes.
 * 5. Every change of stage makes a new id (session fixation).
 */
import { createHash, randomBytes } from 'node:crypto'
import type { KvStore, OperatorRecord } from '../store/ports.ts'

/** The console cookie's name on plain http (see {@link consoleCookieName}). */
export const CONSOLE_COOKIE = 'sso_console'
/**
 * The console cookie's name: `__Secure-sso_console` on an https ISSUER (a plain-http page of a
 * sibling cannot set it), `sso_console` on http. Not `__Host-`: that prefix needs Path=/, and the
 * cookie is scoped to /console.
 */
export const consoleCookieName = (secure: boolean) =>
  secure ? `__Secure-${CONSOLE_COOKIE}` : CONSOLE_COOKIE
const NAMESPACE = 'console:session'
/** How long the TOTP step may take after the password. */
const TOTP_STAGE_MS = 5 * 60_000

/** A console session as stored. */
export interface ConsoleSession {
  operator_id: string
  /** `full`: signed in; `totp`: password right, TOTP code owed. */
  stage: 'full' | 'totp'
  /** When the password was entered (epoch ms, by the console's clock). */
  started_at: number
  /** The last request (epoch ms). */
  seen_at: number
}

/** What {@link ConsoleSessions.load} found for a cookie. */
export type SessionLookup =
  | { state: 'none' }
  | { state: 'expired' }
  | { state: 'disabled'; operator: OperatorRecord }
  | { state: 'live'; session: ConsoleSession; operator: OperatorRecord }

/** What {@link createConsoleSessions} takes. */
export interface ConsoleSessionOptions {
  kv: KvStore
  /** Reads the operator afresh (disabled or deleted ends the session). */
  operatorById: (id: string) => Promise<OperatorRecord | null>
  /** CONSOLE_IDLE_TIMEOUT, ms. */
  idleMs: number
  /** CONSOLE_ABSOLUTE_TIMEOUT, ms. */
  absoluteMs: number
  /** The clock (tests inject one to pass the timeouts without waiting). */
  now: () => number
}

const digest = (id: string) => createHash('sha256').update(id).digest('base64url')
/** A cookie value longer than any we issue names no session (and is not hashed). */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/

/** Console sessions over the store's KV, shared by every instance. */
export function createConsoleSessions(opts: ConsoleSessionOptions) {
  const { kv, now } = opts

  async function put(key: string, s: ConsoleSession): Promise<void> {
    const limit = s.stage === 'totp' ? TOTP_STAGE_MS : opts.absoluteMs
    // The KV row outlives neither timeout; the checks below are what decide, on `now()`.
    const ttlMs = Math.max(1, Math.min(s.started_at + limit, s.seen_at + opts.idleMs) - now())
    await kv.kvSet(NAMESPACE, key, { ...s }, { ttlMs, indexes: { operator: s.operator_id } })
  }

  return {
    /** The session's lifetime without requests, ms (the cookie is a browser-session cookie). */
    idleMs: opts.idleMs,

    /**
     * Starts a session for `operator` at `stage` (dropping `previous`, the browser's old cookie).
     * @returns the new cookie value
     */
    async start(
      operator: Pick<OperatorRecord, 'id'>,
      stage: ConsoleSession['stage'],
      previous: string | undefined,
      startedAt = now(),
    ): Promise<string> {
      if (previous && COOKIE_VALUE.test(previous)) await kv.kvDelete(NAMESPACE, digest(previous))
      const id = randomBytes(32).toString('base64url')
      await put(digest(id), {
        operator_id: operator.id,
        stage,
        started_at: startedAt,
        seen_at: now(),
      })
      return id
    },

    /** The session a cookie names, by the rules of the module doc; a live one's `seen_at` moves on. */
    async load(cookie: string | undefined): Promise<SessionLookup> {
      if (!cookie || !COOKIE_VALUE.test(cookie)) return { state: 'none' }
      const key = digest(cookie)
      const entry = await kv.kvGet(NAMESPACE, key)
      if (!entry) return { state: 'none' }
      const s = entry.value as unknown as ConsoleSession
      const t = now()
      const limit = s.stage === 'totp' ? TOTP_STAGE_MS : opts.absoluteMs
      if (t - s.seen_at >= opts.idleMs || t - s.started_at >= limit) {
        await kv.kvDelete(NAMESPACE, key)
        return { state: 'expired' }
      }
      const operator = await opts.operatorById(s.operator_id)
      if (!operator || operator.disabled) {
        await kv.kvDeleteBy(NAMESPACE, 'operator', s.operator_id)
        return operator ? { state: 'disabled', operator } : { state: 'none' }
      }
      const session = { ...s, seen_at: t }
      await put(key, session)
      return { state: 'live', session, operator }
    },

    /** Removes the session a cookie names (sign-out); true when there was one. */
    async drop(cookie: string | undefined): Promise<boolean> {
      if (!cookie || !COOKIE_VALUE.test(cookie)) return false
      return kv.kvDelete(NAMESPACE, digest(cookie))
    },
  }
}

/** The console sessions {@link createConsoleSessions} builds. */
export type ConsoleSessions = ReturnType<typeof createConsoleSessions>
