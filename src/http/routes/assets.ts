/**
 * @module http/routes/assets
 * `GET /assets/*`: the pages' stylesheets and scripts (the SAML auto-post, the console's copy buttons), served as
 * files rather than inline, so the pages' Content-Security-Policy can allow `'self'` styles and
 * scripts and nothing inline (web/security-headers.ts). Built once at startup; the layout's
 * stylesheet carries the site's colour (SITE_COLOR).
 */
import { readFileSync } from 'node:fs'
import { Router } from 'express'
import type { SiteLook } from '../../web/views.ts'

const ASSETS = new URL('../../../views/assets/', import.meta.url)
/** SITE_COLOR's own rule (config/schema.ts), held again here: the value lands in CSS unescaped. */
const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}){1,2}$/
const FALLBACK_COLOR = '#2a6df4'

/** `GET /assets/<name>` for the files listed below; any other name falls through (404). */
export function assetsRouter(site: SiteLook): Router {
  const read = (name: string) => readFileSync(new URL(name, ASSETS), 'utf8')
  const color = HEX_COLOR.test(site.color) ? site.color : FALLBACK_COLOR
  const files = new Map<string, [type: string, body: string]>([
    ['layout.css', ['text/css', read('layout.css').replaceAll('{{color}}', color)]],
    ['home.css', ['text/css', read('home.css')]],
    ['docs.css', ['text/css', read('docs.css')]],
    ['auto-post.js', ['text/javascript', read('auto-post.js')]],
    ['console.css', ['text/css', read('console.css').replaceAll('{{color}}', color)]],
    ['console.js', ['text/javascript', read('console.js')]],
  ])
  const router = Router()
  router.get('/assets/:name', (req, res, next) => {
    const file = files.get(String(req.params.name))
    if (!file) return next()
    // Short-lived: a changed SITE_COLOR or a new version shows within minutes, with no versioned URLs.
    res.set('Cache-Control', 'public, max-age=300').type(file[0]).send(file[1])
  })
  return router
}
