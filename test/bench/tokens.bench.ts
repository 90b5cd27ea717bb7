/**
 * Token door throughput, each figure beside a baseline measured in the same process and run:
 *
 * 1. zero-click tokens/s: Minnit's `issue` for a typical account (mapping, field checks, JSON,
 *    AES-256-GCM with a fresh random IV, base64, embed URL with the percent-encoded token, iframe
 *    HTML) vs raw AES-256-GCM + base64 of a prepared JSON string. Goal ≥ 50,000/s.
 * 2. HS256 JWTs/s: BoostGPT's `issue` (mapping, email check, claims, HS256, both snippets) vs a
 *    bare HMAC-SHA256 JWT (prepared header, JSON.stringify, base64url, one HMAC). Goal
 *    ≥ 70,000/s. For reference, jose's `SignJWT` with the raw secret (imported again on every
 *    sign, as jose does with a Uint8Array) is measured too.
 *    Both baselines use the same primitives in their fastest form as ours (key objects imported
 *    once, the pooled IV source), so each ratio is what the door adds on top of the crypto.
 * 3. over HTTP: `POST /api/v1/integrations/minnit/tokens` on the real app (SQLite store, info
 *    logging to a discarding stream) vs an express hello route answering the same request
 *    (same method, headers and body, body left unread), both served and loaded by this one Node
 *    thread: keep-alive, 16 requests in flight. Goal ≥ 80 % of the hello route. A second row
 *    sets the same API beside the app's own `GET /healthz` (same middleware, request log), which
 *    isolates the door's own cost from the app-wide middleware. A third sets the door's work
 *    alone — the bearer digest, reading the JSON body, `tokens.issue` over the same services,
 *    writing the JSON — in a bare node:http handler (no express, no middleware, no log) beside
 *    the hello route: what any route doing this work could reach at best on this machine.
 *
 *   node test/bench/tokens.bench.ts [--quick]     # prints a small table
 *
 * `test/bench/run.ts` imports {@link benchTokens}.
 */
import { testSecretBox } from '../helpers/secrets.ts'
import {
  createCipheriv,
  createHash,
  createHmac,
  createSecretKey,
  timingSafeEqual,
} from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import http, { type Server } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import express from 'express'
import { SignJWT } from 'jose'
import { createDoors } from '../../src/doors.ts'
import { createApp } from '../../src/http/app.ts'
import { createLogger } from '../../src/log/logger.ts'
import { createServices } from '../../src/services.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { createKeyCache } from '../../src/tokens/keys.ts'
import { createRandomPool } from '../../src/tokens/random.ts'
import { createTokenService, TOKEN_PLATFORMS } from '../../src/tokens/index.ts'
import { boostgptJwtType, minnitZeroClickType } from '../../src/tokens/platforms/index.ts'
import type { TokenDeps } from '../../src/tokens/types.ts'
import { fixtureKeys } from '../helpers/app.ts'
import { typicalAccounts } from './mapping.bench.ts'
import { measurePair, median, rateTable, type RateRow } from './lib.ts'

const GOAL_ZERO_CLICK = 50_000
const GOAL_JWT = 70_000
const GOAL_HTTP_RATIO = 0.8

const MINNIT_KEY = 'z8pkH$jjNEWEEEe*DwThe4K2iDtjDwYQ'
const BOOSTGPT_SECRET = '0123456789abcdef'.repeat(4)
const ADMIN = 'bench-admin-token-0123456789abcdef'

/** One row of this bench (lib.ts formats it). */
export type TokenBenchRow = RateRow

export interface TokenBenchOptions {
  warmupMs: number
  rounds: number
  minMs: number
  /** Requests in flight during the HTTP rounds. */
  concurrency: number
}

const fmt = (n: number) => n.toLocaleString('en-US')

async function withStore<T>(
  fn: (services: ReturnType<typeof createServices>, dir: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sso-bridge-bench-tokens-'))
  const store = createSqliteStore(path.join(dir, 'db.sqlite'))
  try {
    return await fn(
      createServices(store, { readSecretEnv: () => undefined, secrets: testSecretBox() }),
      dir,
    )
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** In-process rows: zero-click and HS256 issue vs their raw baselines. */
async function benchInProcess(o: TokenBenchOptions): Promise<TokenBenchRow[]> {
  return withStore(async (services) => {
    await services.integrations.put('minnit', {
      type: 'minnit-zero-click',
      settings: { chat_url: 'https://organizations.minnit.chat/626811533994618/c/Main' },
      secrets: { encryption_key: MINNIT_KEY },
    })
    await services.integrations.put('boostgpt', {
      type: 'boostgpt-jwt',
      settings: { bot_id: '6f1d2c3b-aaaa-4bbb-8ccc-0123456789ab' },
      secrets: { sso_secret: BOOSTGPT_SECRET },
    })
    const minnit = await services.integrations.load('minnit', minnitZeroClickType)
    const boost = await services.integrations.load('boostgpt', boostgptJwtType)
    // As the token service runs them: pooled CSPRNG IVs, keys imported once (tokens/keys.ts).
    const deps: TokenDeps = {
      now: Date.now,
      randomBytes: createRandomPool(),
      keys: createKeyCache(),
      kv: services.store,
      secrets: services.secrets,
      fetch: globalThis.fetch,
    }
    // Every account has what both platforms require.
    const accounts = typicalAccounts(256).map((a, i) => ({
      ...a,
      username: a.username ?? `member_${i}`,
      email: a.email ?? `m${i}@example.test`,
    }))
    const mask = accounts.length - 1
    const minnitIssue = TOKEN_PLATFORMS['minnit-zero-click']!.issue
    const boostIssue = TOKEN_PLATFORMS['boostgpt-jwt']!.issue

    // Correctness before speed: a token of each decrypts / verifies.
    const sample = minnitIssue(accounts[0]!, minnit, deps) as { token: string }
    if (
      !sample.token ||
      (await TOKEN_PLATFORMS['minnit-zero-click']!.inspect(sample.token, minnit, deps)).payload
        .userid !== accounts[0]!.external_id
    )
      throw new Error('zero-click round trip failed')
    const jwt = boostIssue(accounts[0]!, boost, deps) as { token: string }
    if (
      (await TOKEN_PLATFORMS['boostgpt-jwt']!.inspect(jwt.token, boost, deps)).payload.email !==
      accounts[0]!.email
    )
      throw new Error('HS256 round trip failed')

    // The baselines get the same primitives in their fastest form (a key object, the IV pool),
    // so the ratio is what the door adds on top of the cryptography.
    const rawKey = createSecretKey(Buffer.from(MINNIT_KEY, 'utf8'))
    const iv = createRandomPool()
    const json = JSON.stringify({
      userid: '100001',
      username: 'Rob_1',
      nickname: 'Robbie',
      rank: 'regular',
      profile_picture_url: 'https://cdn.example.test/a/1.png',
      max_valid_ts: 1767229200,
    })
    const rawAes = () => {
      const nonce = iv(12)
      const c = createCipheriv('aes-256-gcm', rawKey, nonce, { authTagLength: 16 })
      return Buffer.concat([nonce, c.update(json, 'utf8'), c.final(), c.getAuthTag()]).toString(
        'base64',
      )
    }
    const secret = createSecretKey(Buffer.from(BOOSTGPT_SECRET, 'utf8'))
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')
    const bareJwt = () => {
      const input = `${header}.${Buffer.from(JSON.stringify({ email: 'member1@example.test', name: 'Robbie', external_id: '100001', iat: 1767225600, exp: 1767229200 })).toString('base64url')}`
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
    }
    const joseSecret = new TextEncoder().encode(BOOSTGPT_SECRET)

    let sink = 0
    const rounds = {
      warmupMs: o.warmupMs,
      rounds: o.rounds,
      minMs: o.minMs,
      minOps: 1000,
      maxOps: Number.MAX_SAFE_INTEGER,
    }
    const zc = await measurePair(
      (i) => {
        sink += (minnitIssue(accounts[i & mask]!, minnit, deps) as { token: string }).token.length
      },
      () => {
        sink += rawAes().length
      },
      rounds,
    )
    const hs = await measurePair(
      (i) => {
        sink += (boostIssue(accounts[i & mask]!, boost, deps) as { token: string }).token.length
      },
      () => {
        sink += bareJwt().length
      },
      rounds,
    )
    const jose = await measurePair(
      () =>
        new SignJWT({ email: 'member1@example.test', name: 'Robbie', external_id: '100001' })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(joseSecret)
          .then((t) => (sink += t.length)),
      () => {
        sink += bareJwt().length
      },
      { ...rounds, minOps: 200 },
    )
    if (sink === 0) throw new Error('unreachable')
    return [
      {
        name: 'Minnit zero-click token (issue: mapping, AES-256-GCM, URL, iframe)',
        ours: zc.ours.perSec,
        baseline: zc.baseline.perSec,
        ratio: zc.ratio,
        unit: 'tokens/s',
        baselineName: 'raw AES-256-GCM + base64',
        goal: `≥ ${fmt(GOAL_ZERO_CLICK)}/s: ${zc.ours.perSec >= GOAL_ZERO_CLICK ? 'met' : 'NOT met'}`,
      },
      {
        name: 'BoostGPT HS256 JWT (issue: mapping, claims, HS256, snippets)',
        ours: hs.ours.perSec,
        baseline: hs.baseline.perSec,
        ratio: hs.ratio,
        unit: 'JWTs/s',
        baselineName: 'bare HMAC-SHA256 JWT',
        goal: `≥ ${fmt(GOAL_JWT)}/s: ${hs.ours.perSec >= GOAL_JWT ? 'met' : 'NOT met'}`,
      },
      {
        name: '(reference) jose SignJWT, raw secret imported on every sign',
        ours: jose.ours.perSec,
        baseline: jose.baseline.perSec,
        ratio: jose.ratio,
        unit: 'JWTs/s',
        baselineName: 'bare HMAC-SHA256 JWT',
        goal: '— (why keys are imported once)',
      },
    ]
  })
}

/** Closed-loop load: `concurrency` keep-alive clients for `ms` milliseconds; returns req/s. */
export async function load(
  port: number,
  req: { method: string; path: string; headers: Record<string, string>; body: string },
  concurrency: number,
  ms: number,
): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const end = performance.now() + ms
  let done = 0
  let failed: Error | null = null
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const r = http.request(
        {
          host: '127.0.0.1',
          port,
          method: req.method,
          path: req.path,
          headers: req.headers,
          agent,
        },
        (res) => {
          res.resume()
          res.on('end', () =>
            res.statusCode === 200
              ? resolve()
              : reject(new Error(`${req.path}: HTTP ${res.statusCode}`)),
          )
        },
      )
      r.on('error', reject)
      r.end(req.body)
    })
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end && !failed) {
        try {
          await one()
          done++
        } catch (err) {
          failed = err as Error
        }
      }
    }),
  )
  agent.destroy()
  if (failed) throw failed
  return (done / (performance.now() - t0)) * 1000
}

async function listen(handler: http.RequestListener): Promise<{ server: Server; port: number }> {
  const server = http.createServer(handler)
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const a = server.address()
  return { server, port: typeof a === 'object' && a ? a.port : 0 }
}

/** The HTTP row: the token API vs an express hello route, alternating rounds. */
async function benchHttp(o: TokenBenchOptions): Promise<TokenBenchRow[]> {
  return withStore(async (services) => {
    await services.accounts.put('42', {
      username: 'Rob',
      email: 'rob@example.com',
      nickname: 'Robbie',
      rank: 'moderator',
      picture: 'https://cdn.example.com/rob.png',
    })
    await services.integrations.put('minnit', {
      type: 'minnit-zero-click',
      settings: { chat_url: 'https://organizations.minnit.chat/626811533994618/c/Main' },
      secrets: { encryption_key: MINNIT_KEY },
    })
    const discard = new Writable({ write: (_c, _e, cb) => cb() })
    const log = createLogger('info', discard)
    const site = { name: 'Bench', color: '#2a6df4' }
    const app = createApp({
      services,
      doors: createDoors(services, {
        issuer: 'http://127.0.0.1',
        keys: fixtureKeys(),
        cookieSecret: 'bench-cookie-secret-0123456789abcdef0123456789',
        site,
        sessionTtlMs: 3_600_000,
        log,
      }),
      log,
      issuer: 'http://127.0.0.1',
      version: 'bench',
      adminToken: ADMIN,
      maxBodyBytes: 1_048_576,
      importMaxBytes: 1_048_576,
      keys: fixtureKeys(),
      site,
      trustProxy: false,
    })
    const hello = express()
    hello.disable('x-powered-by')
    hello.post('/hello', (_req, res) => {
      res.json({ hello: 'world' })
    })
    // The door's work with nothing around it (see the module doc): the ceiling for any route.
    const bareTokens = createTokenService({
      accounts: services.accounts,
      integrations: services.integrations,
      kv: services.store,
      secrets: services.secrets,
    })
    const adminDigest = createHash('sha256').update(ADMIN).digest()
    const bareHandler: http.RequestListener = (req, res) => {
      const given = createHash('sha256')
        .update((req.headers.authorization ?? '').slice('Bearer '.length))
        .digest()
      if (!timingSafeEqual(given, adminDigest)) return void res.writeHead(401).end()
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const id = req.url!.split('/')[4]!
        bareTokens
          .issue(
            id,
            (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { external_id?: unknown })
              .external_id,
          )
          .then(
            (out) => {
              const json = JSON.stringify(out)
              res
                .writeHead(200, {
                  'Content-Type': 'application/json; charset=utf-8',
                  'Content-Length': Buffer.byteLength(json),
                  'Cache-Control': 'no-store',
                })
                .end(json)
            },
            () => res.writeHead(500).end(),
          )
      })
    }
    const ours = await listen(app)
    const base = await listen(hello)
    const bare = await listen(bareHandler)
    try {
      const body = JSON.stringify({ external_id: '42' })
      const headers = {
        Authorization: `Bearer ${ADMIN}`,
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      }
      const tokenReq = { method: 'POST', path: '/api/v1/integrations/minnit/tokens', headers, body }
      const helloReq = { method: 'POST', path: '/hello', headers, body }
      // Correctness first: the API answers a token.
      const check = await fetch(`http://127.0.0.1:${ours.port}${tokenReq.path}`, {
        method: 'POST',
        headers,
        body,
      })
      const json = (await check.json()) as { token?: string }
      if (check.status !== 200 || !json.token)
        throw new Error(`token API answered ${check.status}: ${JSON.stringify(json)}`)

      const healthReq = { method: 'GET', path: '/healthz', headers: {}, body: '' }
      const pair = async (a: () => Promise<number>, b: () => Promise<number>) => {
        const xs: number[] = []
        const ys: number[] = []
        for (let r = 0; r < o.rounds; r++) {
          if (r % 2 === 0) {
            xs.push(await a())
            ys.push(await b())
          } else {
            ys.push(await b())
            xs.push(await a())
          }
        }
        return {
          ours: median(xs),
          baseline: median(ys),
          ratio: median(xs.map((x, i) => x / ys[i]!)),
        }
      }
      await load(ours.port, tokenReq, o.concurrency, o.warmupMs)
      await load(base.port, helloReq, o.concurrency, o.warmupMs)
      await load(ours.port, healthReq, o.concurrency, o.warmupMs)
      await load(bare.port, tokenReq, o.concurrency, o.warmupMs)
      const vsHello = await pair(
        () => load(ours.port, tokenReq, o.concurrency, o.minMs),
        () => load(base.port, helloReq, o.concurrency, o.minMs),
      )
      const vsHealth = await pair(
        () => load(ours.port, tokenReq, o.concurrency, o.minMs),
        () => load(ours.port, healthReq, o.concurrency, o.minMs),
      )
      const appVsHello = await pair(
        () => load(ours.port, healthReq, o.concurrency, o.minMs),
        () => load(base.port, helloReq, o.concurrency, o.minMs),
      )
      const bareVsHello = await pair(
        () => load(bare.port, tokenReq, o.concurrency, o.minMs),
        () => load(base.port, helloReq, o.concurrency, o.minMs),
      )
      const name = `token API over HTTP (POST …/tokens, Minnit, admin token, ${o.concurrency} in flight)`
      return [
        {
          name,
          ...vsHello,
          unit: 'req/s',
          baselineName: 'express hello route, same request',
          goal: `≥ 80 % of hello: ${vsHello.ratio >= GOAL_HTTP_RATIO ? 'met' : 'NOT met'}`,
        },
        {
          name: `${name}, beside the app's own GET /healthz`,
          ...vsHealth,
          unit: 'req/s',
          baselineName: 'GET /healthz of the same app (same middleware, request log)',
          goal: "— (the door's own cost)",
        },
        {
          name: "(reference) the app's GET /healthz beside the express hello route",
          ...appVsHello,
          unit: 'req/s',
          baselineName: 'express hello route',
          goal: '— (what the app-wide middleware costs)',
        },
        {
          name: '(reference) the token work alone in a bare node:http handler (no express, middleware or log)',
          ...bareVsHello,
          unit: 'req/s',
          baselineName: 'express hello route',
          goal: '— (the ceiling for any route doing this work)',
        },
      ]
    } finally {
      for (const { server } of [ours, base, bare]) {
        server.closeAllConnections()
        await new Promise((r) => server.close(r))
      }
    }
  })
}

export async function benchTokens(
  o: TokenBenchOptions = { warmupMs: 300, rounds: 5, minMs: 1000, concurrency: 16 },
): Promise<TokenBenchRow[]> {
  return [...(await benchInProcess(o)), ...(await benchHttp(o))]
}

if (import.meta.main) {
  const quick = process.argv.includes('--quick')
  const rows = await benchTokens(
    quick ? { warmupMs: 100, rounds: 3, minMs: 300, concurrency: 16 } : undefined,
  )
  process.stdout.write(`${rateTable(rows)}\n`)
}
