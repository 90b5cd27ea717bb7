/**
 * Mapping throughput: a compiled 20-rule mapping (paths, a template, an enum map, lower/trim/
 * truncate, join, number, string, unix, a default, a constant, a two-element array) over typical
 * accounts, beside a hand-written function producing the same 20 outputs with the same rules
 * (omit what is missing, no null). Both run in the same process, alternating rounds (lib.ts
 * `measurePair`: warm-up, then 3 rounds of ~1 s each, median).
 *
 *   node test/bench/mapping.bench.ts      # prints a small table
 *
 * `test/bench/run.ts` may import {@link benchMapping} instead.
 */
import type { Account, JsonObject, JsonValue } from '../../src/accounts/types.ts'
import { compileMapping } from '../../src/mapping/index.ts'
import { markdownTable, measurePair, perSec, prng, ratioText } from './lib.ts'

/** The goal: a typical account through a 20-rule compiled mapping, on one core. */
const GOAL_MAPS_PER_SEC = 200_000

export const BENCH_MAPPING = {
  sub: 'external_id',
  preferred_username: 'username',
  handle: { path: 'username', transforms: ['lower', 'trim', 'truncate:20'] },
  email: 'email',
  email_verified: 'email_verified',
  name: { template: '{given_name} {family_name}' },
  given_name: 'given_name',
  family_name: 'family_name',
  'names.nicknames.0': 'nickname',
  'names.nicknames.1': 'profile.nicknames.0',
  picture: 'picture',
  role: {
    path: 'rank',
    transforms: [{ map: { owner: 'admin', manager: 'admin', moderator: 'mod' }, fallback: 'user' }],
  },
  title: { path: 'title', default: '' },
  locale: 'locale',
  zoneinfo: 'timezone',
  tags: { path: 'profile.tags', transforms: ['join:,'] },
  karma: { path: 'profile.karma', transforms: ['number'] },
  updated_at: { path: 'updated_at', transforms: ['unix'] },
  verified: { path: 'email_verified', transforms: ['string'] },
  platform: { const: 'sso-bridge' },
}

const ROLES: Record<string, string> = { owner: 'admin', manager: 'admin', moderator: 'mod' }

/** The same 20 outputs written by hand: what a door would do without a mapping engine. */
export function handWritten(a: Account): JsonObject {
  const out: JsonObject = { sub: a.external_id }
  if (a.username !== null) {
    out.preferred_username = a.username
    const h = a.username.toLowerCase().trim()
    out.handle = h.length > 20 ? Array.from(h).slice(0, 20).join('') : h
  }
  if (a.email !== null) out.email = a.email
  out.email_verified = a.email_verified
  if (a.given_name !== null && a.family_name !== null) out.name = `${a.given_name} ${a.family_name}`
  if (a.given_name !== null) out.given_name = a.given_name
  if (a.family_name !== null) out.family_name = a.family_name
  const nicknames: JsonValue[] = []
  if (a.nickname !== null) nicknames.push(a.nickname)
  const extra = a.profile.nicknames
  if (Array.isArray(extra) && typeof extra[0] === 'string') nicknames.push(extra[0])
  if (nicknames.length > 0) out.names = { nicknames }
  if (a.picture !== null) out.picture = a.picture
  out.role = ROLES[a.rank] ?? 'user'
  out.title = a.title ?? ''
  if (a.locale !== null) out.locale = a.locale
  if (a.timezone !== null) out.zoneinfo = a.timezone
  const tags = a.profile.tags
  if (Array.isArray(tags)) out.tags = tags.join(',')
  const karma = a.profile.karma
  if (typeof karma === 'number') out.karma = karma
  out.updated_at = Math.floor(Date.parse(a.updated_at) / 1000)
  out.verified = String(a.email_verified)
  out.platform = 'sso-bridge'
  return out
}

/** Typical members: every field set on most, a few nulls, a small profile. Deterministic. */
export function typicalAccounts(n: number): Account[] {
  const rnd = prng(20_240_101)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const ranks = [
    'visitor',
    'regular',
    'regular',
    'regular',
    'moderator',
    'manager',
    'owner',
  ] as const
  return Array.from({ length: n }, (_, i): Account => ({
    id: `01J${String(i).padStart(23, '0')}`,
    external_id: String(100_000 + i),
    username:
      rnd() < 0.95
        ? `${pick(['Rob', 'Ana', 'Kim', 'Léa', 'Sam'])}_${i}${rnd() < 0.1 ? '_with_a_rather_long_name' : ''}`
        : null,
    email: `member${i}@example.test`,
    email_verified: rnd() < 0.8,
    nickname: rnd() < 0.6 ? pick(['Robbie', 'Annie', 'K', 'Lé']) : null,
    given_name: rnd() < 0.9 ? pick(['Robert', 'Ana', 'Kim', 'Léa']) : null,
    family_name: rnd() < 0.9 ? pick(['Smith', 'Silva', 'Lee', 'Martin']) : null,
    picture: rnd() < 0.5 ? `https://cdn.example.test/a/${i}.png` : null,
    rank: pick(ranks),
    title: rnd() < 0.2 ? 'Night shift' : null,
    locale: pick(['en-GB', 'fr-FR', 'pt-BR', null]),
    timezone: pick(['Europe/London', 'Europe/Paris', 'America/Sao_Paulo', null]),
    profile: {
      nicknames: rnd() < 0.3 ? ['Bob'] : [],
      tags: ['tea', 'chess'].slice(0, Math.floor(rnd() * 3)),
      karma: Math.floor(rnd() * 1000),
      bio: 'Hello',
    },
    status: 'active',
    desired_username: null,
    desired_email: null,
    stale: false,
    has_password: true,
    created_at: '2024-01-02T03:04:05.678Z',
    updated_at: new Date(Date.UTC(2024, 4, 6) + i * 1000).toISOString(),
  }))
}

export interface MappingBenchRow {
  name: string
  ours: number
  baseline: number
  unit: string
  goal: string
}

export interface MappingBenchOptions {
  warmupMs: number
  rounds: number
  minMs: number
}

/** Measures maps/s of the compiled mapping and of {@link handWritten}; checks they agree first. */
export async function benchMapping(
  o: MappingBenchOptions = { warmupMs: 300, rounds: 3, minMs: 1000 },
): Promise<MappingBenchRow[]> {
  const mapping = compileMapping(BENCH_MAPPING)
  if (mapping.keys.length !== 20)
    throw new Error(`the bench mapping has ${mapping.keys.length} rules, not 20`)
  const accounts = typicalAccounts(256)
  for (const a of accounts) {
    const ours = JSON.stringify(mapping.apply(a))
    const hand = JSON.stringify(handWritten(a))
    if (ours !== hand)
      throw new Error(
        `compiled mapping and hand-written code disagree for ${a.external_id}:\n${ours}\n${hand}`,
      )
  }
  // Keep every result reachable so the work cannot be optimized away.
  let sink = 0
  const mask = accounts.length - 1
  const { ours, baseline } = await measurePair(
    (i) => {
      sink += mapping.apply(accounts[i & mask]!).sub === '' ? 1 : 0
    },
    (i) => {
      sink += handWritten(accounts[i & mask]!).sub === '' ? 1 : 0
    },
    {
      warmupMs: o.warmupMs,
      rounds: o.rounds,
      minMs: o.minMs,
      minOps: 1000,
      maxOps: Number.MAX_SAFE_INTEGER,
    },
  )
  if (sink !== 0) throw new Error('unreachable')
  return [
    {
      name: 'mapping: 20-rule compiled mapping, typical account',
      ours: ours.perSec,
      baseline: baseline.perSec,
      unit: 'maps/s',
      goal: `≥ ${GOAL_MAPS_PER_SEC.toLocaleString('en-US')} maps/s (${ours.perSec >= GOAL_MAPS_PER_SEC ? 'met' : 'NOT met'})`,
    },
  ]
}

if (import.meta.main) {
  const rows = await benchMapping()
  const fmt = (n: number) => perSec(n).replace('ops/s', 'maps/s')
  process.stdout.write(
    `${markdownTable(
      ['benchmark', 'ours', 'baseline (hand-written)', 'ratio', 'goal'],
      rows.map((r) => [
        r.name,
        fmt(r.ours),
        fmt(r.baseline),
        ratioText(r.ours / r.baseline),
        r.goal,
      ]),
    )}\n`,
  )
}
