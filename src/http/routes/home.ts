/**
 * @module http/routes/home
 * `GET /`: what this server is, its version, and where to go next.
 */
import { Router } from 'express'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { escapeHtml, raw, render } from '../views.ts'

export function homeRouter(opts: { issuer: string; version: string; types: readonly IntegrationTypeDefinition[] }): Router {
  const router = Router()
  const rows = opts.types.map((t) => `<tr><td><code>${escapeHtml(t.type)}</code></td><td>${escapeHtml(t.description)}</td></tr>`).join('')
  const page = render('home', { version: opts.version, issuer: opts.issuer, docs: `${opts.issuer}/docs`, types: raw(rows) })
  router.get('/', (_req, res) => {
    res.type('html').send(page)
  })
  return router
}
