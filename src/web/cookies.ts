/**
 * @module web/cookies
 * Reads the Cookie header (no extra dependency) and sets our cookies with one set of attributes:
 * HttpOnly, SameSite=Lax, Path=/, Secure when the issuer is https.
 */
import type { Request, Response } from 'express'

export function readCookie(req: Request, name: string): string | undefined {
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

export function cookieOptions(secure: boolean, maxAgeMs?: number) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure,
    path: '/',
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  }
}

export function setCookie(
  res: Response,
  name: string,
  value: string,
  secure: boolean,
  maxAgeMs?: number,
): void {
  res.cookie(name, value, cookieOptions(secure, maxAgeMs))
}

export function clearCookie(res: Response, name: string, secure: boolean): void {
  res.clearCookie(name, cookieOptions(secure))
}
