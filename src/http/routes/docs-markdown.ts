/**
 * @module http/routes/docs-markdown
 * The documentation's Markdown (README.md and docs/*.md) as HTML, the way GitHub shows it: the
 * same heading ids, so one relative link (`security.md#sign-in-throttling`,
 * `docs/tokens.md#delivery`) works on GitHub and, rewritten to `/docs/…`, on the server.
 * The Markdown is our own, from the repository; nothing here reads a request.
 */
import GithubSlugger from 'github-slugger'
import { Lexer, Marked, type Token, type Tokens } from 'marked'
import { escapeHtml } from '../../web/views.ts'
import { HTTP_ROUTES } from '../paths.ts'
import { README_FILE } from './docs.ts'

/** Where a documentation page lives in the repository, and the URL it is served at. */
export interface DocPage {
  /** `''` for the README (served at `/docs`), else the file name under docs/ without `.md`. */
  name: string
  /** The file's path from the repository root: `README.md`, `docs/tokens.md`. */
  file: string
}

/** The URL a page is served at: `/docs` for the README, `/docs/<name>` for the others. */
export function docUrl(name: string): string {
  return name === '' ? HTTP_ROUTES.docs : `${HTTP_ROUTES.docs}/${name}`
}

// A heading's id is computed from its text as GitHub shows it: markup and code ticks gone.
function plainText(tokens: readonly Token[]): string {
  return tokens
    .map((t) => {
      if ('tokens' in t && Array.isArray(t.tokens)) return plainText(t.tokens)
      return 'text' in t && typeof t.text === 'string' ? t.text : ''
    })
    .join('')
}

/**
 * Every heading id of a page, in order, as GitHub makes them (github-slugger: the algorithm
 * GitHub's renderer uses, a repeated heading getting `-1`, `-2`, …).
 *
 * @example headingIds('# Security\n## Bad input') // ['security', 'bad-input']
 */
export function headingIds(markdown: string): string[] {
  const slugger = new GithubSlugger()
  return new Lexer()
    .lex(markdown)
    .filter((t): t is Tokens.Heading => t.type === 'heading')
    .map((h) => slugger.slug(plainText(h.tokens)))
}

/** The page's first `#` heading, or `fallback`. */
export function pageTitle(markdown: string, fallback: string): string {
  const h1 = new Lexer()
    .lex(markdown)
    .find((t): t is Tokens.Heading => t.type === 'heading' && t.depth === 1)
  return h1 ? plainText(h1.tokens) : fallback
}

/**
 * Resolves a link written in the page `from` (a repository path) to the page it names, if it
 * names one: `x.md#a` from docs/ and `docs/x.md#a` from the README. `undefined` for an absolute
 * URL, a same-page `#anchor`, or a file that is not a documentation page.
 *
 * @returns the page and the anchor (`''` when there is none)
 */
export function resolveDocLink(
  href: string,
  from: string,
  pages: ReadonlyMap<string, DocPage>,
): { page: DocPage; anchor: string } | 'other-file' | undefined {
  // Absolute URLs (any scheme), protocol-relative and rooted links, and same-page anchors stay.
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('/') || href.startsWith('#'))
    return undefined
  const base = new URL(from, 'file:///repo/')
  const target = new URL(href, base)
  const path = decodeURIComponent(target.pathname).replace(/^\/repo\//, '')
  const anchor = decodeURIComponent(target.hash.slice(1))
  if (path === README_FILE) return { page: pages.get('')!, anchor }
  const m = /^docs\/([a-z0-9-]+)\.md$/.exec(path)
  const page = m ? pages.get(m[1]!) : undefined
  return page ? { page, anchor } : 'other-file'
}

/**
 * Renders one page to HTML: GitHub's heading ids, and links to other pages rewritten to their
 * `/docs/…` URLs. A link to a repository file that is not a page (`.env.example`) has no URL on
 * the server, so it is rendered as its text.
 */
export function renderDocPage(
  markdown: string,
  page: DocPage,
  pages: ReadonlyMap<string, DocPage>,
): string {
  const slugger = new GithubSlugger()
  const marked = new Marked({
    renderer: {
      heading({ tokens, depth }) {
        const id = slugger.slug(plainText(tokens))
        return `<h${depth} id="${escapeHtml(id)}">${this.parser.parseInline(tokens)}</h${depth}>\n`
      },
      link({ href, title, tokens }) {
        const inner = this.parser.parseInline(tokens)
        const target = resolveDocLink(href, page.file, pages)
        if (target === 'other-file') return inner
        const url = target
          ? docUrl(target.page.name) +
            (target.anchor ? `#${encodeURIComponent(target.anchor)}` : '')
          : href
        const titleAttr = title ? ` title="${escapeHtml(title)}"` : ''
        return `<a href="${escapeHtml(url)}"${titleAttr}>${inner}</a>`
      },
    },
  })
  return marked.parse(markdown, { async: false })
}
