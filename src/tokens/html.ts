/**
 * @module tokens/html
 * The snippets a token comes with (iframes, script tags). Every value placed in an attribute is
 * escaped, so a mapped value or a configured URL can never close the attribute or the tag. Kept
 * here rather than borrowed from web/views.ts: the token service is domain code the CLI uses
 * too, kept free of the HTTP kit.
 */

/** Escapes `& < > " '` as numeric character references (safe in any quoted attribute and in text). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** A JavaScript string literal that is also safe inside an HTML `<script>` element. */
export function scriptString(value: string): string {
  // Tokens, signatures, ids, emails and URLs are mostly these characters, which neither JSON nor
  // an HTML parser treats specially: the literal is the value in quotes, with no JSON pass.
  if (PLAIN.test(value)) return `"${value}"`
  const json = JSON.stringify(value)
  // Even outside PLAIN, few values hold these: no replace pass for the others.
  return UNSAFE_IN_SCRIPT.test(json)
    ? json.replace(
        /[<>&\u2028\u2029]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      )
    : json
}

const UNSAFE_IN_SCRIPT = /[<>&\u2028\u2029]/

/**
 * Letters, digits and `_ + / = . - : @` and space (ASCII only, no `u` flag): what base64,
 * base64url, hex, a JWT, an email or a plain URL are made of. None is escaped by
 * `JSON.stringify` or unsafe in `<script>`.
 */
const PLAIN = /^[\w+/=.\-:@ ]*$/
