/**
 * @module login/throttle
 * Limits failed sign-in attempts per client IP and per account, so a password cannot be
 * guessed at speed from one place or spread across many. The interface is what the login
 * route needs; this in-process implementation keeps fixed windows in memory (a Redis one can
 * replace it when several processes serve the same site).
 */

export interface ThrottleRule {
  /** Failures allowed within the window. */
  max: number
  windowMs: number
}

export interface ThrottleDecision {
  allowed: boolean
  /** Seconds until the caller may try again (0 when allowed). */
  retryAfter: number
}

export interface LoginThrottle {
  /** Whether a sign-in attempt for these keys may go ahead. */
  check(keys: { ip: string; account: string }): Promise<ThrottleDecision>
  /** Records a failed attempt. */
  fail(keys: { ip: string; account: string }): Promise<void>
  /** Clears the account's failures after a success (the IP's stay: they may be another's). */
  succeed(keys: { ip: string; account: string }): Promise<void>
}

export const DEFAULT_THROTTLE = {
  ip: { max: 30, windowMs: 15 * 60_000 },
  account: { max: 8, windowMs: 15 * 60_000 },
}

export function createMemoryThrottle(rules: { ip: ThrottleRule; account: ThrottleRule } = DEFAULT_THROTTLE, now: () => number = Date.now): LoginThrottle {
  const windows = new Map<string, { count: number; resetAt: number }>()
  const MAX_KEYS = 100_000

  function current(key: string): { count: number; resetAt: number } | undefined {
    const w = windows.get(key)
    if (w && w.resetAt <= now()) {
      windows.delete(key)
      return undefined
    }
    return w
  }

  function blocked(key: string, rule: ThrottleRule): number {
    const w = current(key)
    return w && w.count >= rule.max ? Math.ceil((w.resetAt - now()) / 1000) : 0
  }

  function add(key: string, rule: ThrottleRule): void {
    const w = current(key)
    if (w) w.count++
    else {
      // Bounded memory under a flood of distinct keys: drop the oldest windows first.
      if (windows.size >= MAX_KEYS) windows.delete(windows.keys().next().value!)
      windows.set(key, { count: 1, resetAt: now() + rule.windowMs })
    }
  }

  return {
    async check({ ip, account }) {
      const retryAfter = Math.max(blocked(`ip:${ip}`, rules.ip), blocked(`account:${account}`, rules.account))
      return { allowed: retryAfter === 0, retryAfter }
    },
    async fail({ ip, account }) {
      add(`ip:${ip}`, rules.ip)
      add(`account:${account}`, rules.account)
    },
    async succeed({ account }) {
      windows.delete(`account:${account}`)
    },
  }
}
