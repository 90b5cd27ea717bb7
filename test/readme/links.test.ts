/**
 * Every relative link in README.md and docs/*.md leads somewhere, as GitHub resolves it: to an
 * existing file, and when it names a Markdown page's anchor, to a heading of that page (ids as
 * GitHub makes them, the same function /docs renders with). Links inside code are not links.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Lexer, marked, type Token } from 'marked'
import { describe, expect, it } from 'vitest'
import { headingIds } from '../../src/http/routes/docs-markdown.ts'

const ROOT = new URL('../../', import.meta.url)
const FILES = [
  'README.md',
  ...readdirSync(new URL('docs/', ROOT))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]
const read = (file: string) => readFileSync(new URL(file, ROOT), 'utf8')

/** Every link's href in a Markdown text (marked's tokens: code spans and blocks hold none). */
function links(markdown: string): string[] {
  const out: string[] = []
  marked.walkTokens(new Lexer().lex(markdown), (t: Token) => {
    if (t.type === 'link') out.push(t.href)
  })
  return out
}

/**
 * The links of `texts` (repository path → Markdown) that lead nowhere. Targets are read from
 * `texts` first, then from the checkout.
 */
function brokenLinks(texts: ReadonlyMap<string, string>): string[] {
  const broken: string[] = []
  const textOf = (file: string) => texts.get(file) ?? read(file)
  for (const [file, markdown] of texts) {
    for (const href of links(markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue // absolute: http(s), mailto
      const target = new URL(href, new URL(file, ROOT))
      const targetFile = fileURLToPath(target).slice(fileURLToPath(ROOT).length)
      const anchor = decodeURIComponent(target.hash.slice(1))
      if (!texts.has(targetFile) && !existsSync(new URL(targetFile, ROOT)))
        broken.push(`${file}: ${href} (no such file)`)
      else if (anchor && !targetFile.endsWith('.md'))
        broken.push(`${file}: ${href} (an anchor into a file that is not Markdown)`)
      else if (anchor && !headingIds(textOf(targetFile)).includes(anchor))
        broken.push(`${file}: ${href} (no heading #${anchor})`)
    }
  }
  return broken
}

describe('links between the README and the pages under docs/', () => {
  it('every relative link reaches an existing file and, for a page, an existing heading', () => {
    const texts = new Map(FILES.map((f) => [f, read(f)]))
    expect(brokenLinks(texts)).toEqual([])
    const relative = FILES.flatMap((f) => links(read(f))).filter((h) => !/^[a-z]+:/i.test(h))
    expect(relative.length).toBeGreaterThan(50)
  })

  it('the README links to every page under docs/ ("Where to read on")', () => {
    const fromReadme = new Set(links(read('README.md')).map((h) => h.replace(/#.*/, '')))
    for (const file of FILES.slice(1)) expect(fromReadme, file).toContain(file)
  })

  it('finds each kind of broken link (the check can fail)', () => {
    const texts = new Map([
      [
        'docs/example.md',
        '# Example\n## Here\n[ok](#here) [ok](security.md#bad-input) [ok](../README.md#layout)\n' +
          '[a](#nowhere) [b](security.md#no-such-heading) [c](no-such-page.md) [d](../package.json#x)\n' +
          '`[not a link](nowhere.md)`\n',
      ],
    ])
    expect(brokenLinks(texts)).toEqual([
      'docs/example.md: #nowhere (no heading #nowhere)',
      'docs/example.md: security.md#no-such-heading (no heading #no-such-heading)',
      'docs/example.md: no-such-page.md (no such file)',
      'docs/example.md: ../package.json#x (an anchor into a file that is not Markdown)',
    ])
  })
})
