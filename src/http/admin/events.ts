/**
 * @module http/admin/events
 * GET /events: what happened at each door (sign-ins, tickets, tokens issued, SAML responses,
 * logouts, refusals with their codes), newest first, with filters (`integration`, `member`,
 * `door`, `kind`, `result`, `since`, `until`) and cursor paging. The checks are the event log's
 * (events/log.ts): a bad filter is a 400 `validation_failed` naming it.
 */
import { Router } from 'express'
import { ValidationFailed } from '../../errors/index.ts'
import type { EventFilters } from '../../events/index.ts'
import type { Services } from '../../services.ts'

const PARAMS = [
  'integration',
  'member',
  'door',
  'kind',
  'result',
  'since',
  'until',
  'limit',
  'cursor',
] as const satisfies readonly (keyof EventFilters)[]

/**
 * The admin API's `GET /events`. Mount it behind {@link requireAdmin}.
 * @throws {ValidationFailed} a parameter given twice, or one the event log refuses
 */
export function eventsRouter(services: Pick<Services, 'events'>): Router {
  const router = Router()
  router.get('/events', async (req, res) => {
    const filters: EventFilters = {}
    for (const key of PARAMS) {
      const value = req.query[key]
      if (value === undefined) continue
      if (typeof value !== 'string')
        throw new ValidationFailed([{ path: key, message: 'must be given once' }])
      filters[key] = value
    }
    const page = await services.events.list(filters)
    res.json({ items: page.items, next_cursor: page.next })
  })
  return router
}
