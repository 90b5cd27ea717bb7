/**
 * @module http/admin/audit
 * GET /audit: the log of username/email conflict resolutions, oldest first, with filters
 * (`external_id`, `field`, `policy`, `actor`, `since`, `until`) and cursor paging.
 */
import { Router } from 'express'
import { ValidationFailed } from '../../errors/index.ts'
import type { Services } from '../../services.ts'

const FILTERS = ['external_id', 'field', 'policy', 'actor', 'since', 'until'] as const

/**
 * The admin API's `GET /audit`: the account-conflict audit trail, filtered by the query
 * parameters in FILTERS and paged with `limit` / `cursor`. Mount it behind {@link requireAdmin}.
 */
export function auditRouter(services: Services): Router {
  const router = Router()
  router.get('/audit', async (req, res) => {
    const query: Record<string, string> = {}
    for (const key of FILTERS) {
      const value = req.query[key]
      if (value === undefined) continue
      if (typeof value !== 'string')
        throw new ValidationFailed([{ path: key, message: 'must be given once' }])
      query[key] = value
    }
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit)
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : null
    const page = await services.accounts.audit({
      ...query,
      field: query.field as 'username' | 'email' | undefined,
      limit,
      after: cursor,
    })
    res.json({ items: page.items, next_cursor: page.next })
  })
  return router
}
