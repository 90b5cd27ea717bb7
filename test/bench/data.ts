/**
 * Generated users for the benchmarks: deterministic, realistic-looking accounts (some non-ASCII
 * names, a small nested profile, pre-hashed passwords), as the request body the service takes
 * and as the flat row the raw-SQL baselines insert. Nothing here runs inside a timed section.
 */
import { Readable } from 'node:stream'
import { hashPassword } from '../../src/accounts/passwords.ts'
import { emailKey, usernameKey } from '../../src/accounts/normalize.ts'
import type { JsonObject, Rank } from '../../src/accounts/types.ts'
import { ACCOUNT_WRITE_COLUMNS } from '../../src/store/columns.ts'
import { prng } from './lib.ts'

/** An account as a client sends it (admin API body, one NDJSON import line). */
export interface UserBody {
  external_id: string
  username: string
  email: string
  email_verified: boolean
  nickname: string | null
  given_name: string
  family_name: string
  picture: string | null
  rank: Rank
  title: string | null
  locale: string
  timezone: string
  profile: JsonObject
  status: 'active' | 'disabled'
  password_hash: string
}

/**
 * The same account as the columns a store writes: ACCOUNT_WRITE_COLUMNS in order (keys already
 * normalized, profile as JSON text, email_verified as a boolean), then password_hash.
 */
export type BaseRow = (string | boolean | null)[]

export const BASE_COLUMNS = [...ACCOUNT_WRITE_COLUMNS, 'password_hash'] as const

export interface Dataset {
  bodies: UserBody[]
  rows: BaseRow[]
  /** The distinct password hashes the users cycle through. */
  hashes: string[]
}

const GIVEN = [
  'Alice',
  'Bruno',
  'Chloé',
  'Dmitri',
  'Eun-ji',
  'François',
  'Grace',
  'Hiroshi',
  'Inès',
  'José',
  'Katarzyna',
  'Liam',
  'Mei',
  'Noah',
  'Olúwaseun',
  'Priya',
  'Quentin',
  'Rosa',
  'Søren',
  'Zoë',
]
const FAMILY = [
  'Anderson',
  'Bernard',
  'Černý',
  'Dubois',
  'Eriksen',
  'García',
  'Hoffmann',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'López',
  "O'Brien",
  'Müller',
  'Nakamura',
  'Okafor',
  'Rossi',
  'Silva',
  'Tanaka',
  'Weiß',
  'Yılmaz',
]
const LOCALES = ['en', 'en-US', 'en-GB', 'fr-CA', 'fr', 'de', 'es', 'pt-BR', 'ja', 'pl']
const ZONES = [
  'UTC',
  'Europe/Paris',
  'Europe/Berlin',
  'Europe/London',
  'America/Toronto',
  'America/New_York',
  'America/Sao_Paulo',
  'Asia/Tokyo',
  'Asia/Singapore',
  'Australia/Sydney',
]
const CITIES = [
  ['Paris', 'FR'],
  ['Montréal', 'CA'],
  ['Berlin', 'DE'],
  ['São Paulo', 'BR'],
  ['Tokyo', 'JP'],
  ['Kraków', 'PL'],
  ['Austin', 'US'],
  ['Lagos', 'NG'],
] as const
const BADGES = ['early-adopter', 'helper', 'translator', 'beta-tester', 'supporter', 'top-poster']
const TITLES = ['Community Lead', 'Translator', 'Contributor', 'Support']

/** An ASCII slug for e-mail local parts (e-mail validation wants ASCII). */
const ascii = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase()

/**
 * Real argon2id hashes from our own hashPassword (made once, ~50 ms each; users cycle through
 * them). Only the product's hasher is used, so the benchmark does not depend on which bcrypt
 * package the project ships; a write stores any supported hash as the same kind of string.
 */
export async function makeHashes(count = 8): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(await hashPassword(`bench-password-${i}`))
  return out
}

export function makeUser(i: number, hashes: string[], prefix = 'u'): UserBody {
  const rnd = prng(i * 2654435761 + 17)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const given = pick(GIVEN)
  const family = pick(FAMILY)
  const n = String(i).padStart(7, '0')
  const [city, country] = pick(CITIES)
  const r = rnd()
  const rank: Rank =
    r < 0.9 ? 'regular' : r < 0.97 ? 'visitor' : r < 0.995 ? 'moderator' : 'manager'
  return {
    external_id: `${prefix}${n}`,
    username: `${given}_${family}${n}`,
    email: `${ascii(given)}.${ascii(family)}+${prefix}${n}@example.com`,
    email_verified: rnd() < 0.8,
    nickname: rnd() < 0.5 ? `${given}${n.slice(-3)}` : null,
    given_name: given,
    family_name: family,
    picture: rnd() < 0.7 ? `https://cdn.example.com/avatars/${prefix}${n}.png` : null,
    rank,
    title: rank === 'moderator' || rank === 'manager' ? pick(TITLES) : null,
    locale: pick(LOCALES),
    timezone: pick(ZONES),
    profile: {
      bio: `Member since ${2010 + (i % 15)}. Likes ${pick(['chess', 'hiking', 'jazz', 'retro games', 'baking'])} and ${pick(['tea', 'coffee', 'maté'])}.`,
      location: { city, country },
      links: { website: `https://example.com/~${ascii(given)}${n}` },
      prefs: {
        newsletter: rnd() < 0.3,
        theme: rnd() < 0.5 ? 'dark' : 'light',
        digest: pick(['daily', 'weekly', 'never']),
      },
      badges: BADGES.filter(() => rnd() < 0.25),
      stats: { posts: Math.floor(rnd() * 5000), karma: Math.floor(rnd() * 20000) },
    },
    status: rnd() < 0.98 ? 'active' : 'disabled',
    password_hash: hashes[i % hashes.length]!,
  }
}

/** The columns the raw baselines write for `u` (what the service would hand the store). */
export function toBaseRow(u: UserBody): BaseRow {
  const write: Record<string, string | boolean | null> = {
    ...u,
    username_key: usernameKey(u.username),
    email_key: emailKey(u.email),
    profile: JSON.stringify(u.profile),
  } as Record<string, string | boolean | null>
  return BASE_COLUMNS.map((c) => write[c] ?? null)
}

export function makeDataset(count: number, hashes: string[], prefix = 'u'): Dataset {
  const bodies = Array.from({ length: count }, (_, i) => makeUser(i, hashes, prefix))
  return { bodies, rows: bodies.map(toBaseRow), hashes }
}

/** The bodies as NDJSON, cut into 64 KiB chunks as a network stream would deliver them. */
export function ndjsonChunks(bodies: UserBody[]): Buffer[] {
  const all = Buffer.from(bodies.map((b) => JSON.stringify(b)).join('\n') + '\n', 'utf8')
  const chunks: Buffer[] = []
  for (let at = 0; at < all.length; at += 64 * 1024) chunks.push(all.subarray(at, at + 64 * 1024))
  return chunks
}

/** A fresh byte stream over pre-made chunks (making the text is not part of the timing). */
export function streamOf(chunks: Buffer[]): Readable {
  return Readable.from(chunks, { objectMode: false })
}
