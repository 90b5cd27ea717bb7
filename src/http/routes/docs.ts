/**
 * @module http/routes/docs
 * `GET /docs`: the README rendered as HTML, so the home page's links work on any install,
 * offline included. Headings get GitHub-style ids so `#configuration` anchors match the
 * repository's rendering. The README is our own file, rendered once at startup.
 */
import { readFileSync } from 'node:fs'
import { Router } from 'express'
import { Marked } from 'marked'
import { escapeHtml } from '../../web/views.ts'

/** GitHub's anchor rule: lower-case, drop punctuation except `-` and `_`, spaces to `-`. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .trim()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

export function renderReadme(markdown: string): string {
  const marked = new Marked({
    renderer: {
      heading({ tokens, depth, text }) {
        return `<h${depth} id="${escapeHtml(slug(text))}">${this.parser.parseInline(tokens)}</h${depth}>\n`
      },
    },
  })
  return marked.parse(markdown, { async: false })
}

export function docsRouter(): Router {
  const router = Router()
  let page: string | undefined
  router.get('/docs', (_req, res) => {
    page ??= `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>sso-bridge documentation</title><link rel="stylesheet" href="/assets/docs.css"></head><body><main>${renderReadme(readFileSync(new URL('../../../README.md', import.meta.url), 'utf8'))}</main></body></html>`
    res.type('html').send(page)
  })
  return router
}
