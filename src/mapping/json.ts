/**
 * @module mapping/json
 * JSON checks and copies for the engine. A mapping's output must hold JSON values only (no
 * `undefined`, `NaN`, `Date`, functions), and must never share objects with the account or with
 * the compiled mapping, so a caller that edits one output cannot change the next.
 */
import type { JsonValue } from '../accounts/types.ts'

/** Deeper than any real profile; stops a cyclic object (never JSON) from blowing the stack. */
const MAX_JSON_DEPTH = 64

/** A plain object: `{}` literal, `JSON.parse` output or `Object.create(null)`; not a Date, Map… */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Whether `value` is a JSON value all the way down (finite numbers, plain objects, no cycles). */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (depth > MAX_JSON_DEPTH) return false
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object':
      if (value === null) return true
      if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1))
      return isPlainObject(value) && Object.values(value).every((v) => isJsonValue(v, depth + 1))
    default:
      return false
  }
}

/**
 * A fresh deep copy holding JSON values only. What is not JSON (`undefined`, `NaN`, a `Date`, a
 * function) is left out: dropped from objects, removed from arrays (which close up, as the
 * engine does for holes). With `dropNull`, `null` is left out the same way: that is how a value
 * read from the account is copied, since the engine writes `null` only where a mapping asks.
 *
 * @returns the copy, or `undefined` when `value` itself is left out.
 */
export function copyJson(value: unknown, dropNull: boolean, depth = 0): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : undefined
    case 'object': {
      if (value === null) return dropNull ? undefined : null
      if (depth >= MAX_JSON_DEPTH) return undefined
      if (Array.isArray(value)) {
        const out: JsonValue[] = []
        for (const v of value) {
          const c = copyJson(v, dropNull, depth + 1)
          if (c !== undefined) out.push(c)
        }
        return out
      }
      if (!isPlainObject(value)) return undefined
      const out: Record<string, JsonValue> = {}
      for (const k of Object.keys(value)) {
        const c = copyJson(value[k], dropNull, depth + 1)
        if (c === undefined) continue
        // JSON.parse makes "__proto__" an own key; plain assignment would set the prototype.
        if (k === '__proto__')
          Object.defineProperty(out, k, {
            value: c,
            enumerable: true,
            writable: true,
            configurable: true,
          })
        else out[k] = c
      }
      return out
    }
    default:
      return undefined
  }
}

/**
 * A function that yields `value` each time: the value itself when it is a primitive, a fresh
 * copy when it is an object or array (so no two outputs share it). `null` is kept: a constant
 * `null` in a mapping is asked for.
 */
export function emitter(value: JsonValue): () => JsonValue {
  if (value === null || typeof value !== 'object') return () => value
  return () => copyJson(value, false) as JsonValue
}
