/**
 * @module web/security-headers
 * The response headers every answer carries, set with helmet (a well-kept library that tracks
 * browsers' header quirks, rather than a hand-kept list), and the one per-page adjustment the
 * pages need.
 *
 * Content-Security-Policy, strict:
 * - `default-src 'none'`: nothing loads unless named below;
 * - `script-src 'self'`, `style-src 'self'`: only our own files under /assets (http/routes/assets.ts),
 *   never inline script, inline handlers or inline styles. oidc-provider's `form_post` page adds
 *   the hash of its one inline script to `script-src` itself (lib/helpers/script_src_sha.js);
 * - `img-src 'self' data:` (the empty `data:` favicon), `base-uri 'none'`; the consent page adds
 *   its integration's one logo URL with {@link allowImage} (loaded from where the operator put it,
 *   as authentik shows an application's icon URL: no image proxy here, which would make this
 *   server fetch URLs on a page view);
 * - `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for old browsers): no page can be
 *   framed, so the sign-in and consent pages cannot be clickjacked;
 * - `form-action 'self'`, widened per page with {@link allowFormTargets}: Chromium applies
 *   form-action to every redirect that follows a form submission, so a sign-in form whose flow
 *   ends at a relying party's redirect_uri (or a SAML ACS URL) must name that origin;
 * - `upgrade-insecure-requests` only when ISSUER is https.
 *
 * HSTS (one year, subdomains) only when ISSUER is https. Cross-Origin-Opener-Policy is not set:
 * sites and platforms may open the sign-in in a popup and watch it, which `same-origin` would cut.
 */
import type { RequestHandler } from 'express'
import helmet from 'helmet'
import type { KoaContextWithOIDC } from 'oidc-provider'

/** The header name, written once so the per-page additions edit the header helmet set. */
const CSP_HEADER = 'Content-Security-Policy'

/** An express response or the node response under koa's ctx (oidc-provider's pages). */
interface HeaderTarget {
  getHeader(name: string): unknown
  setHeader(name: string, value: string): unknown
}

/** helmet, configured as the module doc says; HSTS and upgrade-insecure-requests only for an https ISSUER. */
export function securityHeaders(issuer: string): RequestHandler {
  const secure = new URL(issuer).protocol === 'https:'
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: false,
  })
}

/**
 * Adds the origins of `urls` (http(s) only; anything else is skipped) to this response's CSP
 * `form-action`. Call it with targets the server has already validated (a client's registered
 * redirect_uri, an SP's ACS URL, an allow-listed site origin), never with raw input.
 */
export function allowFormTargets(
  res: HeaderTarget,
  urls: readonly (string | undefined | null)[],
): void {
  const origins = new Set<string>()
  for (const url of urls) {
    if (typeof url !== 'string' || !URL.canParse(url)) continue
    const { protocol, origin } = new URL(url)
    if (protocol === 'https:' || protocol === 'http:') origins.add(origin)
  }
  widen(res, 'form-action', origins)
}

/**
 * Lets this response load the one image at `url` (an integration's validated `logo_uri`) by
 * adding it to the CSP's `img-src` — the URL itself, not its whole origin, so nothing else of
 * that host loads. CSP source expressions carry no query and match a path exactly (CSP3 §6.7.2.10,
 * "path-part matching"); a character outside the grammar's `pchar` (`;` and `,` would even end
 * the expression) is percent-encoded, and the browser decodes both sides before comparing. A URL
 * that is not http(s) adds nothing.
 * @example allowImage(res, 'https://chat.example/logo.png') // img-src 'self' data: https://chat.example/logo.png
 */
export function allowImage(res: HeaderTarget, url: string | undefined): void {
  if (url === undefined || !URL.canParse(url)) return
  const { protocol, origin, pathname } = new URL(url)
  if (protocol !== 'https:' && protocol !== 'http:') return
  const path = pathname.replace(
    /[^\w\-.~%!$&'()*+=:@/]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  )
  widen(res, 'img-src', [origin + path])
}

/** Adds `sources` to one directive of the CSP helmet set on `res` (none when it has none). */
function widen(res: HeaderTarget, directive: string, sources: Iterable<string>): void {
  const header = res.getHeader(CSP_HEADER)
  if (typeof header !== 'string') return
  const added = [...sources]
  if (added.length === 0) return
  const directives = header
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean)
  const i = directives.findIndex((d) => d.split(/\s+/, 1)[0] === directive)
  if (i < 0) return
  const have = new Set(directives[i]!.split(/\s+/).slice(1))
  for (const source of added) have.add(source)
  directives[i] = [directive, ...have].join(' ')
  res.setHeader(CSP_HEADER, directives.join(';'))
}

/**
 * oidc-provider middleware (`provider.use`): its own pages — the `form_post` response and the
 * logout confirmation — end at the client's redirect_uri or post_logout_redirect_uri, so their
 * form-action names that origin, once oidc-provider has checked it is registered for the client.
 */
export async function oidcFormTargets(
  ctx: KoaContextWithOIDC,
  next: () => Promise<void>,
): Promise<void> {
  await next()
  const client = ctx.oidc?.client
  const params = ctx.oidc?.params as
    { redirect_uri?: unknown; post_logout_redirect_uri?: unknown } | undefined
  if (!client || !params || !ctx.response.is('html')) return
  const { redirect_uri: redirectUri, post_logout_redirect_uri: postLogout } = params
  allowFormTargets(ctx.res, [
    typeof redirectUri === 'string' && client.redirectUriAllowed(redirectUri)
      ? redirectUri
      : undefined,
    typeof postLogout === 'string' && client.postLogoutRedirectUriAllowed(postLogout)
      ? postLogout
      : undefined,
  ])
}
