/**
 * @module web/admin-auth
 * `Authorization: Bearer <ADMIN_TOKEN>` for /api/v1. Both sides are hashed before the
 * constant-time comparison so neither the token's content nor its length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { RequestHandler } from 'express'
import { unauthorized } from './errors.ts'

const digest = (s: string) => createHash('sha256').update(s).digest()

export function requireAdmin(adminToken: string): RequestHandler {
  const expected = digest(adminToken)
  return (req, res, next) => {
    const match = /^Bearer ([^\s]+)$/i.exec(req.get('authorization') ?? '')
    if (match && timingSafeEqual(digest(match[1]!), expected)) return next()
    res.set('WWW-Authenticate', 'Bearer realm="sso-bridge admin"')
    next(unauthorized())
  }
}
