/**
 * @module web/csrf
 * CSRF protection for our forms: a token bound to this browser and its sign-in (OWASP's "signed
 * double submit"), not a bare double submit.
 *
 * - The browser holds a random binding id in an HttpOnly cookie (`__Host-sso_csrf` when ISSUER is
 *   https, so a sibling subdomain cannot plant one; `sso_csrf` on plain http).
 * - The form's hidden field is HMAC-SHA256(server key, binding id ‖ SHA-256(bridge session
 *   cookie)), keyed from the cookie secret (KEYS_DIR/cookie-secret). The token is never the cookie's value, and it changes
 *   with the sign-in: a pair planted by an attacker (cookie tossing) or taken from another
 *   browser does not match this browser's session, and a token cannot be made without the key.
 * - A POST passes only when the field equals the HMAC recomputed from the request's own cookies
 *   (compared in constant time). SameSite=Lax on every cookie stays the first line.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Request, Response } from 'express'
import { SESSION_COOKIE } from '../login/session.ts'
import { readCookie, setCookie } from './cookies.ts'
import { HttpError } from './errors.ts'

/** The binding cookie's name on plain http (the `__Host-` prefix needs a Secure cookie). */
export const CSRF_COOKIE = 'sso_csrf'
const BINDING = /^[A-Za-z0-9_-]{43}$/

/** What {@link createCsrf} takes: the key material and whether the cookie must be Secure. */
export interface CsrfOptions {
  /** The cookie secret (KEYS_DIR/cookie-secret): the token key is derived from it (HMAC, label `csrf-token`). */
  secret: string
  /** ISSUER is https: Secure cookie with the `__Host-` prefix. */
  secure: boolean
  /**
   * The session cookie the tokens are bound to: the bridge session's by default; the console's
   * forms bind to the console session (console/session.ts) with their own helper.
   */
  sessionCookie?: string
}

/**
 * One CSRF helper for every form: `token(req, res)` when rendering, `check(req)` on the POST.
 * @example const csrf = createCsrf({ secret: cookieSecret, secure: issuer.startsWith('https:') })
 */
export function createCsrf({ secret, secure, sessionCookie = SESSION_COOKIE }: CsrfOptions) {
  const key = createHmac('sha256', secret).update('csrf-token').digest()
  const cookieName = secure ? `__Host-${CSRF_COOKIE}` : CSRF_COOKIE

  /** The token for a binding id and the request's bridge session (none: the empty string). */
  const tokenFor = (binding: string, req: Request) => {
    const session = readCookie(req, sessionCookie)
    const sessionDigest = session ? createHash('sha256').update(session).digest('base64url') : ''
    return createHmac('sha256', key).update(`${binding}\0${sessionDigest}`).digest('base64url')
  }

  return {
    cookieName,

    /** The token for a form about to be rendered (reusing the browser's binding, or making one). */
    token(req: Request, res: Response): string {
      let binding = readCookie(req, cookieName)
      if (!binding || !BINDING.test(binding)) {
        binding = randomBytes(32).toString('base64url')
        setCookie(res, cookieName, binding, secure)
      }
      return tokenFor(binding, req)
    },

    /** @throws {HttpError} ERR_CSRF_FAILED (403 csrf_failed) */
    check(req: Request): void {
      const binding = readCookie(req, cookieName)
      const field = (req.body as { csrf?: unknown } | undefined)?.csrf
      if (typeof binding === 'string' && BINDING.test(binding) && typeof field === 'string') {
        const expected = Buffer.from(tokenFor(binding, req))
        const given = Buffer.from(field)
        if (given.length === expected.length && timingSafeEqual(given, expected)) return
      }
      throw new HttpError(
        'ERR_CSRF_FAILED',
        'the form expired or did not come from this site; go back and try again',
      )
    },
  }
}

/** The CSRF helper {@link createCsrf} builds, built once per process and shared by every form. */
export type Csrf = ReturnType<typeof createCsrf>
