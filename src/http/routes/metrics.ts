/**
 * @module http/routes/metrics
 * `GET /metrics` (Prometheus text format, metrics/metrics.ts): on the main port behind the admin
 * token, or alone on METRICS_PORT (main.ts), where it needs none because that port is private.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Router } from 'express'
import { BridgeError, replyFor } from '../../errors/index.ts'
import type { Logger } from '../../log/logger.ts'
import type { Metrics } from '../../metrics/index.ts'
import { requireAdmin } from '../../web/admin-auth.ts'
import { noStore } from '../../web/no-store.ts'
import { HTTP_ROUTES } from '../paths.ts'

/** The main port's `GET /metrics`, behind the admin token. */
export function metricsRouter(metrics: Metrics, adminToken: string): Router {
  const router = Router()
  router.get(HTTP_ROUTES.metrics, requireAdmin(adminToken), noStore, async (_req, res) => {
    const { contentType, body } = await metrics.render()
    res.type(contentType).send(body)
  })
  return router
}

/**
 * The METRICS_PORT listener's whole handler: `GET /metrics`, 404 for anything else, no express.
 * A render that fails is logged with its stable code (and the error's message and stack, as the
 * main port's error handler logs a 5xx) and answered by the code table: a store outage is 503
 * `store_unavailable`, anything unforeseen 500 `internal_error`. Nothing else reaches the client.
 * @param log where a failed render is written
 * @example createServer(metricsListener(services.metrics, log)).listen(config.metricsPort)
 */
export function metricsListener(metrics: Metrics, log: Pick<Logger, 'error'>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?')[0]
    if (path !== HTTP_ROUTES.metrics || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n')
      return
    }
    metrics.render().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' })
        res.end(req.method === 'HEAD' ? undefined : body)
      },
      (err: unknown) => {
        const code = err instanceof BridgeError ? err.code : 'ERR_GENERIC'
        const { status, error } = replyFor(code)
        const e = err instanceof Error ? err : new Error(String(err))
        log.error(
          {
            method: req.method,
            path,
            status,
            error,
            code,
            err: { message: e.message, stack: e.stack },
          },
          'metrics not rendered',
        )
        res
          .writeHead(status, {
            'Content-Type': 'text/plain; charset=utf-8',
            'Cache-Control': 'no-store',
          })
          .end(`${error}\n`)
      },
    )
  }
}
