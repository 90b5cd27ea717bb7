/**
 * The platform catalogue's tokens (issue #15), in process on one core, each beside its bare
 * cryptography measured in the same run:
 *
 * - each HMAC platform's `issue` (mapping, field rules, HMAC, the snippet) vs a bare HMAC of the
 *   same message with the same digest, encoding and key object (Disqus, Chatwoot, Crisp,
 *   Intercom's user_hash). Goal ≥ 0.5.
 * - each JWT platform's `issue` (mapping, field rules, claims, signature, the snippet) vs the bare
 *   JWT in node:crypto: base64url(header) + '.' + base64url(claims), then `createHmac('sha256',
 *   keyObject)` (HS256: Intercom, Zendesk with `kid`, Stream Chat) or `sign('sha256', …,
 *   privateKeyObject)` (RS256 with the bridge's signing key: Arena) — the same header encoded
 *   once, the same claims with `iat` and `exp` set per token, the key imported once. Goal ≥ 0.5.
 *   A second row for each compares with jose's `SignJWT` and a CryptoKey imported once, for
 *   reference only: jose signs through WebCrypto, whose sign is a job on libuv's thread pool
 *   awaited through a promise, so it is a weaker baseline and not a one-core one (the RSA work
 *   runs on another thread; see docs/performance.md on Arena).
 *
 * Rounds are timed by the process's CPU time (lib.ts, `clock: 'cpu'`), so other processes on the
 * machine change the figures little; ours and the baseline alternate rounds as everywhere.
 *
 *   node test/bench/platforms.bench.ts [--quick] [--only disqus,arena] [--wall]
 *
 * `--wall` times rounds by the wall clock instead. `test/bench/run.ts` imports
 * {@link benchPlatforms} (`npm run bench -- --only platforms`).
 */
import { createHmac, createPrivateKey, createSecretKey, sign, type JsonWebKey } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { importJWK, SignJWT } from 'jose'
import type { Account } from '../../src/accounts/types.ts'
import { createServices } from '../../src/services.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { createTokenService, TOKEN_PLATFORMS } from '../../src/tokens/index.ts'
import { createKeyCache } from '../../src/tokens/keys.ts'
import { fixtureKeys } from '../helpers/app.ts'
import { testSecretBox } from '../helpers/secrets.ts'
import { measurePair, rateTable, type RateRow } from './lib.ts'
import { typicalAccounts } from './mapping.bench.ts'

/** The issue's goal: each platform token at least half the speed of its bare cryptography. */
const GOAL_RATIO = 0.5

const SECRET = 'bench-platform-secret-0123456789abcdef'

/** `npm run bench`'s rounds: a warm-up, then five alternating rounds of ≥ 1 s a side. */
export const DEFAULT_PLATFORM_OPTIONS: PlatformBenchOptions = {
  warmupMs: 300,
  rounds: 5,
  minMs: 1000,
}
/** `--quick`: three rounds of ≥ 300 ms a side. */
export const QUICK_PLATFORM_OPTIONS: PlatformBenchOptions = { warmupMs: 100, rounds: 3, minMs: 300 }

interface Case {
  type: string
  settings: Record<string, unknown>
  secret?: string
  kind: 'hmac' | 'jwt'
  /** HMAC: digest and encoding of the bare baseline. */
  digest?: 'sha1' | 'sha256'
}

const CASES: Case[] = [
  {
    type: 'disqus',
    settings: { public_key: 'PUBLIC0123' },
    secret: 'secret_key',
    kind: 'hmac',
    digest: 'sha1',
  },
  { type: 'chatwoot', settings: {}, secret: 'hmac_token', kind: 'hmac', digest: 'sha256' },
  { type: 'crisp', settings: {}, secret: 'secret_key', kind: 'hmac', digest: 'sha256' },
  {
    type: 'intercom-user-hash',
    settings: { app_id: 'abc12345' },
    secret: 'verification_secret',
    kind: 'hmac',
    digest: 'sha256',
  },
  {
    type: 'intercom-jwt',
    settings: { app_id: 'abc12345' },
    secret: 'messenger_secret',
    kind: 'jwt',
  },
  {
    type: 'zendesk-messaging',
    settings: { key_id: 'app_64e8f0c1a2b3' },
    secret: 'shared_secret',
    kind: 'jwt',
  },
  {
    type: 'stream-chat',
    settings: { stream_api_key: 'mmhfdzb5evj2' },
    secret: 'api_secret',
    kind: 'jwt',
  },
  { type: 'arena', settings: { sso_issuer_id: 'arena-site-7' }, kind: 'jwt' },
]

/** Options of {@link benchPlatforms}. */
export interface PlatformBenchOptions {
  warmupMs: number
  rounds: number
  minMs: number
  /** Only these platform types (default: every case). */
  only?: readonly string[]
  /** The jose rows beside the JWT ones (default true). */
  jose?: boolean
  /** How rounds are timed (lib.ts); default `cpu`. */
  clock?: 'wall' | 'cpu'
}

const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url')

/**
 * One row per platform of {@link CASES} against its bare cryptography, and for the JWT ones a
 * second row against jose.
 */
export async function benchPlatforms(
  o: PlatformBenchOptions = { warmupMs: 300, rounds: 5, minMs: 1000 },
): Promise<RateRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sso-bridge-bench-platforms-'))
  const store = createSqliteStore(path.join(dir, 'db.sqlite'))
  try {
    const services = createServices(store, {
      readSecretEnv: () => undefined,
      secrets: testSecretBox(),
    })
    const keys = fixtureKeys()
    const tokens = createTokenService({
      accounts: services.accounts,
      integrations: services.integrations,
      kv: services.store,
      secrets: services.secrets,
      keys: () => Promise.resolve(keys),
    })
    // Every account has what every platform requires.
    const accounts: Account[] = typicalAccounts(256).map((a, i) => ({
      ...a,
      username: a.username ?? `member_${i}`,
      email: a.email ?? `m${i}@example.test`,
    }))
    const mask = accounts.length - 1
    // The first member, stored, for the dry run that tells each baseline what to sign.
    const a0 = accounts[0]!
    await services.accounts.put(a0.external_id, {
      username: a0.username,
      email: a0.email,
      ...(a0.nickname ? { nickname: a0.nickname } : {}),
    })
    const rsa = keys.oidc.jwks.keys.find((k) => k.alg === 'RS256')!
    const rsaKey = createPrivateKey({ key: rsa as JsonWebKey, format: 'jwk' })
    const secretKey = createSecretKey(Buffer.from(SECRET, 'utf8'))
    const rounds = {
      warmupMs: o.warmupMs,
      rounds: o.rounds,
      minMs: o.minMs,
      minOps: 200,
      maxOps: Number.MAX_SAFE_INTEGER,
      clock: o.clock ?? 'cpu',
    }
    const rows: RateRow[] = []
    let sink = 0

    for (const c of CASES) {
      if (o.only && !o.only.includes(c.type)) continue
      const id = c.type
      await services.integrations.put(id, {
        type: c.type,
        settings: c.settings,
        secrets: c.secret ? { [c.secret]: SECRET } : {},
      })
      const platform = TOKEN_PLATFORMS[c.type]!
      const loaded = (await tokens.load(id)).integration
      // What the platform signs for the first member: the baseline signs exactly that.
      const dry = await tokens.dryRun(id, { external_id: accounts[0]!.external_id })
      const deps = {
        now: Date.now,
        randomBytes: () => Buffer.alloc(12),
        keys: createKeyCache(),
        kv: services.store,
        secrets: services.secrets,
        fetch: globalThis.fetch,
        signingKey: () =>
          Promise.resolve({
            kid: rsa.kid!,
            alg: 'RS256' as const,
            privateKey: rsaKey,
            publicKey: rsaKey,
          }),
      }
      // Correctness before speed: the first token is the dry run's (same clock second aside).
      const first = await platform.issue(accounts[0]!, loaded, deps)
      if (!first.token) throw new Error(`${id}: no token`)

      const ours = (i: number) => {
        const r = platform.issue(accounts[i & mask]!, loaded, deps)
        return r instanceof Promise
          ? r.then((t) => (sink += t.token.length))
          : (sink += r.token.length)
      }
      const name = `${c.type} (issue: mapping, field rules, ${dry.algorithm}, snippet)`
      const goal = (ratio: number) =>
        `≥ ${GOAL_RATIO} of the bare ${c.kind === 'hmac' ? 'HMAC' : 'JWT'}: ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'}`
      const row = (
        m: Awaited<ReturnType<typeof measurePair>>,
        baseline: Pick<RateRow, 'baselineUnit' | 'baselineName'>,
        rowName = name,
        rowGoal = goal(m.ratio),
      ): RateRow => ({
        name: rowName,
        ours: m.ours.perSec,
        baseline: m.baseline.perSec,
        ratio: m.ratio,
        unit: 'tokens/s',
        ...baseline,
        goal: rowGoal,
      })

      if (c.kind === 'hmac') {
        const message = dry.signed!
        const digest = c.digest!
        const m = await measurePair(
          ours,
          () =>
            (sink += createHmac(digest, secretKey).update(message, 'utf8').digest('hex').length),
          rounds,
        )
        rows.push(
          row(m, {
            baselineUnit: 'HMACs/s',
            baselineName: `bare HMAC-${digest.toUpperCase()} (hex) of the same message`,
          }),
        )
        continue
      }

      const header = dry.header as { alg: 'HS256' | 'RS256'; typ?: string; kid?: string }
      const ttl =
        typeof dry.payload.exp === 'number' ? dry.payload.exp - Number(dry.payload.iat) : undefined
      // The bare JWT: the header encoded once, the claims (in the dry run's order) with iat and
      // exp set per token, one HMAC or RSA signature over the key object imported once.
      const encodedHeader = b64url(JSON.stringify(header))
      const claims = { ...dry.payload }
      const signature =
        header.alg === 'RS256'
          ? (input: string) => sign('sha256', Buffer.from(input), rsaKey).toString('base64url')
          : (input: string) => createHmac('sha256', secretKey).update(input).digest('base64url')
      const bare = (nowSeconds: number) => {
        claims.iat = nowSeconds
        if (ttl !== undefined) claims.exp = nowSeconds + ttl
        const input = `${encodedHeader}.${b64url(JSON.stringify(claims))}`
        return `${input}.${signature(input)}`
      }
      // The baseline does the platform's work: at the dry run's second it gives the dry run's JWT.
      if (bare(Number(dry.payload.iat)) !== dry.token)
        throw new Error(`${id}: the bare JWT baseline does not reproduce the platform's token`)
      const m = await measurePair(
        ours,
        () => (sink += bare(Math.floor(Date.now() / 1000)).length),
        rounds,
      )
      rows.push(
        row(m, {
          baselineUnit: 'JWTs/s',
          baselineName: `bare ${header.alg} JWT in node:crypto, key object imported once`,
        }),
      )

      if (o.jose === false) continue
      const { iat: _iat, exp: _exp, ...joseClaims } = dry.payload
      // jose signs with WebCrypto: a CryptoKey imported once is its fastest form.
      const key =
        header.alg === 'RS256'
          ? await importJWK(rsa, 'RS256')
          : await crypto.subtle.importKey(
              'raw',
              Buffer.from(SECRET, 'utf8'),
              { name: 'HMAC', hash: 'SHA-256' },
              false,
              ['sign'],
            )
      const jwt = () => {
        const j = new SignJWT(joseClaims).setProtectedHeader(header).setIssuedAt()
        return (ttl === undefined ? j : j.setExpirationTime(`${ttl}s`)).sign(key)
      }
      const mj = await measurePair(ours, () => jwt().then((t) => (sink += t.length)), rounds)
      rows.push(
        row(
          mj,
          {
            baselineUnit: 'JWTs/s',
            baselineName: `jose SignJWT ${header.alg}, CryptoKey imported once (WebCrypto, thread pool)`,
          },
          `${c.type}, beside jose (reference only)`,
          '—',
        ),
      )
    }
    if (sink === 0) throw new Error('unreachable')
    return rows
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      wall: { type: 'boolean', default: false },
    },
  })
  const rows = await benchPlatforms({
    ...(values.quick ? QUICK_PLATFORM_OPTIONS : DEFAULT_PLATFORM_OPTIONS),
    ...(values.only ? { only: values.only.split(',') } : {}),
    clock: values.wall ? 'wall' : 'cpu',
  })
  process.stdout.write(`${rateTable(rows, 'platform token')}\n`)
}
