/**
 * @module http/routes/health
 * `/healthz`: the process answers. `/readyz`: the store answers too (for load balancers).
 */
import { Router } from 'express'
import { replyFor } from '../../errors/index.ts'
import type { Store } from '../../store/ports.ts'
import { HTTP_ROUTES } from '../paths.ts'

/**
 * `GET /healthz` (the process answers) and `GET /readyz` (the store answers a ping; otherwise
 * 503 `store_unavailable`, never the store's own error text).
 * @param store only `ping` and `kind` are used
 */
export function healthRouter(store: Pick<Store, 'ping' | 'kind'>): Router {
  const router = Router()
  router.get(HTTP_ROUTES.health, (_req, res) => {
    res.json({ status: 'ok' })
  })
  router.get(HTTP_ROUTES.ready, async (_req, res) => {
    try {
      await store.ping()
      res.json({ status: 'ready', store: store.kind })
    } catch {
      const { status, error } = replyFor('ERR_STORE_UNAVAILABLE')
      res.status(status).json({ status: 'unavailable', store: store.kind, error })
    }
  })
  return router
}
