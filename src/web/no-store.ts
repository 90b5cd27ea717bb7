/**
 * @module web/no-store
 * The one `no-store` middleware (as oidc-provider has one `shared/no_cache.js`): for every
 * answer that is per-member or carries a credential — sign-in and consent pages, SAML
 * messages, site tickets, platform tokens, user-info, the admin API. `Pragma: no-cache` is for
 * HTTP/1.0 caches, which know no Cache-Control (RFC 6749 §5.1 asks for both on token answers).
 */
import type { RequestHandler } from 'express'

/** Sets `Cache-Control: no-store` and `Pragma: no-cache`, then goes on. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
  next()
}
