/**
 * Defect (issue #10, sign-in throttling and "Several instances"): the counters lived in one
 * process's memory, so each instance behind a load balancer gave a fresh budget, and a restart
 * gave everyone one. Now they live in the store (KV, atomic increments with a fixed window):
 * - two app instances on one PostgreSQL share them, also under concurrent attempts;
 * - a server restarted on its SQLite file keeps them (a real `node src/main.ts` process, which
 *   also proves the LOGIN_* and TRUST_PROXY settings reach the running server).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import {
  PROCESS_TEST_TIMEOUT,
  startServer,
  stopServer,
  type ServerProcess,
} from '../helpers/server.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'
import {
  attempt,
  loginForm,
  PASSWORD,
  putAccount,
  startLoginServer,
  statuses,
  type LoginServer,
} from './throttle-helpers.ts'

const LIMIT = 3
const rules = { ip: { max: 1000, windowMs: 60_000 }, account: { max: LIMIT, windowMs: 60_000 } }

describe('two instances on one PostgreSQL share the counters', () => {
  const servers: LoginServer[] = []
  afterAll(async () => {
    for (const s of servers) await s.close()
    await dropFreshSchemas()
  })

  it(`attempts spread over both instances, at once: exactly ${LIMIT} verified; then both refuse`, async () => {
    if (inject('postgresUrl') === null) throw new Error(POSTGRES_MISSING)
    const { url } = await freshSchemaUrl('sso_throttle')
    const a = await startLoginServer({ store: await createPostgresStore(url), throttle: rules })
    servers.push(a)
    const b = await startLoginServer({ store: await createPostgresStore(url), throttle: rules })
    servers.push(b)
    await putAccount(a, '42', { username: 'rob', password: PASSWORD })
    const [formA, formB] = await Promise.all([loginForm(a.url), loginForm(b.url)])
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        i % 2 === 0
          ? attempt(a.url, formA, 'rob', `wrong ${i}`)
          : attempt(b.url, formB, 'ROB', `wrong ${i}`),
      ),
    )
    expect(statuses(results)).toEqual({ 401: LIMIT, 429: 16 - LIMIT })
    expect((await attempt(a.url, formA, 'rob', PASSWORD)).status).toBe(429)
    expect((await attempt(b.url, formB, 'rob', PASSWORD)).status).toBe(429)
    // An operator's unlock on one instance frees the account on the other.
    expect((await a.admin('DELETE', '/users/42/lockout')).body).toEqual({
      external_id: '42',
      cleared: true,
    })
    expect((await attempt(b.url, formB, 'rob', PASSWORD)).status).toBe(303)
  })
})

describe('a restart on SQLite keeps the counters', () => {
  let server: ServerProcess | undefined
  afterEach(async () => {
    await stopServer(server)
    server = undefined
  })

  it(
    'failures before a restart still count after it (per account and per IP, with TRUST_PROXY=true = one hop)',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-throttle-'))
      const env = {
        ADMIN_TOKEN: 'throttle-test-admin-token-0123456789',
        TRUST_PROXY: 'true',
        LOGIN_ATTEMPTS_PER_ACCOUNT: '2',
        LOGIN_ATTEMPTS_PER_IP: '3',
        LOGIN_FAILURE_DELAY_MS: '0',
      }
      const admin = (url: string) => ({
        admin: async (method: string, p: string, body?: unknown) => {
          const res = await fetch(`${url}/api/v1${p}`, {
            method,
            headers: {
              Authorization: `Bearer ${env.ADMIN_TOKEN}`,
              'Content-Type': 'application/json',
            },
            body: JSON.stringify(body),
          })
          return { status: res.status, body: await res.json() }
        },
      })
      server = await startServer(env, dir)
      await putAccount(admin(server.url), '42', { username: 'rob', password: PASSWORD })
      let form = await loginForm(server.url)
      // The proxy in front writes the client's address last; the client forges the rest.
      const via = (forged: string, client = '203.0.113.7') => ({
        'X-Forwarded-For': `${forged}, ${client}`,
      })
      expect((await attempt(server.url, form, 'rob', 'wrong 1', via('198.18.0.1'))).status).toBe(
        401,
      )
      expect((await attempt(server.url, form, 'Rob', 'wrong 2', via('198.18.0.2'))).status).toBe(
        401,
      )

      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
      server = await startServer(env, dir)
      form = await loginForm(server.url)
      // The account is still locked, whichever address asks...
      const locked = await attempt(
        server.url,
        form,
        'rob',
        PASSWORD,
        via('198.18.0.3', '203.0.113.99'),
      )
      expect(locked.status).toBe(429)
      expect(Number(locked.retryAfter)).toBeGreaterThan(0)
      // ...and 203.0.113.7 has one attempt left of its 3, whatever it forges.
      expect((await attempt(server.url, form, 'someone', 'wrong', via('198.18.0.4'))).status).toBe(
        401,
      )
      expect(
        (await attempt(server.url, form, 'someone-else', 'wrong', via('198.18.0.5'))).status,
      ).toBe(429)
      // Two server starts (the first generates its keys), seconds each on a loaded machine: the
      // limit only catches a hang.
    },
    PROCESS_TEST_TIMEOUT,
  )
})
