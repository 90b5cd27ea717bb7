/**
 * @module mapping/path
 * Dotted paths, the one grammar used both for output keys (`names.nicknames.0`) and for source
 * paths into an account (`profile.names.first`). It is the grammar of the platforms' own "unique
 * user key" fields (Minnit, `../shared/platforms/minnit-sso.txt` "Targeting nested JSON and
 * array values"), plus an escape so a name may contain a dot.
 *
 * Grammar (the rules {@link parseKey} enforces, in the order it checks them):
 *
 * - Segments are separated by `.`. Inside a segment `\.` is a literal dot and `\\` a literal
 *   backslash; any other backslash (including a trailing one) is an error, so every segment list
 *   has exactly one spelling and {@link formatPath} is the exact inverse of {@link parseKey}.
 * - No segment is empty (`a..b`, `.a`, `a.` are refused): a platform could not target it.
 * - A segment of digits only is an array index (a number): canonical (`0`, `7`, `12`, never
 *   `01`) and at most {@link MAX_INDEX} unless the caller allows more (source paths do). Indices
 *   count from 0, as in Minnit's doc. A name made of digits only therefore cannot be written;
 *   that is the price of the platforms' grammar, which has no way to tell them apart either.
 * - `__proto__`, `prototype` and `constructor` are refused as names anywhere: a path is used to
 *   build and read plain objects, and these are the names that reach `Object.prototype`.
 * - At most {@link MAX_DEPTH} segments.
 */
import type { JsonObject, JsonValue } from '../accounts/types.ts'
import { MappingSyntaxError } from './syntax-error.ts'

/** A name in an object, or an index into an array. */
export type Segment = string | number

/** Highest array index an output key may use: keeps one key from allocating a huge array. */
export const MAX_INDEX = 999

/** Most segments in one path; real documents are a few levels deep. */
export const MAX_DEPTH = 32

/** Names that reach `Object.prototype` through plain-object property access. */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  '__proto__',
  'prototype',
  'constructor',
])

const DIGITS = /^[0-9]+$/

/** Options of {@link parseKey}. */
export interface ParseKeyOptions {
  /** Highest array index accepted (default {@link MAX_INDEX}). */
  maxIndex?: number
}

/**
 * Parses a dotted key or source path into segments: names (strings) and array indices (numbers).
 *
 * @param key The key as written in the mapping, e.g. `names.nicknames.0` or `a\.b`.
 * @throws {MappingSyntaxError} with the reason when the key breaks a rule of the grammar (see the
 *   module doc).
 * @example
 * parseKey('names.nicknames.0') // ['names', 'nicknames', 0]
 * parseKey('a\\.b.c')           // ['a.b', 'c']   (the key as typed: a\.b.c)
 */
export function parseKey(key: string, options: ParseKeyOptions = {}): Segment[] {
  const maxIndex = options.maxIndex ?? MAX_INDEX
  if (typeof key !== 'string') throw new MappingSyntaxError('must be a string')
  if (key === '') throw new MappingSyntaxError('is empty')
  const raw: { text: string; escaped: boolean }[] = []
  let text = ''
  let escaped = false
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!
    if (c === '\\') {
      const next = key[i + 1]
      if (next === undefined)
        throw new MappingSyntaxError(
          'ends with a lone backslash (write "\\\\" for a literal backslash)',
        )
      if (next !== '.' && next !== '\\') {
        throw new MappingSyntaxError(
          `has an unknown escape "\\${next}" (only "\\." and "\\\\" are allowed)`,
        )
      }
      text += next
      escaped = true
      i++
    } else if (c === '.') {
      raw.push({ text, escaped })
      text = ''
      escaped = false
    } else {
      text += c
    }
  }
  raw.push({ text, escaped })
  if (raw.length > MAX_DEPTH) throw new MappingSyntaxError(`has more than ${MAX_DEPTH} segments`)

  return raw.map(({ text: s, escaped: hadEscape }) => {
    if (s === '')
      throw new MappingSyntaxError('has an empty segment (a leading, trailing or doubled ".")')
    // An escape always yields "." or "\", so an escaped segment is never all digits.
    if (!hadEscape && DIGITS.test(s)) {
      if (s.length > 1 && s[0] === '0')
        throw new MappingSyntaxError(`has array index "${s}" with a leading zero`)
      const n = Number(s)
      if (n > maxIndex)
        throw new MappingSyntaxError(`has array index ${s}, above the maximum ${maxIndex}`)
      return n
    }
    if (FORBIDDEN_NAMES.has(s))
      throw new MappingSyntaxError(
        `uses the name "${s}", which is not allowed (prototype pollution)`,
      )
    return s
  })
}

/** Escapes one name for a dotted path: `\` → `\\`, `.` → `\.`. No other check. */
export function escapeName(name: string): string {
  return name.replaceAll('\\', '\\\\').replaceAll('.', '\\.')
}

/**
 * Writes segments as a dotted key: the exact inverse of {@link parseKey}
 * (`parseKey(formatPath(s))` deep-equals `s` for every `s` it accepts).
 *
 * @throws {MappingSyntaxError} for what the grammar cannot spell: an empty list, an empty name, a
 *   name of digits only (it would read back as an index), a forbidden name, or an index that is
 *   not a non-negative safe integer.
 * @example formatPath(['a.b', 'list', 0]) // 'a\\.b.list.0'  (as typed: a\.b.list.0)
 */
export function formatPath(segments: readonly Segment[]): string {
  if (segments.length === 0) throw new MappingSyntaxError('has no segments')
  return segments
    .map((s) => {
      if (typeof s === 'number') {
        if (!Number.isSafeInteger(s) || s < 0)
          throw new MappingSyntaxError(`has index ${s}, which is not a non-negative integer`)
        return String(s)
      }
      if (s === '') throw new MappingSyntaxError('has an empty name')
      if (DIGITS.test(s))
        throw new MappingSyntaxError(`has the name "${s}", which would read back as an array index`)
      if (FORBIDDEN_NAMES.has(s))
        throw new MappingSyntaxError(
          `uses the name "${s}", which is not allowed (prototype pollution)`,
        )
      return escapeName(s)
    })
    .join('.')
}

/**
 * Reads the value at `segments` in `value`, or `undefined` when the path leaves the document.
 *
 * Only own properties are read, so `profile.toString` is missing rather than a function from
 * `Object.prototype`. A name on an array is missing (no `tags.length`); an index on an object
 * reads the key spelled as that number, since PHP and other sites serialize sparse arrays as
 * objects with numeric keys.
 */
export function getPath(value: unknown, segments: readonly Segment[]): unknown {
  let cur = value
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined
    if (Array.isArray(cur)) {
      if (typeof s !== 'number' || s >= cur.length) return undefined
      cur = cur[s]
    } else {
      const k = typeof s === 'number' ? String(s) : s
      if (!Object.hasOwn(cur, k)) return undefined
      cur = (cur as Record<string, unknown>)[k]
    }
  }
  return cur
}

/**
 * Writes `value` at `segments` inside `target`, creating what is missing on the way: an array
 * when the next segment is an index, a plain object when it is a name. Writing past the end of
 * an array leaves holes (the engine compacts them; see `engine.ts`).
 *
 * @throws {MappingSyntaxError} when a forbidden name is used, an index is not a non-negative
 *   integer, or the way is blocked by a value of the other kind (an index into an object, a name
 *   into an array, anything into a string).
 */
export function setPath(
  target: JsonObject | JsonValue[],
  segments: readonly Segment[],
  value: JsonValue,
): void {
  if (segments.length === 0) throw new MappingSyntaxError('has no segments')
  let cur: JsonObject | JsonValue[] = target
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    const last = i === segments.length - 1
    const next = segments[i + 1]
    if (typeof s === 'number') {
      if (!Number.isSafeInteger(s) || s < 0)
        throw new MappingSyntaxError(`has index ${s}, which is not a non-negative integer`)
      if (!Array.isArray(cur)) throw new MappingSyntaxError(`uses index ${s} into an object`)
      if (last) {
        cur[s] = value
        return
      }
      if (cur[s] === undefined) cur[s] = typeof next === 'number' ? [] : {}
      cur = cur[s] as JsonObject | JsonValue[]
    } else {
      if (FORBIDDEN_NAMES.has(s))
        throw new MappingSyntaxError(
          `uses the name "${s}", which is not allowed (prototype pollution)`,
        )
      if (Array.isArray(cur)) throw new MappingSyntaxError(`uses name "${s}" into an array`)
      if (last) {
        cur[s] = value
        return
      }
      if (!Object.hasOwn(cur, s)) cur[s] = typeof next === 'number' ? [] : {}
      cur = cur[s] as JsonObject | JsonValue[]
    }
    if (cur === null || typeof cur !== 'object') {
      throw new MappingSyntaxError(
        `is blocked at "${formatLoose(segments.slice(0, i + 1))}" by a value that is not an object or array`,
      )
    }
  }
}

/** Like {@link formatPath} but never throws: for messages and for listing arbitrary documents. */
export function formatLoose(segments: readonly Segment[]): string {
  return segments.map((s) => (typeof s === 'number' ? String(s) : escapeName(s))).join('.')
}
