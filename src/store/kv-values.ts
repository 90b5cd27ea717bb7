/**
 * @module store/kv-values
 * Argument checks both KV stores apply before writing, so SQLite and PostgreSQL refuse the same
 * inputs with the same TypeErrors (the contract suite holds them to it).
 */

/** The value as JSON text. @throws {TypeError} when it is not a JSON object */
export function toJson(value: Record<string, unknown>): string {
  const json =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? JSON.stringify(value)
      : undefined
  if (json === undefined || !json.startsWith('{'))
    throw new TypeError('a KV value must be a JSON object')
  return json
}

/** Epoch ms at which an entry set now with `ttlMs` expires; null without a TTL. */
export function expiry(ttlMs: number | undefined, now: number): number | null {
  if (ttlMs === undefined) return null
  const at = typeof ttlMs === 'number' ? Math.ceil(now + ttlMs) : Number.NaN
  if (!Number.isSafeInteger(at))
    throw new TypeError(`a KV TTL must be a finite number of milliseconds, not ${String(ttlMs)}`)
  return at
}

/**
 * A KV write's secondary indexes as entries. Used by both KV stores only (not outside store/).
 * @throws {TypeError} when an index value is not a string
 */
export function indexEntries(indexes: Record<string, string> | undefined): [string, string][] {
  const entries = Object.entries(indexes ?? {})
  for (const [name, value] of entries) {
    if (typeof value !== 'string')
      throw new TypeError(`KV index ${name} must be a string, not ${typeof value}`)
  }
  return entries
}
