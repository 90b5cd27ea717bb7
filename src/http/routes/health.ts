/**
 * @module http/routes/health
 * `/healthz`: the process answers. `/readyz`: the store answers too (for load balancers).
 */
import { Router } from 'express'
import { replyFor } from '../../errors/index.ts'
import type { Store } from '../../store/ports.ts'
import { checkReadiness } from '../../store/readiness.ts'
import { HTTP_ROUTES } from '../paths.ts'

/**
 * `GET /healthz` (the process answers) and `GET /readyz` (the store answers a ping and its
 * migrations are current; otherwise 503 `store_unavailable`, or `schema_too_new` when a newer
 * build migrated the database since this one started; never the store's own error text).
 * @param store only `ping` and `kind` are used
 */
export function healthRouter(store: Pick<Store, 'ping' | 'kind'>): Router {
  const router = Router()
  router.get(HTTP_ROUTES.health, (_req, res) => {
    res.json({ status: 'ok' })
  })
  router.get(HTTP_ROUTES.ready, async (_req, res) => {
    const readiness = await checkReadiness(store)
    if (readiness.ready) {
      res.json({ status: 'ready', store: store.kind })
      return
    }
    // Not ready either way (503); a newer build's migrations are named, so the operator knows
    // that this instance, not the database, is what to replace.
    res.status(replyFor('ERR_STORE_UNAVAILABLE').status).json({
      status: 'unavailable',
      store: store.kind,
      error: replyFor(readiness.code).error,
    })
  })
  return router
}
