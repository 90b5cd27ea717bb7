/**
 * @module http/csrf
 * Double-submit CSRF protection for our forms: a random token in an HttpOnly cookie and the
 * same token in a hidden field; a POST passes only when both are present and equal (compared
 * in constant time). SameSite=Lax on every cookie is the first line; this is the second.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Request, Response } from 'express'
import { readCookie, setCookie } from './cookies.ts'
import { HttpError } from './errors.ts'

export const CSRF_COOKIE = 'sso_csrf'

/** The token for a form about to be rendered (reusing the browser's, or making one). */
export function csrfToken(req: Request, res: Response, secure: boolean): string {
  const existing = readCookie(req, CSRF_COOKIE)
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing
  const token = randomBytes(32).toString('base64url')
  setCookie(res, CSRF_COOKIE, token, secure)
  return token
}

/** @throws {HttpError} 403 csrf_failed */
export function checkCsrf(req: Request): void {
  const cookie = readCookie(req, CSRF_COOKIE)
  const field = (req.body as { csrf?: unknown } | undefined)?.csrf
  if (typeof cookie === 'string' && typeof field === 'string' && cookie.length === field.length && timingSafeEqual(Buffer.from(cookie), Buffer.from(field))) return
  throw new HttpError(403, 'csrf_failed', 'the form expired or did not come from this site; go back and try again')
}
