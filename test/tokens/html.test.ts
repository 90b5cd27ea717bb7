/**
 * The snippets' script strings (src/tokens/html.ts): `scriptString` takes a shortcut for values
 * made only of characters nothing escapes; every value, shortcut or not, must give exactly the
 * literal of the JSON-and-escape rule, read back as the same string, and never carry what could
 * close a `<script>` element or break a line in old JavaScript.
 */
import { describe, expect, it } from 'vitest'
import { scriptString } from '../../src/tokens/html.ts'

/** The rule as written before the shortcut: JSON, then `< > & U+2028 U+2029` as `\uXXXX`. */
const reference = (v: string) =>
  JSON.stringify(v).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )

const VALUES = [
  '',
  ' ',
  'member0@example.test',
  'https://cdn.example.test/a/1.png?x=1&y=<2>',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl-_',
  'ZXlK+/== 2f1e0c4d 1764900000',
  '</script><script>alert(1)</script>',
  'a"b\\c',
  'line\nbreak\ttab\r\u0000\u001f',
  '\u2028\u2029',
  'Léa 😀',
  '\ud800 lone \udfff',
  'trailing newline\n',
  // Every printable ASCII character alone, and all of them together.
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)),
  Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join(''),
]

describe('scriptString', () => {
  it('gives the JSON-and-escape literal for every value, shortcut or not', () => {
    for (const v of VALUES) expect(scriptString(v), JSON.stringify(v)).toBe(reference(v))
  })

  it('reads back as the same string and holds nothing that ends a script or a line', () => {
    for (const v of VALUES) {
      const literal = scriptString(v)
      expect(JSON.parse(literal)).toBe(v)
      expect(literal).not.toMatch(/[<>&\u2028\u2029\n\r]/)
    }
  })
})
