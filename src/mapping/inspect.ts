/**
 * @module mapping/inspect
 * Lists every leaf of a document with the dotted path a platform's "unique user key" or
 * "username key" field takes (Minnit, `../shared/platforms/minnit-sso.txt` "Targeting nested
 * JSON and array values"). An admin sees what to type into the platform for the document an
 * integration's mapping produces.
 */
import type { JsonValue } from '../accounts/types.ts'
import { isPlainObject } from './json.ts'
import { escapeName } from './path.ts'

/** One leaf of a document: its dotted path and its value. */
export interface PathEntry {
  path: string
  value: JsonValue
}

/**
 * Every leaf of `doc` with its path, in document order (object members in their order, array
 * elements by index).
 *
 * - A leaf is a string, number, boolean or `null`, or an empty object or array (listed with the
 *   value `{}` or `[]`, so nothing in the document goes unlisted).
 * - A name containing `.` or `\` is escaped (`\.`, `\\`) so the path reads back with `parseKey`.
 * - Names that the key grammar cannot spell are still listed, written plainly, as a platform
 *   would read them: a name of digits only (`scores.2024`; it would read back as an array
 *   index), an empty name (an empty segment), `__proto__` and friends. Such paths do not
 *   round-trip through `parseKey`.
 * - What JSON cannot hold (`undefined`, functions, `NaN`, a `Date`) is skipped, as is a cycle.
 * - A `doc` that is not an object or array has no paths: `[]`.
 *
 * @example
 * listPaths({ id: 123, names: { nicknames: ['Rob', 'Robbie'] } })
 * // [{ path: 'id', value: 123 }, { path: 'names.nicknames.0', value: 'Rob' },
 * //  { path: 'names.nicknames.1', value: 'Robbie' }]
 */
export function listPaths(doc: unknown): PathEntry[] {
  const out: PathEntry[] = []
  const ancestors = new Set<object>()

  function walk(value: unknown, path: string): void {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        out.push({ path, value })
        return
      case 'number':
        if (Number.isFinite(value)) out.push({ path, value })
        return
      case 'object':
        break
      default:
        return
    }
    if (value === null) {
      out.push({ path, value: null })
      return
    }
    if (ancestors.has(value)) return
    const prefix = path === '' ? '' : `${path}.`
    if (Array.isArray(value)) {
      if (value.length === 0) {
        out.push({ path, value: [] })
        return
      }
      ancestors.add(value)
      value.forEach((v, i) => walk(v, `${prefix}${i}`))
      ancestors.delete(value)
      return
    }
    if (!isPlainObject(value)) return
    const keys = Object.keys(value)
    if (keys.length === 0) {
      out.push({ path, value: {} })
      return
    }
    ancestors.add(value)
    for (const k of keys) walk(value[k], prefix + escapeName(k))
    ancestors.delete(value)
  }

  if (doc === null || typeof doc !== 'object') return []
  // An empty document at the root is not a leaf a platform could name.
  if (Array.isArray(doc) ? doc.length === 0 : Object.keys(doc).length === 0) return []
  walk(doc, '')
  return out
}
