/**
 * @module accounts/normalize
 * Comparison keys for the unique identifiers. Display spellings are kept as given; only these
 * keys are compared and indexed.
 */

/**
 * Username comparison key: Unicode NFKC, then full case folding.
 *
 * JavaScript has no `casefold()`. Upper-then-lower reaches the full folding for the cases that
 * matter in names (`ß` → `ss`, `ﬁ` → `fi` already by NFKC, Greek and Cyrillic cases); the final
 * sigma is folded to `σ` by hand because `toLowerCase` applies the word-final rule. A last NFKC
 * keeps the key in normal form after case mapping (Unicode's NFKC_Casefold does the same).
 * @example usernameKey('Ｒｏｂ') === usernameKey('ROB') // true
 */
export function usernameKey(username: string): string {
  return username
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .replaceAll('ς', 'σ')
    .normalize('NFKC')
}

/** Email comparison key: the whole address lower-cased (as the platforms compare them). */
export function emailKey(email: string): string {
  return email.trim().toLowerCase()
}
