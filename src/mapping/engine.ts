/**
 * @module mapping/engine
 * Compiles a mapping (format: `rules.ts`) into a function from an account to the output
 * document. Everything is parsed and checked once, when an integration is saved or loaded;
 * `apply` only runs closures (no parsing, no lookups by name, no exceptions), which is what lets
 * a sign-in map an account in about a microsecond.
 *
 * How a mapping is compiled:
 *
 * 1. The given mapping is laid over the door's default mapping: a rule replaces the default rule
 *    of the same key in place, a new key is appended, `null` removes a default key.
 * 2. Each output key is parsed (`path.ts`) and each rule parsed (`rules.ts`); every problem is
 *    collected as `{ path: "mapping.<output key>", message }`.
 * 3. The keys are put into a tree of the output document; two keys that disagree about a place
 *    (`a` with `a.b`, `a.0` with `a.x`) are reported on the later key.
 * 4. If anything was wrong, `ValidationFailed` lists all of it. Otherwise each tree node becomes
 *    a closure: an object node assigns its present members in key order; an array node pushes
 *    its present elements in index order, which is what closes up holes; a node with nothing
 *    present is itself missing, so no empty container appears that no rule asked for.
 */
import type { Account, JsonObject, JsonValue } from '../accounts/types.ts'
import { ValidationFailed, type FieldIssue } from '../errors/index.ts'
import { copyJson, emitter, isPlainObject } from './json.ts'
import { formatLoose, parseKey, type Segment } from './path.ts'
import { MAX_RULES, parseRule, type Rule } from './rules.ts'
import { MappingSyntaxError } from './syntax-error.ts'
import { chain } from './transforms.ts'

/** A compiled mapping: check once, apply many times. */
export interface CompiledMapping {
  /** The effective output keys (defaults merged in), in document order, as written. */
  keys: string[]
  /**
   * Maps an account to its output document: JSON values only, a fresh object every call (it
   * shares nothing with the account or the mapping). Never throws.
   */
  apply(account: Account): JsonObject
}

/** Options of {@link compileMapping}. */
export interface CompileOptions {
  /** The door type's default mapping (same format), which the given mapping overrides or extends. */
  defaults?: Record<string, unknown>
}

type ValueFn = (account: Account) => JsonValue | undefined

interface Leaf {
  kind: 'leaf'
  key: string
  rule: Rule | undefined
}
interface Branch {
  kind: 'object' | 'array'
  /** The first key that went through this node: named in conflict messages. */
  key: string
  children: Map<Segment, Leaf | Branch>
}

/**
 * Merges, validates and compiles a mapping.
 *
 * @param mapping The integration's mapping: an object of output key → rule, or `null`/`undefined`
 *   for "the default mapping as is".
 * @param options.defaults The door type's default mapping.
 * @throws {ValidationFailed} listing every problem, each at `mapping.<output key>` (or at
 *   `mapping` when the mapping as a whole is unusable), with the reason.
 * @example
 * const m = compileMapping({ handle: { path: 'username', transforms: ['lower'] } }, { defaults: { sub: 'external_id' } })
 * m.keys                // ['sub', 'handle']
 * m.apply(account)      // { sub: 'u-1', handle: 'rob' }
 */
export function compileMapping(mapping: unknown, options: CompileOptions = {}): CompiledMapping {
  const fromDefault = new Set<string>()
  const merged = new Map<string, unknown>()
  for (const [key, spec] of Object.entries(options.defaults ?? {})) {
    if (spec === null || spec === undefined) continue
    merged.set(key, spec)
    fromDefault.add(key)
  }
  if (mapping !== null && mapping !== undefined) {
    if (!isPlainObject(mapping))
      throw new ValidationFailed([
        { path: 'mapping', message: 'must be an object of output key → source' },
      ])
    for (const [key, spec] of Object.entries(mapping)) {
      if (spec === null) {
        merged.delete(key)
        fromDefault.delete(key)
      } else {
        merged.set(key, spec) // an existing key keeps its place in the Map, so overrides stay in place
        fromDefault.delete(key)
      }
    }
  }
  if (merged.size > MAX_RULES)
    throw new ValidationFailed([{ path: 'mapping', message: `has more than ${MAX_RULES} keys` }])

  const issues: FieldIssue[] = []
  const where = (key: string) => (fromDefault.has(key) ? ' (in the default mapping)' : '')
  const named = (key: string) =>
    fromDefault.has(key) ? `default key "${key}" (set it to null to remove it)` : `key "${key}"`
  const root: Branch = { kind: 'object', key: '', children: new Map() }

  for (const [key, spec] of merged) {
    const report = (message: string) =>
      issues.push({ path: `mapping.${key}`, message: message + where(key) })
    let segments: Segment[] | undefined
    try {
      const parsed = parseKey(key)
      if (typeof parsed[0] === 'number')
        throw new MappingSyntaxError(
          'starts with an array index, but the output document is an object',
        )
      segments = parsed
    } catch (err) {
      if (!(err instanceof MappingSyntaxError)) throw err
      report(`output key ${err.message}`)
    }
    const parsed = parseRule(spec)
    if ('reasons' in parsed) for (const r of parsed.reasons) report(r)
    if (segments) {
      const conflict = insert(
        root,
        segments,
        { kind: 'leaf', key, rule: 'rule' in parsed ? parsed.rule : undefined },
        named,
      )
      if (conflict) report(conflict)
    }
  }
  if (issues.length > 0) throw new ValidationFailed(issues)

  const build = compileBranch(root)
  return {
    keys: [...merged.keys()],
    apply: (account) => (build(account) as JsonObject | undefined) ?? {},
  }
}

/** Puts a leaf into the tree; returns why it cannot go there, or `undefined`. */
function insert(
  root: Branch,
  segments: Segment[],
  leaf: Leaf,
  named: (key: string) => string,
): string | undefined {
  let node = root
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    const at = formatLoose(segments.slice(0, i))
    if ((typeof s === 'number') !== (node.kind === 'array')) {
      return node.kind === 'array'
        ? `conflicts with ${named(node.key)}: "${at}" is an array there, so it cannot have the name "${s}"`
        : `conflicts with ${named(node.key)}: "${at}" is an object there, so it cannot have the index ${s}`
    }
    const child = node.children.get(s)
    if (i === segments.length - 1) {
      if (child) {
        return child.kind === 'leaf'
          ? `conflicts with ${named(child.key)}: both write "${formatLoose(segments)}"`
          : `conflicts with ${named(child.key)}, which writes inside "${formatLoose(segments)}": a place cannot hold both a value and members`
      }
      node.children.set(s, leaf)
      return undefined
    }
    if (child?.kind === 'leaf') {
      return `conflicts with ${named(child.key)}: "${formatLoose(segments.slice(0, i + 1))}" is a value there, so it cannot hold members`
    }
    if (!child) {
      const next: Branch = {
        kind: typeof segments[i + 1] === 'number' ? 'array' : 'object',
        key: leaf.key,
        children: new Map(),
      }
      node.children.set(s, next)
      node = next
    } else {
      node = child
    }
  }
  return undefined
}

function compileNode(node: Leaf | Branch): ValueFn {
  if (node.kind !== 'leaf') return compileBranch(node)
  // Unreachable: a leaf without a rule means a reported issue, and issues stop compilation.
  if (!node.rule) throw new Error(`mapping key "${node.key}" has no compiled rule`)
  return compileRule(node.rule)
}

function compileBranch(node: Branch): ValueFn {
  if (node.kind === 'array') {
    // Index order, present elements only: holes close up instead of becoming null.
    const fns = [...node.children]
      .sort(([a], [b]) => (a as number) - (b as number))
      .map(([, c]) => compileNode(c))
    const n = fns.length
    return (account) => {
      let out: JsonValue[] | undefined
      for (let i = 0; i < n; i++) {
        const v = fns[i]!(account)
        if (v !== undefined) (out ??= []).push(v)
      }
      return out
    }
  }
  const names = [...node.children.keys()] as string[]
  const fns = [...node.children.values()].map(compileNode)
  const n = fns.length
  return (account) => {
    let out: JsonObject | undefined
    for (let i = 0; i < n; i++) {
      const v = fns[i]!(account)
      // Plain assignment is safe: parseKey refused __proto__, prototype and constructor.
      if (v !== undefined) (out ??= {})[names[i]!] = v
    }
    return out
  }
}

function compileRule(rule: Rule): ValueFn {
  const { source } = rule
  if (source.kind === 'const') return emitter(source.value)
  const read = source.kind === 'path' ? compileReader(source.path) : compileTemplate(source.parts)
  const t = rule.transforms.length > 0 ? chain(rule.transforms) : undefined
  const d = rule.default ? emitter(rule.default.value) : undefined
  if (t && d) {
    return (a) => {
      const v = t(read(a))
      return v === undefined ? d() : v
    }
  }
  if (t) return (a) => t(read(a))
  if (d) {
    return (a) => {
      const v = read(a)
      return v === undefined ? d() : v
    }
  }
  return read
}

/**
 * A value read from the account, as the rest of the chain sees it: `null` and anything that is
 * not JSON are missing; objects and arrays are copied without their nulls, so the output never
 * shares structure with the account.
 */
function fromAccount(v: unknown): JsonValue | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v
    case 'number':
      return Number.isFinite(v) ? v : undefined
    case 'object':
      return v === null ? undefined : copyJson(v, true)
    default:
      return undefined
  }
}

/** One step into a container, own members only (same rules as `getPath`). */
function step(cur: unknown, s: Segment): unknown {
  if (cur === null || typeof cur !== 'object') return undefined
  if (Array.isArray(cur)) return typeof s === 'number' && s < cur.length ? cur[s] : undefined
  const k = typeof s === 'number' ? String(s) : s
  return Object.hasOwn(cur, k) ? (cur as Record<string, unknown>)[k] : undefined
}

function compileReader(path: Segment[]): ValueFn {
  // The head is one of SOURCE_FIELDS (checked by parseSourcePath), none of which is an
  // Object.prototype member, so reading it directly cannot reach the prototype.
  const head = path[0] as string
  const rest = path.slice(1)
  if (rest.length === 0) return (a) => fromAccount((a as unknown as Record<string, unknown>)[head])
  if (rest.length === 1) {
    const s0 = rest[0]!
    return (a) => fromAccount(step((a as unknown as Record<string, unknown>)[head], s0))
  }
  if (rest.length === 2) {
    const s0 = rest[0]!
    const s1 = rest[1]!
    return (a) => fromAccount(step(step((a as unknown as Record<string, unknown>)[head], s0), s1))
  }
  return (a) => {
    let cur: unknown = (a as unknown as Record<string, unknown>)[head]
    for (let i = 0; i < rest.length && cur !== undefined; i++) cur = step(cur, rest[i]!)
    return fromAccount(cur)
  }
}

function compileTemplate(parts: ({ text: string } | { path: Segment[] })[]): ValueFn {
  const pieces: (string | ValueFn)[] = parts.map((p) =>
    'text' in p ? p.text : compileReader(p.path),
  )
  return (a) => {
    let out = ''
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!
      if (typeof p === 'string') {
        out += p
        continue
      }
      const v = p(a)
      // One missing placeholder makes the whole value missing: "Robert undefined" is never written.
      if (typeof v === 'string') out += v
      else if (typeof v === 'number' || typeof v === 'boolean') out += String(v)
      else return undefined
    }
    return out
  }
}
