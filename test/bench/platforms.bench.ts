/**
 * The platform catalogue's tokens (issue #15), in process on one core, each beside its bare
 * cryptography measured in the same run:
 *
 * - each HMAC platform's `issue` (mapping, field rules, HMAC, the snippet) vs a bare HMAC of the
 *   same message with the same digest, encoding and key object (Disqus, Chatwoot, Crisp,
 *   Intercom's user_hash). Goal ≥ 0.5.
 * - each JWT platform's `issue` (mapping, field rules, claims, signature, the snippet) vs jose's
 *   `SignJWT` with the same header and claims under a key object imported once: HS256 for
 *   Intercom, Zendesk (with `kid`) and Stream Chat, RS256 with the bridge's signing key for
 *   Arena. Goal ≥ 0.5.
 *
 *   node test/bench/platforms.bench.ts [--quick]     # prints a small table
 *
 * `test/bench/run.ts` imports {@link benchPlatforms} (`npm run bench -- --only platforms`).
 */
import { createHmac, createPrivateKey, createSecretKey, type JsonWebKey } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { importJWK, SignJWT } from 'jose'
import type { Account } from '../../src/accounts/types.ts'
import { createServices } from '../../src/services.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { createTokenService, TOKEN_PLATFORMS } from '../../src/tokens/index.ts'
import { fixtureKeys } from '../helpers/app.ts'
import { testSecretBox } from '../helpers/secrets.ts'
import { markdownTable, measurePair, perSec, ratioText } from './lib.ts'
import { typicalAccounts } from './mapping.bench.ts'
import type { TokenBenchOptions, TokenBenchRow } from './tokens.bench.ts'

/** The issue's goal: each platform token at least half the speed of its bare cryptography. */
const GOAL_RATIO = 0.5

const SECRET = 'bench-platform-secret-0123456789abcdef'

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

/** One row per platform of {@link CASES}. */
export async function benchPlatforms(
  o: Pick<TokenBenchOptions, 'warmupMs' | 'rounds' | 'minMs'> = {
    warmupMs: 300,
    rounds: 5,
    minMs: 1000,
  },
): Promise<TokenBenchRow[]> {
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
    }
    const rows: TokenBenchRow[] = []
    let sink = 0

    for (const c of CASES) {
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
        keys: (await import('../../src/tokens/keys.ts')).createKeyCache(),
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
      let baseline: (i: number) => unknown
      let baselineName: string
      if (c.kind === 'hmac') {
        const message = dry.signed!
        const digest = c.digest!
        baseline = () =>
          (sink += createHmac(digest, secretKey).update(message, 'utf8').digest('hex').length)
        baselineName = `bare HMAC-${digest.toUpperCase()} (hex) of the same message`
      } else {
        const header = dry.header as { alg: 'HS256' | 'RS256'; typ?: string; kid?: string }
        const { iat: _iat, exp: _exp, ...claims } = dry.payload
        const ttl =
          typeof dry.payload.exp === 'number' ? dry.payload.exp - Number(dry.payload.iat) : 0
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
        baseline = () =>
          new SignJWT(claims)
            .setProtectedHeader(header)
            .setIssuedAt()
            .setExpirationTime(`${ttl}s`)
            .sign(key)
            .then((t) => (sink += t.length))
        baselineName = `jose SignJWT ${header.alg}, CryptoKey imported once`
      }
      const m = await measurePair(ours, baseline, rounds)
      rows.push({
        name: `${c.type} (issue: mapping, field rules, ${dry.algorithm}, snippet)`,
        ours: m.ours.perSec,
        baseline: m.baseline.perSec,
        ratio: m.ratio,
        unit: 'tokens/s',
        baselineName,
        goal: `≥ ${GOAL_RATIO} of the bare ${c.kind === 'hmac' ? 'HMAC' : 'JWT'}: ${m.ratio >= GOAL_RATIO ? 'met' : 'NOT met'}`,
      })
    }
    if (sink === 0) throw new Error('unreachable')
    return rows
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const quick = process.argv.includes('--quick')
  const rows = await benchPlatforms(quick ? { warmupMs: 100, rounds: 3, minMs: 300 } : undefined)
  const unit = (n: number, u: string) => perSec(n).replace('ops/s', u)
  process.stdout.write(
    `${markdownTable(
      ['platform token', 'ours', 'baseline (same run)', 'ratio', 'goal'],
      rows.map((r) => [
        r.name,
        unit(r.ours, r.unit),
        `${unit(r.baseline, r.unit)} (${r.baselineName})`,
        ratioText(r.ratio),
        r.goal,
      ]),
    )}\n`,
  )
}
