/**
 * @module web/cookies
 * Reads the Cookie header (no extra dependency) and sets our cookies with one set of attributes:
 * HttpOnly, SameSite=Lax, Path=/, Secure when the issuer is https.
 */
import type { IncomingMessage } from 'node:http'
import type { Response } from 'express'

/** A cookie's value from the request's Cookie header (any node request: express's or koa's). */
export function readCookie(
  req: Pick<IncomingMessage, 'headers'>,
  name: string,
): string | undefined {
  const header = req.headers.cookie
  if (!header) return undefined
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim())
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

/** The one set of cookie attributes (see the module doc); `maxAgeMs` absent: a session cookie. */
function cookieOptions(secure: boolean, maxAgeMs?: number) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure,
    path: '/',
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  }
}

/**
 * Sets one of our cookies with the shared attributes: HttpOnly, SameSite=Lax, Path=/, and
 * Secure when the issuer is https. Without `maxAgeMs` it is a browser-session cookie.
 * @example setCookie(res, SESSION_COOKIE, cookie, deps.secure, deps.sessions.ttlMs)
 */
export function setCookie(
  res: Response,
  name: string,
  value: string,
  secure: boolean,
  maxAgeMs?: number,
): void {
  res.cookie(name, value, cookieOptions(secure, maxAgeMs))
}
