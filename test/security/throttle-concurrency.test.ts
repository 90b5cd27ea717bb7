/**
 * Defect (issue #10, sign-in throttling, "Concurrency"): the limit was checked before the
 * password was verified and the failure recorded only after, so wrong-password POSTs sent at
 * once were all verified, however many. Now each attempt is counted atomically before its
 * verification: of N simultaneous attempts, exactly the limit are verified (401), the rest are
 * refused unverified (429 with Retry-After).
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  attempt,
  loginForm,
  PASSWORD,
  putAccount,
  startLoginServer,
  statuses,
  type LoginServer,
} from './throttle-helpers.ts'

let s: LoginServer | undefined
afterEach(async () => {
  await s?.close()
  s = undefined
})

const LIMIT = 3
const N = 20
const rules = { ip: { max: 1000, windowMs: 60_000 }, account: { max: LIMIT, windowMs: 60_000 } }

describe('throttle: concurrent wrong passwords are counted before they are verified', () => {
  it(`${N} wrong-password POSTs at once: exactly ${LIMIT} verified (401), the others 429; then even the right password waits`, async () => {
    s = await startLoginServer({ throttle: rules })
    await putAccount(s, '42', { username: 'rob', password: PASSWORD })
    const form = await loginForm(s.url)
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => attempt(s!.url, form, 'rob', `wrong password ${i}`)),
    )
    expect(statuses(results)).toEqual({ 401: LIMIT, 429: N - LIMIT })
    // Each verification that failed is logged once: only LIMIT passwords were checked.
    expect(s.t.logs.filter((l) => l.code === 'ERR_LOGIN_FAILED')).toHaveLength(LIMIT)
    for (const r of results.filter((r) => r.status === 429))
      expect(Number(r.retryAfter)).toBeGreaterThan(0)
    const right = await attempt(s.url, form, 'rob', PASSWORD)
    expect(right.status).toBe(429)
    const throttled = s.t.logs.filter((l) => l.code === 'ERR_LOGIN_THROTTLED')
    expect(throttled.map((l) => l.limit)).toEqual(Array(N - LIMIT + 1).fill('account'))
    // The log names the limit, never the login or password typed.
    expect(s.t.logText()).not.toContain('wrong password')
    expect(s.t.logText()).not.toContain(PASSWORD)
  })

  it('with the default limits (README): 20 wrong passwords at once get 8 checks and 12 refusals', async () => {
    s = await startLoginServer()
    await putAccount(s, '42', { username: 'rob', password: PASSWORD })
    const form = await loginForm(s.url)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => attempt(s!.url, form, 'rob', `wrong password ${i}`)),
    )
    expect(statuses(results)).toEqual({ 401: 8, 429: 12 })
    for (const r of results.filter((r) => r.status === 429))
      expect(Number(r.retryAfter)).toBeLessThanOrEqual(900)
  })

  it('the same for a name that matches no account (no free guesses at who exists)', async () => {
    s = await startLoginServer({ throttle: rules })
    const form = await loginForm(s.url)
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        attempt(s!.url, form, 'nobody-here', `wrong password ${i}`),
      ),
    )
    expect(statuses(results)).toEqual({ 401: LIMIT, 429: N - LIMIT })
  })

  it('per IP too: attempts at once on many names stop at the IP limit', async () => {
    s = await startLoginServer({
      throttle: { ip: { max: 5, windowMs: 60_000 }, account: { max: 100, windowMs: 60_000 } },
    })
    const form = await loginForm(s.url)
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => attempt(s!.url, form, `name${i}`, 'wrong password')),
    )
    expect(statuses(results)).toEqual({ 401: 5, 429: N - 5 })
  })

  it('a success clears the account and gives the IP its attempt back', async () => {
    s = await startLoginServer({
      throttle: { ip: { max: 3, windowMs: 60_000 }, account: { max: 3, windowMs: 60_000 } },
    })
    await putAccount(s, '42', { username: 'rob', password: PASSWORD })
    const form = await loginForm(s.url)
    expect((await attempt(s.url, form, 'rob', 'wrong 1')).status).toBe(401)
    expect((await attempt(s.url, form, 'rob', 'wrong 2')).status).toBe(401)
    expect((await attempt(s.url, form, 'rob', PASSWORD)).status).toBe(303)
    // The account starts again at 0 and the IP is back at 2 of 3: one more failure is verified,
    // the next is refused by the IP's limit.
    expect((await attempt(s.url, form, 'rob', 'wrong 3')).status).toBe(401)
    expect((await attempt(s.url, form, 'rob', 'wrong 4')).status).toBe(429)
  })
})
