/**
 * @module web/return-to
 * The one rule for a "where to go next" path the browser hands us (`return_to` of /login and of
 * /ticket): it is followed only if, **after** normalisation, it is a path on ISSUER's origin.
 *
 * Checking the raw text is not enough: `/.//evil.example/`, `/%2e//evil.example/`,
 * `/..//evil.example/` and `/x/..//evil.example/` all start with a single `/`, yet resolve
 * (WHATWG URL: dot segments, `%2e`, backslashes) to the path `//evil.example/`, which a browser
 * reads in a `Location` header as the protocol-relative URL `//evil.example/`. So the value is
 * first resolved against ISSUER exactly as a browser would, then:
 *
 * 1. the result must be on ISSUER's origin;
 * 2. its path must not start with `//` (nor with `/\`, which the URL parser has already turned
 *    into `//`): the serialized path must never be protocol-relative;
 * 3. the normalised form (`pathname + search`, no fragment) is what the caller writes, never the
 *    raw input.
 */

/** Longest `return_to` accepted, in characters. */
export const RETURN_TO_MAX_LENGTH = 2048

/**
 * The normalised local path (`/…` plus its query) that `value` resolves to on ISSUER, or null when
 * it is not one: not a string, too long, not starting with `/`, carrying control characters or
 * whitespace, leaving ISSUER's origin, or resolving to a protocol-relative `//…` path.
 *
 * @example localReturnTo('/x/..//evil.example/', 'https://sso.example') // null
 * @example localReturnTo('/saml/continue/abc?x=1', 'https://sso.example') // '/saml/continue/abc?x=1'
 */
export function localReturnTo(value: unknown, issuer: string): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > RETURN_TO_MAX_LENGTH)
    return null
  // Only paths: a scheme, a host or a relative path is never a local target. Whitespace and
  // control characters are refused rather than stripped (the URL parser drops tabs and newlines).
  if (!value.startsWith('/') || /[\u0000-\u0020\u007f-\u00a0]/.test(value)) return null
  let base: URL
  let target: URL
  try {
    base = new URL(issuer)
    target = new URL(value, base)
  } catch {
    return null
  }
  if (target.origin !== base.origin || target.username || target.password) return null
  const path = `${target.pathname}${target.search}`
  // Checked on the normalised form: the Location header must never be `//host…`.
  if (!path.startsWith('/') || path.startsWith('//')) return null
  return path
}
