import { describe, expect, it } from 'vitest'
import { escapeHtml, raw, render } from '../../src/web/views.ts'

const PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='x",
  '&lt;already&gt;',
  ']]><!--',
]

describe('views escape mapped values: data, never markup', () => {
  it('escapes every HTML-significant character', () => {
    for (const p of PAYLOADS) {
      const out = escapeHtml(p)
      expect(out).not.toMatch(/[<>"']/)
      expect(
        out
          .replaceAll('&#60;', '<')
          .replaceAll('&#62;', '>')
          .replaceAll('&#34;', '"')
          .replaceAll('&#39;', "'")
          .replaceAll('&#38;', '&'),
      ).toBe(p)
    }
  })

  it('render escapes every placeholder value unless explicitly raw', () => {
    const html = render('home', {
      version: PAYLOADS[0]!,
      issuer: PAYLOADS[1]!,
      docs: PAYLOADS[2]!,
      types: raw('<tr><td>ok</td></tr>'),
      endpoints: raw(''),
    })
    expect(html).not.toContain('<script>alert(1)</script>')
    expect(html).not.toContain('<img src=x')
    expect(html).toContain('&#60;script&#62;')
    expect(html).toContain('<tr><td>ok</td></tr>')
  })

  it('refuses to render with a missing value rather than leave a placeholder', () => {
    expect(() => render('home', { version: '1' })).toThrow(/no value/)
  })
})
