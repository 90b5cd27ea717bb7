/**
 * @module http/pin-host
 * Every URL this server writes comes from ISSUER, never from the request. oidc-provider (koa)
 * builds its endpoint URLs — the discovery document, the logout form's action, redirects — from
 * the request's `Host`, its `X-Forwarded-Host` (when the proxy is trusted) and an absolute-form
 * request target (`GET http://evil.example/… HTTP/1.1`), so a hostile value would rewrite them
 * (and a shared cache could keep the poisoned discovery document for everyone).
 *
 * So, before any route sees the request:
 * - `Host` is set to ISSUER's host; `X-Forwarded-Host` is dropped (the public host is ISSUER's, by
 *   definition, whatever a proxy says);
 * - an absolute-form target is reduced to its path and query.
 *
 * The scheme is pinned where koa reads it (oidc/provider.ts), because `X-Forwarded-Proto` also
 * decides whether koa may set a Secure cookie.
 */
import type { RequestHandler } from 'express'

/** A request-target with a scheme (RFC 9112 §3.2.2 absolute-form). */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\//i

/** The middleware that pins Host to ISSUER's, drops X-Forwarded-Host and reduces an absolute-form target. Mount it first. */
export function pinHost(issuer: string): RequestHandler {
  const host = new URL(issuer).host
  return (req, _res, next) => {
    req.headers.host = host
    delete req.headers['x-forwarded-host']
    if (ABSOLUTE_FORM.test(req.url)) {
      const target = URL.canParse(req.url) ? new URL(req.url) : null
      // express has already copied it to originalUrl, which oidc-provider reads for its mount path.
      req.url = req.originalUrl = target ? `${target.pathname}${target.search}` : '/'
    }
    next()
  }
}
