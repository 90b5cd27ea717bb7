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
  const json = JSON.stringify(value)
  // Most values (tokens, ids, signatures) hold none of these: no replace pass for them.
  return UNSAFE_IN_SCRIPT.test(json)
    ? json.replace(
        /[<>&\u2028\u2029]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      )
    : json
}

const UNSAFE_IN_SCRIPT = /[<>&\u2028\u2029]/
