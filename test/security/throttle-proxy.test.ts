/**
 * Defect (issue #10, "Client IP"): with TRUST_PROXY=true every hop of X-Forwarded-For was
 * trusted, so the client chose its own IP (the left end of the header is whatever it sent) and
 * the per-IP limit never applied. Now TRUST_PROXY takes a hop count or proxy addresses/CIDRs,
 * and `true` means one hop: the address the proxy in front saw.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import { attempt, loginForm, startLoginServer, type LoginServer } from './throttle-helpers.ts'

let s: LoginServer | undefined
afterEach(async () => {
  await s?.close()
  s = undefined
})

const config = (TRUST_PROXY: string) => loadConfig({ TRUST_PROXY }, { envFile: false })
const IP_LIMIT = 2
const rules = { ip: { max: IP_LIMIT, windowMs: 60_000 }, account: { max: 100, windowMs: 60_000 } }

/** Sends IP_LIMIT + 2 failures on fresh names, each with another forged left end of X-Forwarded-For. */
async function spoofedFailures(server: LoginServer, realHops: string): Promise<number[]> {
  const form = await loginForm(server.url)
  const out: number[] = []
  for (let i = 0; i < IP_LIMIT + 2; i++) {
    const forged = `198.18.0.${i + 1}`
    out.push(
      (
        await attempt(server.url, form, `name-${i}`, 'wrong', {
          'X-Forwarded-For': `${forged}, ${realHops}`,
        })
      ).status,
    )
  }
  return out
}

describe('TRUST_PROXY: the client cannot choose its own IP', () => {
  it('config: true is one hop; a hop count; a list of addresses/CIDRs/names; never "trust all"', () => {
    expect(config('true').trustProxy).toBe(1)
    expect(config('false').trustProxy).toBe(false)
    expect(config('0').trustProxy).toBe(false)
    expect(config('2').trustProxy).toBe(2)
    expect(config('10.0.0.0/8, loopback,2001:db8::/32').trustProxy).toEqual([
      '10.0.0.0/8',
      'loopback',
      '2001:db8::/32',
    ])
    expect(loadConfig({}, { envFile: false }).trustProxy).toBe(false)
    for (const bad of [
      'yes',
      '10.0.0.0/33',
      'proxy.example.com',
      '99',
      '0.0.0.0/0',
      'loopback,::/0',
      '0.0.0.0/0.0.0.0',
    ]) {
      expect(() => config(bad), bad).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      )
    }
  })

  it('true (one hop): forged X-Forwarded-For entries do not reset the per-IP count', async () => {
    s = await startLoginServer({ trustProxy: true, throttle: rules })
    expect(await spoofedFailures(s, '203.0.113.7')).toEqual([401, 401, 429, 429])
    expect(s.t.logs.filter((l) => l.code === 'ERR_LOGIN_THROTTLED').map((l) => l.limit)).toEqual([
      'ip',
      'ip',
    ])
  })

  it('a hop count of 2: the client is the address the outer proxy saw', async () => {
    s = await startLoginServer({ trustProxy: 2, throttle: rules })
    // forged, client (written by the outer proxy), outer proxy (written by the inner one)
    expect(await spoofedFailures(s, '203.0.113.7, 10.0.0.2')).toEqual([401, 401, 429, 429])
  })

  it('an address list: hops from listed proxies are believed, the first other address is the client', async () => {
    s = await startLoginServer({ trustProxy: ['loopback', '10.0.0.0/8'], throttle: rules })
    expect(await spoofedFailures(s, '203.0.113.7, 10.0.0.2')).toEqual([401, 401, 429, 429])
  })

  it('the IP the throttle counts is the one the proxy saw: another real client has its own budget', async () => {
    s = await startLoginServer({ trustProxy: true, throttle: rules })
    expect(await spoofedFailures(s, '203.0.113.7')).toEqual([401, 401, 429, 429])
    const form = await loginForm(s.url)
    expect(
      (await attempt(s.url, form, 'someone', 'wrong', { 'X-Forwarded-For': '203.0.113.8' })).status,
    ).toBe(401)
  })

  it('IPv6 clients are counted by their /64: a fresh address in the same /64 is the same client', async () => {
    s = await startLoginServer({ trustProxy: true, throttle: rules })
    const form = await loginForm(s.url)
    const from = (client: string, i: number) =>
      attempt(s!.url, form, `v6-${i}`, 'wrong', { 'X-Forwarded-For': client })
    expect((await from('2001:db8:0:7::1', 0)).status).toBe(401)
    expect((await from('2001:db8:0:7:ffff::2', 1)).status).toBe(401)
    expect((await from('2001:DB8:0:7:1:2:3:4', 2)).status).toBe(429)
    // The next /64 is another subscriber.
    expect((await from('2001:db8:0:8::1', 3)).status).toBe(401)
  })
})
