/**
 * GET /metrics (issue #14): Prometheus text format, the counters move by exactly what was done
 * (tokens issued and refused, a refused ticket), the latency histogram counts each request by
 * route group, the admin token guards it on the main port; with METRICS_PORT, a real server
 * process serves it on that port alone and the main port no longer does.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import {
  PROCESS_TEST_TIMEOUT,
  startServer,
  stopServer,
  type ServerProcess,
} from '../helpers/server.ts'
import { integrations } from '../tokens/helpers/fixtures.ts'
import { StoreUnavailable } from '../../src/errors/index.ts'
import { metricsListener } from '../../src/http/routes/metrics.ts'
import { createLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/metrics/index.ts'

/** Every sample line of an exposition, checked against the text format, by series. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][\w:]* ./)
      continue
    }
    const m = /^([a-zA-Z_:][\w:]*(?:\{(?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*\})?) (\S+)$/.exec(
      line,
    )
    expect(m, line).not.toBeNull()
    // Go's ParseFloat, as Prometheus reads it: a number, ±Inf or NaN (any case).
    expect(m![2], line).toMatch(/^(?:[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf)|nan)$/i)
    const value = /^nan$/i.test(m![2]!) ? NaN : Number(m![2]!.replace(/inf/i, 'Infinity'))
    samples.set(m![1]!, value)
  }
  return samples
}

describe('GET /metrics on the main port', () => {
  let t: TestApp
  beforeAll(async () => {
    t = makeTestApp({ siteTicket: { secret: 's'.repeat(40), origins: [] } })
    await t.services.integrations.put('generic', integrations.generic)
    await t.services.accounts.put('1001', { username: 'robin', email: 'robin@example.test' })
  })
  afterAll(() => t.close())

  const scrape = async () => {
    const res = await request(t.app).get('/metrics').set(auth)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(res.headers['cache-control']).toMatch(/no-store/)
    return parse(res.text)
  }
  const issue = (external_id: string) =>
    request(t.app).post('/api/v1/integrations/generic/tokens').set(auth).send({ external_id })

  it('needs the admin token', async () => {
    expect((await request(t.app).get('/metrics')).status).toBe(401)
    const wrong = await request(t.app).get('/metrics').set({ Authorization: 'Bearer nope' })
    expect(wrong.status).toBe(401)
    expect(wrong.body.error).toBe('unauthorized')
  })

  it('parses, carries the process and event-loop metrics, and moves by exactly what was done', async () => {
    const before = await scrape()
    expect(before.has('sso_bridge_process_resident_memory_bytes')).toBe(true)
    expect(before.has('sso_bridge_nodejs_eventloop_lag_seconds')).toBe(true)
    const issued =
      'sso_bridge_tokens_issued_total{door="tokens",integration="generic",kind="platform_token"}'
    const refused =
      'sso_bridge_failures_total{door="tokens",integration="generic",code="ERR_ACCOUNT_NOT_FOUND"}'
    const ticket =
      'sso_bridge_failures_total{door="ticket",integration="",code="ERR_TICKET_INVALID"}'
    const tokenApi = 'sso_bridge_http_request_duration_seconds_count{group="token_api"}'
    const at = (m: Map<string, number>, k: string) => m.get(k) ?? 0

    expect((await issue('1001')).status).toBe(200)
    expect((await issue('1001')).status).toBe(200)
    expect((await issue('1001')).status).toBe(200)
    expect((await issue('nobody')).status).toBe(404)
    expect((await request(t.app).get('/ticket?ticket=x.y.z&return_to=/')).status).toBe(400)

    const after = await scrape()
    expect(at(after, issued) - at(before, issued)).toBe(3)
    expect(at(after, refused) - at(before, refused)).toBe(1)
    expect(at(after, ticket) - at(before, ticket)).toBe(1)
    expect(at(after, tokenApi) - at(before, tokenApi)).toBe(4)
    // Store calls are timed by method name (a fixed set): the token requests made some.
    const storeCalls = (m: Map<string, number>) =>
      [...m]
        .filter(([k]) => k.startsWith('sso_bridge_store_duration_seconds_count{'))
        .reduce((sum, [k, v]) => {
          expect(k).toMatch(/\{op="[a-zA-Z]+"\}$/)
          return sum + v
        }, 0)
    expect(storeCalls(after)).toBeGreaterThan(storeCalls(before))
    // No token, secret or admin token in what is served.
    const text = (await request(t.app).get('/metrics').set(auth)).text
    expect(text).not.toContain(ADMIN_TOKEN)
    expect(text).not.toContain(integrations.generic.secrets.secret)
  })
})

describe('METRICS_PORT', () => {
  let server: ServerProcess | undefined
  afterAll(() => stopServer(server))

  it(
    'serves /metrics alone on its own port, without the admin token; the main port then does not',
    async () => {
      server = await startServer({ METRICS_PORT: '0', ADMIN_TOKEN })
      const port = Number(/"metricsPort":(\d+)/.exec(server.logs())![1])
      expect(port).toBeGreaterThan(0)
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(metrics.status).toBe(200)
      const samples = parse(await metrics.text())
      expect(samples.has('sso_bridge_process_cpu_seconds_total')).toBe(true)
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404)
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/users`)).status).toBe(404)
      const main = await fetch(`${server.url}/metrics`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      expect(main.status).toBe(404)
      expect(await main.text()).not.toContain('sso_bridge_')
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('the METRICS_PORT listener when a render fails', () => {
  it('logs the failure with its stable code and answers by the code table: 503 for a store outage, 500 for anything else; the next scrape works', async () => {
    const lines: Record<string, unknown>[] = []
    const log = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, done) {
          for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
          done()
        },
      }),
    )
    // The real metrics, with the faults a render can meet injected in front of it.
    const real = createMetrics()
    const faults: unknown[] = [
      new Error('collector broke at /var/lib/sso-bridge'),
      new StoreUnavailable('the database did not answer'),
    ]
    const metrics = {
      ...real,
      render: () => (faults.length > 0 ? Promise.reject(faults.shift()) : real.render()),
    }
    const server = createServer(metricsListener(metrics, log))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`
    try {
      const generic = await fetch(url)
      expect([generic.status, await generic.text()]).toEqual([500, 'internal_error\n'])
      const outage = await fetch(url)
      expect([outage.status, await outage.text()]).toEqual([503, 'store_unavailable\n'])
      expect(outage.headers.get('cache-control')).toBe('no-store')
      const ok = await fetch(url)
      expect(ok.status).toBe(200)
      expect(await ok.text()).toContain('sso_bridge_process_cpu_seconds_total')
    } finally {
      await new Promise((r) => server.close(r))
    }
    const failed = lines.filter((l) => l.msg === 'metrics not rendered')
    expect(failed.map((l) => [l.code, l.status])).toEqual([
      ['ERR_GENERIC', 500],
      ['ERR_STORE_UNAVAILABLE', 503],
    ])
    expect(failed[0]).toMatchObject({
      level: 'error',
      err: { message: expect.stringContaining('collector broke') },
    })
  })
})
