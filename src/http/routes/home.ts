/**
 * @module http/routes/home
 * `GET /`: what this server is, its version, and where to go next.
 */
import { Router } from 'express'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { escapeHtml, raw, render } from '../../web/views.ts'

/** A public endpoint worth linking from the home page; each door adds its own as it lands. */
export interface HomeLink {
  label: string
  path: string
}

/**
 * `GET /`: the home page listing the version, the integration types and each door's links.
 * The page is rendered once, when the router is built.
 */
export function homeRouter(opts: {
  issuer: string
  version: string
  types: readonly IntegrationTypeDefinition[]
  links: readonly HomeLink[]
}): Router {
  const router = Router()
  const links = opts.links
    .map(
      (l) =>
        `<li><a href="${escapeHtml(opts.issuer + l.path)}">${escapeHtml(l.label)}</a> <code>${escapeHtml(l.path)}</code></li>`,
    )
    .join('')
  const rows = opts.types
    .map(
      (t) =>
        `<tr><td><code>${escapeHtml(t.type)}</code></td><td>${escapeHtml(t.description)}</td></tr>`,
    )
    .join('')
  const page = render('home', {
    version: opts.version,
    issuer: opts.issuer,
    docs: `${opts.issuer}/docs`,
    types: raw(rows),
    endpoints: raw(links),
  })
  router.get('/', (_req, res) => {
    res.type('html').send(page)
  })
  return router
}
