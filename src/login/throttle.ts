/**
 * @module login/throttle
 * Limits sign-in attempts per client IP and per account, so a password cannot be guessed at
 * speed from one place nor spread across many. The routes know only {@link LoginThrottle};
 * the limiter logic is rate-limiter-flexible's, over the store (login/kv-rate-limiter.ts), so
 * every instance on one database shares the counters and they survive a restart.
 *
 * The rules, in the order they are applied to one attempt:
 * 1. The attempt is counted before its password is verified (atomic increments), so N attempts
 *    sent at once cannot all be verified: only those counted within the limit go on.
 * 2. The IP is counted first: an IP over its limit is refused whatever the account.
 * 3. Then the account key (the resolved account, or the normalised unknown name: see
 *    accounts/service.ts `resolveSignIn`). Refused there, the IP's count is given back: the
 *    IP's budget measures verified failures, and nothing was verified.
 * 4. A success clears the account's count and gives the IP's back (a shared address signing
 *    many members in is not punished for their successes).
 * 5. An IPv6 client is counted by its /64 ({@link ipKey}): one subscriber is usually given a
 *    whole /64, and could otherwise take a fresh address for every guess.
 */
import { isIPv4, isIPv6 } from 'node:net'
import type { AccountService } from '../accounts/service.ts'
import { accountSignInKey } from '../accounts/sign-in-key.ts'
import type { KvStore } from '../store/ports.ts'
import { KvRateLimiter, RateLimiterRes } from './kv-rate-limiter.ts'

/** One limit: at most `max` attempts in a fixed window of `windowMs`. */
export interface ThrottleRule {
  /** Attempts allowed within the window. */
  max: number
  windowMs: number
}

/** The two limits a sign-in is held to: per client address and per account. */
export interface ThrottleRules {
  ip: ThrottleRule
  account: ThrottleRule
}

/** The throttle's answer to one attempt; a refusal carries `Retry-After` seconds. */
export interface ThrottleDecision {
  allowed: boolean
  /** Seconds until the caller may try again (0 when allowed). */
  retryAfter: number
  /** Which limit refused it (for the log). */
  limit?: 'ip' | 'account'
}

/** Whose attempt it is: the client address and the account key. */
export interface ThrottleKeys {
  /** The client address (express `req.ip`, as TRUST_PROXY allows). */
  ip: string
  /** The account key from `AccountService.resolveSignIn`. */
  account: string
}

/**
 * The sign-in throttle every password form shares. An attempt is counted before the password
 * is checked, so guessing costs an attempt whether or not the guess is right.
 */
export interface LoginThrottle {
  /** Counts one attempt for both keys and says whether it may be verified. */
  attempt(keys: ThrottleKeys): Promise<ThrottleDecision>
  /** After a successful sign-in: clears the account's count, gives the IP's attempt back. */
  succeed(keys: ThrottleKeys): Promise<void>
  /** Clears an account key's count (operators: `users unlock`). True when there was one. */
  unlock(account: string): Promise<boolean>
}

/** 8 attempts per account and 30 per IP in 15 minutes (config LOGIN_* overrides them). */
export const DEFAULT_THROTTLE: ThrottleRules = {
  ip: { max: 30, windowMs: 15 * 60_000 },
  account: { max: 8, windowMs: 15 * 60_000 },
}

/**
 * @param kv the store's KV (SQLite or PostgreSQL)
 * @throws {RangeError} a rule with a max below 1 or a window that is not positive
 */
export function createLoginThrottle({
  kv,
  rules = DEFAULT_THROTTLE,
}: {
  kv: KvStore
  rules?: ThrottleRules
}): LoginThrottle {
  const limiter = (keyPrefix: string, rule: ThrottleRule) => {
    if (!Number.isInteger(rule.max) || rule.max < 1 || !(rule.windowMs > 0))
      throw new RangeError(
        `throttle rule ${keyPrefix}: max must be a positive integer and windowMs positive`,
      )
    return new KvRateLimiter({ kv, keyPrefix, points: rule.max, duration: rule.windowMs / 1000 })
  }
  const ip = limiter('ip', rules.ip)
  const account = limiter('account', rules.account)

  /** A refusal from the library (over the limit), or null when it let the attempt through; store errors propagate. */
  async function consume(
    l: KvRateLimiter,
    key: string,
    limit: 'ip' | 'account',
  ): Promise<ThrottleDecision | null> {
    try {
      await l.consume(key)
      return null
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err
      return { allowed: false, retryAfter: Math.max(1, Math.ceil(err.msBeforeNext / 1000)), limit }
    }
  }

  return {
    async attempt(keys) {
      const client = ipKey(keys.ip)
      const byIp = await consume(ip, client, 'ip')
      if (byIp) return byIp
      const byAccount = await consume(account, keys.account, 'account')
      if (byAccount) {
        await ip.reward(client)
        return byAccount
      }
      return { allowed: true, retryAfter: 0 }
    },
    async succeed(keys) {
      await Promise.all([account.delete(keys.account), ip.reward(ipKey(keys.ip))])
    },
    async unlock(key) {
      return account.delete(key)
    },
  }
}

/**
 * The key a client address is counted under: an IPv4 address as it is (also when written as
 * IPv4-mapped IPv6, `::ffff:192.0.2.1`); an IPv6 address by its /64 prefix (`2001:db8:0:1::/64`).
 * Anything else (no address known) is kept as given.
 */
export function ipKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!
  if (!isIPv6(address)) return address
  const bare = address.split('%')[0]!
  // An embedded IPv4 tail (`::1.2.3.4`) stands for two groups.
  const groups = (part: string | undefined) =>
    part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []
  const [head, tail] = bare.split('::')
  const h = groups(head)
  const t = groups(tail)
  const all =
    tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`
}

/**
 * An operator's unlock of one member (`DELETE /api/v1/users/{external_id}/lockout`,
 * `sso-bridge users unlock`): clears the account's count, whatever spelling the attempts used.
 * The IP counts are left alone: they may be an attacker's.
 * @returns `cleared`: whether the account had a live count
 * @throws {AccountNotFound}
 */
export async function unlockAccount(
  deps: { accounts: AccountService; throttle: LoginThrottle },
  externalId: string,
): Promise<{ external_id: string; cleared: boolean }> {
  const account = await deps.accounts.get(externalId)
  return {
    external_id: account.external_id,
    cleared: await deps.throttle.unlock(accountSignInKey(account.id)),
  }
}
