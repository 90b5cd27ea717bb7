/**
 * @module oidc/routes/router
 * The OIDC door's HTTP face, mounted by http/app.ts as one router: oidc-provider's own endpoints
 * (straight to it, ahead of everything else), our user-info URL, and the interaction pages.
 * oidc-provider also answers whatever no router took (its 404 page): http/app.ts mounts
 * `door.provider.callback()` last for that.
 */
import { Router } from 'express'
import type { AccountService } from '../../accounts/service.ts'
import type { IntegrationService } from '../../integrations/registry.ts'
import type { Logger } from '../../log/logger.ts'
import { oidcFormTargets } from '../../web/security-headers.ts'
import { OIDC_DISCOVERY, OIDC_ROUTES } from '../paths.ts'
import type { OidcDoor } from '../provider.ts'
import { interactionRouter, type InteractionDeps } from './interaction.ts'
import { userinfoRouter } from './userinfo.ts'

/** What {@link oidcRoutes} needs: the door, and what its sign-in pages share with the others. */
export interface OidcRouteDeps extends Omit<InteractionDeps, 'provider'> {
  door: OidcDoor
  accounts: AccountService
  integrations: IntegrationService
  issuer: string
  log: Logger
  /** express's `trust proxy` value (http/app.ts `trustProxySetting`). */
  trustProxy: false | number | string[]
}

/** The OIDC door's router (see the module doc). */
export function oidcRoutes(deps: OidcRouteDeps): Router {
  const { door, trustProxy } = deps
  // koa (oidc-provider) has only on/off plus a hop count for its ctx.ip (its scheme is pinned to
  // ISSUER's in oidc/provider.ts); the client IP the throttle uses is express's.
  door.provider.proxy = trustProxy !== false
  if (typeof trustProxy === 'number') door.provider.maxIpsCount = trustProxy
  // oidc-provider's own pages (form_post, the logout confirmation) name their client's redirect origin.
  door.provider.use(oidcFormTargets)

  const router = Router()
  // oidc-provider's own endpoints go straight to it (no trip through the routers below).
  const oidcHandler = door.provider.callback()
  router.use((req, res, next) => (isOidcPath(req.path) ? oidcHandler(req, res) : next()))
  // The user-info URL is as hot as the token endpoint: ahead of the interaction pages.
  router.use(
    userinfoRouter({
      door,
      accounts: deps.accounts,
      integrations: deps.integrations,
      issuer: deps.issuer,
      log: deps.log,
    }),
  )
  router.use(
    interactionRouter({
      provider: door.provider,
      accounts: deps.accounts,
      sessions: deps.sessions,
      throttle: deps.throttle,
      passport: deps.passport,
      site: deps.site,
      secure: deps.secure,
      log: deps.log,
      csrf: deps.csrf,
      failureFloorMs: deps.failureFloorMs,
      issuer: deps.issuer,
      siteLogin: deps.siteLogin,
      siteLoginUrlOf: deps.siteLoginUrlOf,
      ...(deps.events ? { events: deps.events } : {}),
    }),
  )
  return router
}

const OIDC_PREFIXES = Object.values(OIDC_ROUTES).filter((p) => p !== OIDC_ROUTES.userinfo)
function isOidcPath(path: string): boolean {
  return (
    path === OIDC_DISCOVERY || OIDC_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))
  )
}
