/**
 * @module store/account-search
 * The SQL condition of a prefix search over a unique account column, shared by SQLite and
 * PostgreSQL (both compare these columns bytewise: SQLite BINARY, PostgreSQL COLLATE "C"), so
 * the search is a range scan of the column's unique index, never a table scan.
 */
import type { AccountSearch, AccountSearchField } from './ports.ts'

const COLUMNS: readonly AccountSearchField[] = ['username_key', 'email_key', 'external_id']

/**
 * The half-open range `[prefix, prefix + U+10FFFF)`: every value starting with `prefix` (U+10FFFF
 * is the last code point, a noncharacter no stored value carries), in index order.
 */
export const prefixRange = (prefix: string): [string, string] => [prefix, `${prefix}\u{10FFFF}`]

/**
 * `WHERE` text and parameters of a search; `p(n)` writes the n-th placeholder (`?` or `$n`).
 * @throws {TypeError} a column that is not one of the searchable ones (never from user input)
 */
export function searchCondition(
  search: AccountSearch,
  p: (n: number) => string,
): { where: string; params: string[] } {
  const params: string[] = []
  const next = (v: string) => {
    params.push(v)
    return p(params.length)
  }
  const col = (c: AccountSearchField) => {
    if (!COLUMNS.includes(c)) throw new TypeError(`not a searchable column: ${c}`)
    return c
  }
  const [from, to] = prefixRange(search.prefix)
  const parts = [`${col(search.field)} >= ${next(from)}`, `${search.field} < ${next(to)}`]
  if (search.after) parts.push(`${search.field} > ${next(search.after)}`)
  for (const x of search.exclude ?? []) {
    const [a, b] = prefixRange(x.prefix)
    // A NULL column is not in the range: kept (NOT NULL would drop it).
    parts.push(`NOT COALESCE(${col(x.field)} >= ${next(a)} AND ${x.field} < ${next(b)}, FALSE)`)
  }
  return { where: parts.join(' AND '), params }
}
