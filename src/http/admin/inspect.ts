/**
 * @module http/admin/inspect
 * POST /inspect/paths: every leaf path of any JSON document with its value — the names to type
 * into a platform's "unique user key / username key" fields (Minnit's nested-key table).
 */
import { Router } from 'express'
import { jsonBody } from '../../web/json-body.ts'
import { listPaths } from '../../mapping/index.ts'

/**
 * `POST /inspect/paths`: the mapping paths a sample JSON document offers, so an operator can
 * write a mapping without guessing. Pure (mapping/inspect): nothing is stored.
 */
export function inspectRouter(limits: { maxBodyBytes: number }): Router {
  const router = Router()
  router.post('/inspect/paths', jsonBody(limits.maxBodyBytes), (req, res) => {
    res.json({ paths: listPaths(req.body) })
  })
  return router
}
