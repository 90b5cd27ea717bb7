/**
 * @module mapping/transforms
 * The closed set of value transforms a mapping may chain, parsed once when a mapping is
 * compiled. No transform evaluates code, reads anything but its input, or throws at map time.
 *
 * Rules every transform follows:
 *
 * - The value flowing through a chain is a JSON value, or `undefined` meaning "missing".
 * - A missing value stays missing; only `{ "default": x }` turns it back into a value.
 * - A value of the wrong type (a number into `lower`, a string into `join`) becomes missing,
 *   so a surprising account omits a key instead of breaking a sign-in.
 * - Results are JSON: never `NaN`, `Infinity`, a `Date` or `undefined` inside a value.
 *
 * | form                                  | input → output                                       |
 * | ------------------------------------- | ---------------------------------------------------- |
 * | `lower`, `upper`                      | string → string (locale-independent)                 |
 * | `trim`                                | string → string (Unicode white space, both ends)     |
 * | `truncate:N`                          | string → at most N code points (N ≥ 1); a surrogate pair is never split |
 * | `join:SEP` (`join` = `join:,`)        | array of strings/numbers/booleans → string; `null` elements are skipped; `join:` joins with "" |
 * | `split:SEP` (`split` = `split:,`)     | string → array of strings; "" → []; SEP must not be empty |
 * | `string`                              | string, number, boolean → string                     |
 * | `number`                              | number; decimal string (" 42 ", "-1.5e3"); true/false → 1/0; else missing |
 * | `boolean`                             | boolean; "true"/"yes"/"y"/"on"/"t"/"1" → true, "false"/"no"/"n"/"off"/"f"/"0" → false (any case, trimmed); 1/0; else missing |
 * | `unix`                                | ISO 8601 date or date-time string, or epoch milliseconds → whole seconds (floor) |
 * | `{ "map": {…}, "fallback"?: x }`      | string/number/boolean looked up by its string form; not found → `fallback`, or missing |
 * | `{ "default": x }`                    | missing → x; any value passes through                |
 *
 * `unix` reads a date-time without an offset as UTC, never as the server's local time, so the
 * result does not depend on where it runs. `map` and `fallback` do not apply to a missing value
 * (that is `default`'s job), so "no rank" and "an unknown rank" can be told apart.
 */
import type { JsonValue } from '../accounts/types.ts'
import { emitter, isJsonValue, isPlainObject } from './json.ts'
import { MappingSyntaxError } from './syntax-error.ts'

/** One step of a chain: a JSON value or `undefined` (missing) in, the same out. Never throws. */
export type TransformFn = (value: JsonValue | undefined) => JsonValue | undefined

/** A transform as written in a mapping. */
export type TransformSpec =
  string | { map: Record<string, JsonValue>; fallback?: JsonValue } | { default: JsonValue }

/** Names of the string-form transforms, for messages and documentation. */
export const TRANSFORM_NAMES = [
  'lower',
  'upper',
  'trim',
  'truncate:N',
  'join:SEP',
  'split:SEP',
  'string',
  'number',
  'boolean',
  'unix',
] as const

/** Longest `truncate:N`: far beyond any platform field, small enough to be obviously a length. */
export const MAX_TRUNCATE = 1_000_000
/** Most entries in one `map`: a role table, not a database. */
export const MAX_MAP_ENTRIES = 1000

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const TRUE_WORDS = new Set(['true', 'yes', 'y', 'on', 't', '1'])
const FALSE_WORDS = new Set(['false', 'no', 'n', 'off', 'f', '0'])

const lower: TransformFn = (v) => (typeof v === 'string' ? v.toLowerCase() : undefined)
const upper: TransformFn = (v) => (typeof v === 'string' ? v.toUpperCase() : undefined)
const trim: TransformFn = (v) => (typeof v === 'string' ? v.trim() : undefined)

const toString: TransformFn = (v) => {
  switch (typeof v) {
    case 'string':
      return v
    case 'number':
    case 'boolean':
      return String(v)
    default:
      return undefined
  }
}

const toNumber: TransformFn = (v) => {
  switch (typeof v) {
    case 'number':
      return v
    case 'boolean':
      return v ? 1 : 0
    case 'string': {
      // Number() alone would take "", "0x1f" and "Infinity"; only plain decimals are numbers here.
      const t = v.trim()
      if (!DECIMAL.test(t)) return undefined
      const n = Number(t)
      return Number.isFinite(n) ? n : undefined
    }
    default:
      return undefined
  }
}

const toBoolean: TransformFn = (v) => {
  switch (typeof v) {
    case 'boolean':
      return v
    case 'number':
      return v === 1 ? true : v === 0 ? false : undefined
    case 'string': {
      const t = v.trim().toLowerCase()
      return TRUE_WORDS.has(t) ? true : FALSE_WORDS.has(t) ? false : undefined
    }
    default:
      return undefined
  }
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** The number written by `count` ASCII digits at `at`, or -1. */
function digits(s: string, at: number, count: number): number {
  let n = 0
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1 // also NaN past the end
    n = n * 10 + c
  }
  return n
}

/**
 * Milliseconds since the epoch of an ISO 8601 calendar date or date-time, or `undefined`.
 *
 * Accepted: `YYYY-MM-DD`, optionally followed by `T`, `t` or one space and `hh:mm`, `hh:mm:ss`
 * or `hh:mm:ss.fff…` (any number of fraction digits, `.` or `,`), optionally followed by `Z`,
 * `z`, `±hh:mm` or `±hhmm`. No offset means UTC. Impossible dates (2023-02-29) are refused.
 * Hand-parsed with plain arithmetic, without `Date`: it runs once per sign-in per date field.
 */
export function parseIsoMillis(s: string): number | undefined {
  const n = s.length
  const y = digits(s, 0, 4)
  const mo = digits(s, 5, 2)
  const d = digits(s, 8, 2)
  if (
    n < 10 ||
    y < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45
  )
    return undefined
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
  if (d > (mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo - 1]!)) return undefined
  let ms = daysFromCivil(y, mo, d) * 86_400_000
  if (n === 10) return ms

  let i = 10
  const sep = s[i]
  if (sep !== 'T' && sep !== 't' && sep !== ' ') return undefined
  const h = digits(s, 11, 2)
  const mi = digits(s, 14, 2)
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s.charCodeAt(13) !== 58) return undefined
  ms += h * 3_600_000 + mi * 60_000
  i = 16
  if (s.charCodeAt(i) === 58) {
    const sec = digits(s, 17, 2)
    if (sec < 0 || sec > 59) return undefined
    ms += sec * 1000
    i = 19
    const dot = s[i]
    if (dot === '.' || dot === ',') {
      let f = 0
      let scale = 100
      i++
      const from = i
      for (let c = s.charCodeAt(i) - 48; c >= 0 && c <= 9; c = s.charCodeAt(++i) - 48) {
        f += c * scale
        scale /= 10
      }
      if (i === from) return undefined
      ms += Math.floor(f)
    }
  }
  if (i === n) return ms
  const z = s[i]
  if ((z === 'Z' || z === 'z') && i + 1 === n) return ms
  if (z !== '+' && z !== '-') return undefined
  const oh = digits(s, i + 1, 2)
  const colon = s.charCodeAt(i + 3) === 58 ? 1 : 0
  const om = digits(s, i + 3 + colon, 2)
  if (oh < 0 || oh > 23 || om < 0 || om > 59 || i + 5 + colon !== n) return undefined
  const offset = (oh * 60 + om) * 60_000
  return z === '+' ? ms - offset : ms + offset
}

const unix: TransformFn = (v) => {
  let ms: number | undefined
  if (typeof v === 'number') ms = v
  else if (typeof v === 'string') ms = parseIsoMillis(v.trim())
  if (ms === undefined || !Number.isFinite(ms)) return undefined
  return Math.floor(ms / 1000) + 0 // + 0 turns -0 into 0
}

/** The first `n` code points of `s`; a surrogate pair counts as one and is never cut in half. */
export function truncateCodePoints(s: string, n: number): string {
  // A UTF-16 length within n means at most n code points: the common case costs nothing.
  if (s.length <= n) return s
  let i = 0
  for (let count = 0; count < n && i < s.length; count++) {
    const c = s.charCodeAt(i)
    const pair =
      c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    i += pair ? 2 : 1
  }
  return s.slice(0, i)
}

function truncate(n: number): TransformFn {
  return (v) => (typeof v === 'string' ? truncateCodePoints(v, n) : undefined)
}

function join(sep: string): TransformFn {
  return (v) => {
    if (!Array.isArray(v)) return undefined
    let out = ''
    let first = true
    for (const e of v) {
      if (e === null) continue
      if (typeof e === 'object') return undefined
      out += first ? String(e) : sep + String(e)
      first = false
    }
    return out
  }
}

function split(sep: string): TransformFn {
  return (v) => (typeof v !== 'string' ? undefined : v === '' ? [] : v.split(sep))
}

function mapTransform(
  table: Map<string, () => JsonValue>,
  fallback: (() => JsonValue) | undefined,
): TransformFn {
  return (v) => {
    let key: string
    switch (typeof v) {
      case 'string':
        key = v
        break
      case 'number':
      case 'boolean':
        key = String(v)
        break
      default:
        return undefined
    }
    const hit = table.get(key)
    return hit ? hit() : fallback?.()
  }
}

function defaultTransform(value: JsonValue): TransformFn {
  const emit = emitter(value)
  return (v) => (v === undefined ? emit() : v)
}

function noArgument(name: string, arg: string | undefined, fn: TransformFn): TransformFn {
  if (arg !== undefined) throw new MappingSyntaxError(`"${name}" takes no argument`)
  return fn
}

function parseNamed(spec: string): TransformFn {
  const colon = spec.indexOf(':')
  const name = colon < 0 ? spec : spec.slice(0, colon)
  const arg = colon < 0 ? undefined : spec.slice(colon + 1)
  switch (name) {
    case 'lower':
      return noArgument(name, arg, lower)
    case 'upper':
      return noArgument(name, arg, upper)
    case 'trim':
      return noArgument(name, arg, trim)
    case 'string':
      return noArgument(name, arg, toString)
    case 'number':
      return noArgument(name, arg, toNumber)
    case 'boolean':
      return noArgument(name, arg, toBoolean)
    case 'unix':
      return noArgument(name, arg, unix)
    case 'truncate': {
      if (arg === undefined || !/^[1-9][0-9]*$/.test(arg) || Number(arg) > MAX_TRUNCATE) {
        throw new MappingSyntaxError(
          `"truncate" needs a whole number of code points from 1 to ${MAX_TRUNCATE}, e.g. "truncate:20"`,
        )
      }
      return truncate(Number(arg))
    }
    case 'join':
      return join(arg ?? ',')
    case 'split':
      if (arg === '')
        throw new MappingSyntaxError('"split" needs a non-empty separator, e.g. "split:,"')
      return split(arg ?? ',')
    case 'map':
    case 'default':
      throw new MappingSyntaxError(`"${name}" is written as an object, e.g. { "${name}": … }`)
    default:
      throw new MappingSyntaxError(
        `"${spec}" is not a known transform (known: ${TRANSFORM_NAMES.join(', ')}, { map }, { default })`,
      )
  }
}

function parseMap(spec: Record<string, unknown>): TransformFn {
  const extra = Object.keys(spec).filter((k) => k !== 'map' && k !== 'fallback')
  if (extra.length > 0)
    throw new MappingSyntaxError(
      `a { map } transform has unknown field "${extra[0]}" (allowed: map, fallback)`,
    )
  const map = spec.map
  if (!isPlainObject(map))
    throw new MappingSyntaxError('"map" must be an object of input value → output value')
  const entries = Object.entries(map)
  if (entries.length > MAX_MAP_ENTRIES)
    throw new MappingSyntaxError(`"map" has more than ${MAX_MAP_ENTRIES} entries`)
  // A Map, not the object itself: a lookup of "toString" or "__proto__" must not reach Object.prototype.
  const table = new Map<string, () => JsonValue>()
  for (const [k, v] of entries) {
    if (!isJsonValue(v)) throw new MappingSyntaxError(`"map" value for "${k}" is not a JSON value`)
    table.set(k, emitter(v))
  }
  let fallback: (() => JsonValue) | undefined
  if (Object.hasOwn(spec, 'fallback')) {
    if (!isJsonValue(spec.fallback)) throw new MappingSyntaxError('"fallback" is not a JSON value')
    fallback = emitter(spec.fallback)
  }
  return mapTransform(table, fallback)
}

/**
 * Parses one transform as written in a mapping into the function that runs it.
 *
 * @throws {MappingSyntaxError} naming what is wrong: an unknown name, a bad or unexpected
 *   argument, a malformed `{ map }` or `{ default }` object.
 * @example
 * compileTransform('truncate:3')('Robert')             // 'Rob'
 * compileTransform({ map: { owner: 'admin' } })('owner') // 'admin'
 */
export function compileTransform(spec: unknown): TransformFn {
  if (typeof spec === 'string') return parseNamed(spec)
  if (isPlainObject(spec)) {
    if (Object.hasOwn(spec, 'map')) return parseMap(spec)
    if (Object.hasOwn(spec, 'default')) {
      const extra = Object.keys(spec).filter((k) => k !== 'default')
      if (extra.length > 0)
        throw new MappingSyntaxError(`a { default } transform has unknown field "${extra[0]}"`)
      if (!isJsonValue(spec.default)) throw new MappingSyntaxError('"default" is not a JSON value')
      return defaultTransform(spec.default)
    }
    throw new MappingSyntaxError(
      'a transform object must be { "map": {…}, "fallback"?: … } or { "default": … }',
    )
  }
  throw new MappingSyntaxError(
    'a transform must be a name such as "lower" or "truncate:20", or a { map } / { default } object',
  )
}

/** Runs a chain left to right as one function (a single transform is returned as is). */
export function chain(fns: readonly TransformFn[]): TransformFn {
  if (fns.length === 1) return fns[0]!
  return (v) => {
    for (let i = 0; i < fns.length; i++) v = fns[i]!(v)
    return v
  }
}
