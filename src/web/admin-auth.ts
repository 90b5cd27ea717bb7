/**
 * @module web/admin-auth
 * `Authorization: Bearer <ADMIN_TOKEN>` for /api/v1. Both sides are hashed before the
 * constant-time comparison so neither the token's content nor its length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { RequestHandler } from 'express'
import { unauthorized } from './errors.ts'

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * Guards the admin API with ADMIN_TOKEN as a bearer token. Both sides are hashed to SHA-256
 * before `timingSafeEqual`, so the comparison takes the same time whatever the length or the
 * first wrong byte. A refusal is 401 `unauthorized` with a `WWW-Authenticate: Bearer` challenge.
 * @param adminToken the configured ADMIN_TOKEN (never logged)
 * @example app.use('/api/v1', requireAdmin(config.adminToken), usersRouter(services, limits))
 */
export function requireAdmin(adminToken: string): RequestHandler {
  const expected = digest(adminToken)
  return (req, res, next) => {
    const match = /^Bearer ([^\s]+)$/i.exec(req.get('authorization') ?? '')
    if (match && timingSafeEqual(digest(match[1]!), expected)) return next()
    res.set('WWW-Authenticate', 'Bearer realm="sso-bridge admin"')
    next(unauthorized())
  }
}
