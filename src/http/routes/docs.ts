/**
 * @module http/routes/docs
 * `GET /docs` (the README) and `GET /docs/<page>` (docs/<page>.md) as HTML, so the home page's
 * links and the pages' links to each other work on any install, offline included. The pages
 * are our own files, listed once at startup and each rendered once, on its first request.
 * A page name is only ever looked up in that list, never joined to a path, so no request can
 * reach another file (`/docs/..%2fpackage.json` is an unknown page: 404).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { Router } from 'express'
import { notFound } from '../../web/errors.ts'
import { escapeHtml } from '../../web/views.ts'
import { lazyImport } from '../../lazy.ts'
import { HTTP_ROUTES } from '../paths.ts'
import type { DocPage } from './docs-markdown.ts'

// The Markdown renderer (marked, github-slugger) is loaded on the first /docs request, not at
// start-up: most servers never serve their documentation (docs/performance.md).
const markdown = lazyImport(() => import('./docs-markdown.ts'))

/** The README's path; every other page is `docs/<name>.md`. */
export const README_FILE = 'README.md'

const ROOT = new URL('../../../', import.meta.url)

/** README.md and every docs/<name>.md (names as GitHub links them: lower-case, digits, `-`). */
export function listDocPages(root: URL = ROOT): Map<string, DocPage> {
  const pages = new Map<string, DocPage>([['', { name: '', file: README_FILE }]])
  for (const file of readdirSync(new URL('docs/', root)).sort()) {
    const m = /^([a-z0-9-]+)\.md$/.exec(file)
    if (m) pages.set(m[1]!, { name: m[1]!, file: `docs/${file}` })
  }
  return pages
}

/**
 * The documentation router. The pages are listed now; their titles, the navigation and each
 * page's HTML on the first request that needs them.
 *
 * @param root the repository root holding README.md and docs/ (this checkout by default)
 */
export function docsRouter(root: URL = ROOT): Router {
  const pages = listDocPages(root)
  const read = (page: DocPage) => readFileSync(new URL(page.file, root), 'utf8')
  // Titles and the navigation read every page: done once, on the first request.
  const site = lazyImport(async () => {
    const md = await markdown()
    return { md, ...navigation(md) }
  })
  const navigation = ({ pageTitle, docUrl }: Awaited<ReturnType<typeof markdown>>) => {
    const titles = new Map([...pages.values()].map((p) => [p.name, pageTitle(read(p), p.name)]))
    // Every page links to the others, so a reader who arrives from a search lands among them; in
    // the order the README first links them ("Where to read on" is written in reading order).
    const readme = read(pages.get('')!)
    const readOn = Math.max(0, readme.indexOf('\n## Where to read on\n'))
    const rank = (p: DocPage) => {
      const at = readme.indexOf(`](${p.file}`, readOn)
      return p.name === '' ? -1 : at < 0 ? Infinity : at
    }
    const nav = [...pages.values()]
      .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))
      .map(
        (p) =>
          `<a href="${escapeHtml(docUrl(p.name))}">${escapeHtml(p.name === '' ? 'sso-bridge' : titles.get(p.name)!)}</a>`,
      )
      .join(' · ')
    return { titles, nav }
  }
  const rendered = new Map<string, string>()
  const html = async (page: DocPage) => {
    let text = rendered.get(page.name)
    if (text === undefined) {
      const { md, titles, nav } = await site()
      const title = page.name === '' ? '' : `${titles.get(page.name)} · `
      text = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}sso-bridge documentation</title><link rel="stylesheet" href="/assets/docs.css"></head><body><nav>${nav}</nav><main>${md.renderDocPage(read(page), page, pages)}</main></body></html>`
      rendered.set(page.name, text)
    }
    return text
  }

  const router = Router()
  router.get(HTTP_ROUTES.docs, async (_req, res) => {
    res.type('html').send(await html(pages.get('')!))
  })
  router.get(`${HTTP_ROUTES.docs}/:page`, async (req, res, next) => {
    const name = String(req.params.page)
    // '' is the README's key, served at /docs only.
    const page = name === '' ? undefined : pages.get(name)
    if (!page) return next(notFound())
    res.type('html').send(await html(page))
  })
  return router
}
