/**
 * @module http/app
 * Builds the express application: logging, health, the home page and the admin API. The
 * doors mount here as they land. Knows nothing of which database is behind `services`.
 */
import express, { type Express, type RequestHandler } from 'express'
import { randomUUID } from 'node:crypto'
import type { Logger } from '../log/logger.ts'
import type { Services } from '../services.ts'
import { requireAdmin } from './admin-auth.ts'
import { errorHandler } from './error-handler.ts'
import { notFound } from './errors.ts'
import { auditRouter } from './routes/audit.ts'
import { docsRouter } from './routes/docs.ts'
import { healthRouter } from './routes/health.ts'
import { homeRouter } from './routes/home.ts'
import { inspectRouter } from './routes/inspect.ts'
import { integrationsRouter } from './routes/integrations.ts'
import { usersRouter } from './routes/users.ts'

export interface AppOptions {
  services: Services
  log: Logger
  issuer: string
  version: string
  adminToken: string
  maxBodyBytes: number
  importMaxBytes: number
}

export function createApp(opts: AppOptions): Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', false)
  app.use(requestLog(opts.log))
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' })
    next()
  })

  app.use(healthRouter(opts.services.store))
  app.use(docsRouter())
  app.use(
    homeRouter({
      issuer: opts.issuer,
      version: opts.version,
      types: opts.services.integrations.types(),
      links: [
        { label: 'Documentation', path: '/docs' },
        { label: 'Health', path: '/healthz' },
        { label: 'Readiness', path: '/readyz' },
      ],
    }),
  )

  const api = express.Router()
  api.use(requireAdmin(opts.adminToken))
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store')
    next()
  })
  api.use(usersRouter(opts.services, opts))
  api.use(integrationsRouter(opts.services, opts))
  api.use(inspectRouter(opts))
  api.use(auditRouter(opts.services))
  api.use((_req, _res, next) => next(notFound()))
  app.use('/api/v1', api)

  app.use((_req, _res, next) => next(notFound()))
  app.use(errorHandler(opts.log))
  return app
}

/** One line per request, after it ends. The query string is left out: it carries tokens. */
function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint()
    const id = randomUUID()
    res.set('X-Request-Id', id)
    res.on('finish', () => {
      log.info(
        { req: { id, method: req.method, path: req.originalUrl.split('?')[0] }, res: { status: res.statusCode }, ms: Number(process.hrtime.bigint() - start) / 1e6 },
        'request',
      )
    })
    next()
  }
}
