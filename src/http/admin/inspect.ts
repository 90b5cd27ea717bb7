/**
 * @module http/admin/inspect
 * POST /inspect/paths: every leaf path of any JSON document with its value — the names to type
 * into a platform's "unique user key / username key" fields (Minnit's nested-key table).
 */
import { Router } from 'express'
import { jsonBody } from '../../web/json-body.ts'
import { listPaths } from '../../mapping/index.ts'

export function inspectRouter(limits: { maxBodyBytes: number }): Router {
  const router = Router()
  router.post('/inspect/paths', jsonBody(limits.maxBodyBytes), (req, res) => {
    res.json({ paths: listPaths(req.body) })
  })
  return router
}
