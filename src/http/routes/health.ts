/**
 * @module http/routes/health
 * `/healthz`: the process answers. `/readyz`: the store answers too (for load balancers).
 */
import { Router } from 'express'
import { replyFor } from '../../errors/index.ts'
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
      const { status, error } = replyFor('ERR_STORE_UNAVAILABLE')
      res.status(status).json({ status: 'unavailable', store: store.kind, error })
    }
  })
  return router
}
