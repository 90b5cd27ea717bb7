/**
 * @module http/routes/health
 * `/healthz`: the process answers. `/readyz`: the store answers too (for load balancers).
 */
import { Router } from 'express'
import type { Store } from '../../store/ports.ts'

export function healthRouter(store: Pick<Store, 'ping' | 'kind'>): Router {
  const router = Router()
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })
  router.get('/readyz', async (_req, res) => {
    try {
      await store.ping()
      res.json({ status: 'ready', store: store.kind })
    } catch {
      res.status(503).json({ status: 'unavailable', store: store.kind, error: 'store_unavailable' })
    }
  })
  return router
}
