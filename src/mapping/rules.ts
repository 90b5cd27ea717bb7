/**
 * @module mapping/rules
 * The mapping JSON format, and the parser that turns one rule of it into a checked {@link Rule}.
 *
 * An integration's `mapping` declares its output document: output key → source.
 *
 * ```jsonc
 * {
 *   "sub": "external_id",                                   // string = path into the account
 *   "names.nicknames.0": "nickname",
 *   "names.full_name": { "template": "{given_name} {family_name}" },   // template: {path} placeholders; a missing placeholder value → the whole value is missing (unless default)
 *   "role": { "path": "rank", "transforms": [{ "map": { "owner": "admin", "moderator": "mod" }, "fallback": "user" }] },
 *   "handle": { "path": "username", "transforms": ["lower", "trim", "truncate:20"] },
 *   "tags": { "path": "profile.tags", "transforms": ["join:,"] },
 *   "platform": { "const": "sso-bridge" },                  // any JSON constant
 *   "verified": { "path": "email_verified", "transforms": ["string"] },
 *   "updated": { "path": "updated_at", "transforms": ["unix"] },   // ISO date string (or ms number) → integer seconds
 *   "email": { "path": "email", "default": null },          // default used when the value is missing; `null` here is "asked for", so null is written
 *   "a\\.b": "username"                                      // JSON "a\\.b" = key a\.b = one output key named "a.b"
 * }
 * ```
 *
 * Output keys (grammar in `path.ts`):
 * - Dotted; each segment names an object member. A segment of digits only (canonical: `0`,
 *   `12`, never `01`; at most 999) is an array index, counted from 0 as in Minnit's doc:
 *   `names.nicknames.0` and `names.nicknames.1` build `{"names":{"nicknames":["Rob","Robbie"]}}`.
 * - `\.` is a literal dot and `\\` a literal backslash inside a name (in JSON text: `"a\\.b"`).
 * - Refused when compiled: an empty segment, a trailing or unknown backslash escape, an index
 *   with a leading zero or above 999, an index as the first segment (the document is an
 *   object), the names `__proto__`, `prototype` and `constructor`, and two keys that disagree
 *   about a place in the document: `a` with `a.b` (a value cannot also hold members), or `a.0`
 *   with `a.x` (an array cannot also have names).
 *
 * Sources (one per rule):
 * - `"path"` (or the bare string): a dotted path into the account in the same grammar, whose
 *   first segment is one of {@link SOURCE_FIELDS} (`username`, `profile.names.first`,
 *   `profile.tags.0`). A path that leaves the account, or reaches `null`, is missing. An object or
 *   array it reaches is copied, without the `null`s inside it.
 * - `"template"`: text with `{path}` placeholders (`{{`/`}}` are literal braces). Placeholders take
 *   strings, numbers and booleans; if any placeholder is missing, or is an object or array, the
 *   whole value is missing.
 * - `"const"`: any JSON value, `null` included, written as is.
 *
 * Then `"transforms"` (a chain, left to right; the closed set in `transforms.ts`) and `"default"`
 * (used when the value is still missing after the chain). A `const` takes neither.
 *
 * Missing values and `null`:
 * - A missing value omits its key. An object or array that ends up with no members because all
 *   its keys were missing is omitted too, so no `{}` or `[]` appears that no rule asked for.
 * - `null` is written only when a mapping asks for it: a `const`, `default`, `map` value or
 *   `fallback` that is `null`. Nothing else writes `null`, and nothing writes `undefined`.
 * - Holes close up: when `names.nicknames.1` has a value and `names.nicknames.0` is missing,
 *   the output is `"nicknames": ["Robbie"]`, never `[null, "Robbie"]`. Array elements keep the
 *   order of their indices.
 *
 * Defaults: each door type has a default mapping for its platform's documented fields. The
 * integration's mapping is laid over it key by key: a key with a rule replaces the default rule
 * (keeping the default's place in the document), a new key extends it (after the defaults), and a
 * key set to `null` removes a default key (or does nothing if there is none).
 *
 * Mapped strings are data, never markup: nothing here escapes or interprets `<`, `&` or `]]>`.
 * Escaping belongs to the layer that writes JSON, XML or HTML.
 */
import { MAPPING_FIELD_NAMES, type AccountFieldName, type JsonValue } from '../accounts/types.ts'
import { isJsonValue, isPlainObject } from './json.ts'
import { parseKey, type Segment } from './path.ts'
import { MappingSyntaxError } from './syntax-error.ts'
import { parseTemplate } from './template.ts'
import { compileTransform, type TransformFn, type TransformSpec } from './transforms.ts'

/**
 * Account fields a source path may start with: the bookkeeping fields, and every data field the
 * field table (store/account-fields.ts) marks `mapping`. `has_password` is left out on purpose:
 * whether a member has a password is the bridge's business, not something to hand to a chat
 * platform.
 */
export const SOURCE_FIELDS: readonly SourceField[] = [
  'id',
  'external_id',
  ...MAPPING_FIELD_NAMES,
  'created_at',
  'updated_at',
]

/** A field name a source path may start with. */
export type SourceField = 'id' | 'external_id' | AccountFieldName | 'created_at' | 'updated_at'

const SOURCE_FIELD_SET: ReadonlySet<string> = new Set(SOURCE_FIELDS)

/** Most rules in one mapping (defaults included). */
export const MAX_RULES = 256
/** Most transforms in one chain. */
export const MAX_TRANSFORMS = 16

/** A rule as written in a mapping. */
export type RuleSpec =
  | string
  | { path: string; transforms?: TransformSpec[]; default?: JsonValue }
  | { template: string; transforms?: TransformSpec[]; default?: JsonValue }
  | { const: JsonValue }

/** A mapping as written: output key → rule; `null` removes a default key. */
export type MappingSpec = Record<string, RuleSpec | null>

/** Where a rule's value comes from, parsed. */
export type Source =
  | { kind: 'path'; path: Segment[] }
  | { kind: 'template'; parts: ({ text: string } | { path: Segment[] })[] }
  | { kind: 'const'; value: JsonValue }

/** One checked rule. */
export interface Rule {
  source: Source
  transforms: TransformFn[]
  /** Present when the rule has a `default` (which may be `null`). */
  default?: { value: JsonValue }
}

/**
 * Parses a source path and checks that it starts at an account field.
 *
 * @throws {MappingSyntaxError} naming the path and what is wrong with it.
 */
export function parseSourcePath(text: string): Segment[] {
  let segments: Segment[]
  try {
    // Reading does not allocate, so any index may be read; output keys keep the 999 limit.
    segments = parseKey(text, { maxIndex: Number.MAX_SAFE_INTEGER })
  } catch (err) {
    if (err instanceof MappingSyntaxError)
      throw new MappingSyntaxError(`source path "${text}" ${err.message}`)
    throw err
  }
  const head = segments[0]
  if (typeof head !== 'string' || !SOURCE_FIELD_SET.has(head)) {
    const hint = text.includes('{') ? ' (write a template as { "template": "…" })' : ''
    throw new MappingSyntaxError(
      `source path "${text}": "${String(head)}" is not an account field (known: ${SOURCE_FIELDS.join(', ')})${hint}`,
    )
  }
  return segments
}

const OBJECT_FIELDS = new Set(['path', 'template', 'const', 'transforms', 'default'])

/**
 * Parses one rule (the value of an output key). Returns every problem found, not only the first,
 * so a refused mapping can be fixed in one go.
 */
export function parseRule(spec: unknown): { rule: Rule } | { reasons: string[] } {
  const reasons: string[] = []
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn()
    } catch (err) {
      if (!(err instanceof MappingSyntaxError)) throw err
      reasons.push(err.message)
      return undefined
    }
  }

  if (typeof spec === 'string') {
    const path = attempt(() => parseSourcePath(spec))
    return path ? { rule: { source: { kind: 'path', path }, transforms: [] } } : { reasons }
  }
  if (!isPlainObject(spec)) {
    return {
      reasons: ['must be a source path string, or an object with "path", "template" or "const"'],
    }
  }

  for (const k of Object.keys(spec))
    if (!OBJECT_FIELDS.has(k))
      reasons.push(`has unknown field "${k}" (allowed: path, template, const, transforms, default)`)
  const kinds = (['path', 'template', 'const'] as const).filter((k) => Object.hasOwn(spec, k))
  if (kinds.length !== 1) {
    reasons.push(
      kinds.length === 0
        ? 'needs one of "path", "template" or "const"'
        : `has both ${kinds.map((k) => `"${k}"`).join(' and ')}: use exactly one`,
    )
    return { reasons }
  }

  let source: Source | undefined
  const kind = kinds[0]!
  if (kind === 'const') {
    if (Object.hasOwn(spec, 'transforms') || Object.hasOwn(spec, 'default'))
      reasons.push('a "const" takes no "transforms" or "default"')
    if (!isJsonValue(spec.const)) reasons.push('"const" is not a JSON value')
    else source = { kind: 'const', value: spec.const }
  } else if (kind === 'path') {
    if (typeof spec.path !== 'string') reasons.push('"path" must be a string')
    else {
      const text = spec.path
      const path = attempt(() => parseSourcePath(text))
      if (path) source = { kind: 'path', path }
    }
  } else {
    if (typeof spec.template !== 'string') reasons.push('"template" must be a string')
    else {
      const text = spec.template
      const parts = attempt(() => parseTemplate(text))
      if (parts) {
        const parsed: ({ text: string } | { path: Segment[] })[] = []
        for (const p of parts) {
          if ('text' in p) parsed.push(p)
          else {
            const path = attempt(() => parseSourcePath(p.path))
            if (path) parsed.push({ path })
          }
        }
        if (parsed.length === parts.length) source = { kind: 'template', parts: parsed }
      }
    }
  }

  const transforms: TransformFn[] = []
  if (Object.hasOwn(spec, 'transforms') && kind !== 'const') {
    const list = spec.transforms
    if (!Array.isArray(list)) reasons.push('"transforms" must be an array')
    else if (list.length > MAX_TRANSFORMS)
      reasons.push(`"transforms" has more than ${MAX_TRANSFORMS} entries`)
    else {
      list.forEach((t, i) => {
        const fn = attempt(() => {
          try {
            return compileTransform(t)
          } catch (err) {
            if (err instanceof MappingSyntaxError)
              throw new MappingSyntaxError(`transforms[${i}]: ${err.message}`)
            throw err
          }
        })
        if (fn) transforms.push(fn)
      })
    }
  }

  let dflt: { value: JsonValue } | undefined
  if (Object.hasOwn(spec, 'default') && kind !== 'const') {
    if (!isJsonValue(spec.default)) reasons.push('"default" is not a JSON value')
    else dflt = { value: spec.default }
  }

  if (reasons.length > 0 || !source) return { reasons }
  return { rule: dflt ? { source, transforms, default: dflt } : { source, transforms } }
}
