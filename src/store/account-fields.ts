/**
 * @module store/account-fields
 * The one table of an account's data fields. Everything that lists account fields is derived
 * from it, so adding a field is one entry here plus its migration (one per database):
 *
 * - the {@link Account} type (store/account.ts) and the admin API's input schema
 *   (accounts/input.ts), with each field's defaults (accounts/service.ts);
 * - the columns a write sets and a read selects (store/columns.ts), and the SQLite and
 *   PostgreSQL row ↔ account converters and parameter encodings (store/sqlite, store/postgres);
 * - the fields a site ticket may carry (login/ticket.ts) and the fields a mapping may read
 *   (mapping/rules.ts);
 * - how an import's CSV cell is read (accounts/import-formats.ts).
 *
 * The bookkeeping fields every account has (`id`, `external_id`, timestamps, `has_password`,
 * `stale`) and the columns behind a unique field (`<name>_key`, `desired_<name>`) are not rows of
 * the table: no one adds one of those in passing. test/architecture/account-fields.test.ts holds
 * the table and the migrated columns of both databases together.
 *
 * It lives below the store's ports (the store converts rows with it and depends on nothing in
 * accounts/); the rules of what a value may be are here for the same reason.
 */
import { z } from 'zod'
import { isTimeZone } from './time-zone.ts'

/** Account ranks, lowest first (platform mappings translate them to their own roles). */
export const RANKS = ['visitor', 'regular', 'moderator', 'manager', 'owner'] as const
/** One of {@link RANKS}. */
export type Rank = (typeof RANKS)[number]

/** Account statuses: a `disabled` account is kept but refused at sign-in. */
export const ACCOUNT_STATUSES = ['active', 'disabled'] as const
/** One of {@link ACCOUNT_STATUSES}. */
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number]

/** Free nested JSON the site chooses to expose. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
/** A JSON object of {@link JsonValue}s: an account's free `profile` and `metadata`. */
export type JsonObject = { [key: string]: JsonValue }

/** C0/C1 controls and bidi overrides have no place in identifiers or names (so no stored username or email holds one). */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')

const locale = z
  .string()
  .max(35)
  .refine((s) => {
    try {
      return Intl.getCanonicalLocales(s).length === 1
    } catch {
      return false
    }
  }, 'must be a BCP 47 language tag such as en or fr-CA')

const timezone = z
  .string()
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris')

const picture = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048, 'must be at most 2048 characters')

const MAX_PROFILE_BYTES = 64 * 1024
const profile = z
  .record(z.string(), z.json())
  .refine(
    (p) => JSON.stringify(p).length <= MAX_PROFILE_BYTES,
    `must serialize to at most ${MAX_PROFILE_BYTES} bytes`,
  )

/**
 * How a field is kept in a column: `text` as text, `boolean` as SQLite 0/1 and PostgreSQL
 * boolean, `json` as SQLite JSON text and PostgreSQL jsonb.
 */
export type ColumnKind = 'text' | 'boolean' | 'json'

/** One row of {@link ACCOUNT_FIELDS}. */
export interface AccountFieldSpec<T, N extends boolean = boolean> {
  /** What the field may hold (null aside): checked on every write, from any source. */
  schema: z.ZodType<T>
  /** How the column stores it. */
  column: ColumnKind
  /** Null is a value of the field, and the value of an absent one. */
  nullable: N
  /** The value of an absent field that is not nullable. */
  default?: T
  /** The admin API, CLI and imports may write it. */
  admin: boolean
  /** A site ticket may carry it (never `status`: a site ticket cannot re-enable an account). */
  ticket: boolean
  /** A mapping may read it (a source path may start with its name). */
  mapping: boolean
  /**
   * Unique across accounts: the store keeps its normalized form in `<name>_key` under a unique
   * index, and the site's wanted value in `desired_<name>` while a conflict rule withholds it
   * (accounts/conflicts.ts knows these fields by name).
   */
  unique?: true
  /** A valid value, for tests and for the connection sheet's probe account. */
  example: T
}

const field = <T, N extends boolean>(spec: AccountFieldSpec<T, N>): AccountFieldSpec<T, N> => spec

/**
 * The account's data fields, in column order.
 * @example
 * // Adding `pronouns`: one entry here, and a migration per database adding the column.
 * pronouns: field({
 *   schema: z.string().max(64), column: 'text', nullable: true,
 *   admin: true, ticket: true, mapping: true, example: 'they/them',
 * }),
 */
export const ACCOUNT_FIELDS = {
  username: field({
    // Display spelling; uniqueness is checked on its NFKC case-folded form.
    schema: text(64),
    column: 'text',
    nullable: true,
    admin: true,
    ticket: true,
    mapping: true,
    unique: true,
    example: 'rob',
  }),
  email: field({
    schema: z.email('must be a valid email address').max(254),
    column: 'text',
    nullable: true,
    admin: true,
    ticket: true,
    mapping: true,
    unique: true,
    example: 'rob@example.com',
  }),
  email_verified: field({
    schema: z.boolean(),
    column: 'boolean',
    nullable: false,
    default: false,
    admin: true,
    ticket: true,
    mapping: true,
    example: true,
  }),
  nickname: field({
    schema: text(255),
    column: 'text',
    nullable: true,
    admin: true,
    ticket: true,
    mapping: true,
    example: 'Robbie',
  }),
  given_name: field({
    schema: text(255),
    column: 'text',
    nullable: true,
    admin: true,
    ticket: true,
    mapping: true,
    example: 'Rob',
  }),
  family_name: field({
    schema: text(255),
    column: 'text',
    nullable: true,
    admin: true,
    ticket: true,
    mapping: true,
    example: 'Example',
  }),
  picture: field({
    schema: picture,
    column: 'text',
    nullable: true,
    admin: true,
    ticket: true,
    mapping: true,
    example: 'https://cdn.example.com/rob.png',
  }),
  rank: field<Rank, false>({
    schema: z.enum(RANKS, `must be one of ${RANKS.join(', ')}`),
    column: 'text',
    nullable: false,
    default: 'regular',
    admin: true,
    ticket: true,
    mapping: true,
    example: 'moderator',
  }),
  title: field({
    schema: text(255),
    column: 'text',
    nullable: true,
    admin: true,
    ticket: true,
    mapping: true,
    example: 'Host',
  }),
  locale: field({
    schema: locale,
    column: 'text',
    nullable: true,
    admin: true,
    ticket: true,
    mapping: true,
    example: 'fr-CA',
  }),
  timezone: field({
    // IANA time zone name.
    schema: timezone,
    column: 'text',
    nullable: true,
    admin: true,
    ticket: true,
    mapping: true,
    example: 'Europe/Paris',
  }),
  profile: field<JsonObject, false>({
    schema: profile,
    column: 'json',
    nullable: false,
    default: {},
    admin: true,
    ticket: true,
    mapping: true,
    example: { names: { first: 'Rob' }, badges: ['early'] },
  }),
  status: field<AccountStatus, false>({
    schema: z.enum(ACCOUNT_STATUSES, `must be one of ${ACCOUNT_STATUSES.join(', ')}`),
    column: 'text',
    nullable: false,
    default: 'active',
    admin: true,
    ticket: false,
    mapping: true,
    example: 'active',
  }),
}

type Fields = typeof ACCOUNT_FIELDS

/** The name of an account data field. */
export type AccountFieldName = keyof Fields

/** What field `K` holds on an account: its schema's type, or null when it is nullable. */
export type AccountFieldValue<K extends AccountFieldName> =
  Fields[K] extends AccountFieldSpec<infer T, infer N> ? (N extends true ? T | null : T) : never

/** Every data field with its value, as an account holds them. */
export type AccountData = { [K in AccountFieldName]: AccountFieldValue<K> }

/** The names of the fields whose spec has `flag` set, in table order. */
function names(flag: 'admin' | 'ticket' | 'mapping' | 'unique'): AccountFieldName[] {
  return (Object.keys(ACCOUNT_FIELDS) as AccountFieldName[]).filter(
    (name) => (ACCOUNT_FIELDS[name] as AccountFieldSpec<unknown>)[flag] === true,
  )
}

/** Every data field, in column order. */
export const ACCOUNT_FIELD_NAMES = Object.keys(ACCOUNT_FIELDS) as readonly AccountFieldName[]
/** Fields the admin API, CLI and imports may write. */
export const ADMIN_FIELDS: readonly AccountFieldName[] = names('admin')
/** Fields a site ticket may carry. */
export const TICKET_FIELD_NAMES: readonly AccountFieldName[] = names('ticket')
/** Data fields a mapping may read. */
export const MAPPING_FIELD_NAMES: readonly AccountFieldName[] = names('mapping')
/** Unique fields (`username`, `email`): each has a `<name>_key` and a `desired_<name>` column. */
export const UNIQUE_FIELDS: readonly AccountFieldName[] = names('unique')

/** The spec of field `name`, seen without its value type (for code that walks the table). */
export function fieldSpec(name: AccountFieldName): AccountFieldSpec<unknown> {
  return ACCOUNT_FIELDS[name] as AccountFieldSpec<unknown>
}

/** How `column` of the accounts table is stored (`text` for every column not in the table). */
export function columnKind(column: string): ColumnKind {
  return Object.hasOwn(ACCOUNT_FIELDS, column)
    ? fieldSpec(column as AccountFieldName).column
    : 'text'
}

/**
 * The data fields of a write: each given value, else the field's default (null when nullable).
 * @example withDefaults({ username: 'rob' }) // { username: 'rob', email: null, rank: 'regular', … }
 */
export function withDefaults(given: {
  [K in AccountFieldName]?: AccountFieldValue<K>
}): AccountData {
  const out: Record<string, unknown> = {}
  for (const name of ACCOUNT_FIELD_NAMES) {
    const spec = fieldSpec(name)
    // A fresh copy of an object default (profile's {}): writes must not share one object.
    out[name] = given[name] ?? (spec.nullable ? null : structuredClone(spec.default))
  }
  return out as AccountData
}
