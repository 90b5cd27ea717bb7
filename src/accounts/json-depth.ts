/**
 * @module accounts/json-depth
 * How deep the JSON sso-bridge reads may nest, checked before anything recurses through it.
 *
 * `JSON.parse` itself copes with 10,000 nested arrays, but what comes after does not: zod's
 * `z.json()`, the path lister and the mapping engine all recurse, and overflowed the stack (a
 * `RangeError`, answered 500). So every JSON text from outside (request bodies, NDJSON lines,
 * JSON-array import elements, a CSV `profile` cell) is scanned first with {@link jsonTextTooDeep},
 * which costs one pass over the characters and no allocation, and a value that arrives already
 * parsed (the CLI, the service API) is measured without recursion by {@link jsonValueTooDeep}.
 */

/**
 * The most arrays and objects a JSON document may nest, the outermost counting as one. A real
 * account or mapping document is a handful of levels deep; 64 leaves ample room and keeps every
 * recursive walk far from the stack's limit.
 */
export const MAX_JSON_DEPTH = 64

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d

/**
 * Whether the JSON text `text` opens more than `max` arrays/objects at once. Counts `[` and `{`
 * outside strings (a backslash escapes the next character inside a string), so it needs no
 * valid JSON: malformed text that is shallow passes here and fails in `JSON.parse` as usual.
 * @example jsonTextTooDeep('[[1]]', 1) // true
 */
export function jsonTextTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  // Fewer opening characters than the limit cannot exceed it: most bodies end here.
  if (text.length <= max) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) inString = true
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--
  }
  return false
}

/**
 * Whether the value `value` nests more than `max` arrays/objects, measured with an explicit
 * stack (no recursion, so a value of any depth is measured safely). Every array and plain or
 * other object counts as a level; a cycle counts as too deep.
 */
export function jsonValueTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (depth > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
    }
  }
  return false
}
