/**
 * @module oidc/routes/userinfo
 * The user-info URL (`GET|POST /me`, in discovery as `userinfo_endpoint`) for OIDC clients and
 * for plain OAuth2 clients that never ask for `openid` (Minnit's OAuth2 form), which
 * oidc-provider's own endpoint refuses. The bearer access token is checked by oidc-provider
 * (`AccessToken.find`: signature-free opaque lookup, expiry, consumed grants), then the
 * integration's mapping shapes the answer (RFC 6750 errors otherwise).
 */
import { Router, urlencoded, type Request, type Response } from 'express'
import type { AccountService } from '../../accounts/service.ts'
import type { IntegrationService } from '../../integrations/registry.ts'
import type { Logger } from '../../log/logger.ts'
import { scopeFilter } from '../claims.ts'
import type { OidcDoor } from '../provider.ts'
import { isGrantOf } from '../account-binding.ts'
import { noStore } from '../../web/no-store.ts'
import { replyFor } from '../../errors/index.ts'

/**
 * What `subjectFor` needs, from the integration's settings: oidc-provider's sector identifier
 * for a client without `sector_identifier_uri` is the host of its redirect URIs (OpenID Connect
 * Core §8.1), which pairwise clients must keep to one host.
 */
function clientSubject(settings: Record<string, unknown>): {
  subjectType?: string
  sectorIdentifier?: string
} {
  const uris = settings.redirect_uris as string[]
  return {
    subjectType: settings.subject_type as string,
    sectorIdentifier: uris[0] ? new URL(uris[0]).host : undefined,
  }
}

/**
 * The `GET|POST /me` user-info endpoint (see the module doc). Refusals are RFC 6750 challenges
 * logged with a code; the access token itself is never logged or echoed.
 */
export function userinfoRouter(deps: {
  door: OidcDoor
  accounts: AccountService
  integrations: IntegrationService
  issuer: string
  log: Logger
}): Router {
  const router = Router()
  const { provider } = deps.door

  /** An RFC 6750 refusal, logged with a code (never the token). A request with no token at all gets a bare challenge (§3.1). */
  function invalid(
    res: Response,
    error: 'invalid_request' | 'invalid_token' | undefined,
    description: string,
    clientId?: string,
  ) {
    const code =
      error === 'invalid_request'
        ? 'ERR_ACCESS_TOKEN_REQUEST'
        : error
          ? 'ERR_ACCESS_TOKEN_INVALID'
          : 'ERR_ACCESS_TOKEN_MISSING'
    deps.log.info(
      {
        code,
        path: '/me',
        reason: description,
        ...(clientId ? { client_id: clientId } : {}),
      },
      'user-info refused',
    )
    // Status and error name from the one table (errors/codes.ts): 400 invalid_request, else 401
    // invalid_token.
    const reply = replyFor(code)
    if (!error) {
      res.set('WWW-Authenticate', `Bearer realm="${deps.issuer}"`)
      res.status(reply.status).json({ error: reply.error, error_description: description })
      return
    }
    res.set(
      'WWW-Authenticate',
      `Bearer realm="${deps.issuer}", error="${error}", error_description="${description}"`,
    )
    res.status(reply.status).json({ error: reply.error, error_description: description })
  }

  async function handle(req: Request, res: Response) {
    const header = req.get('authorization')
    const fromHeader = header && /^Bearer\s+(\S+)$/i.exec(header)?.[1]
    const fromBody =
      req.method === 'POST' && typeof req.body?.access_token === 'string'
        ? (req.body.access_token as string)
        : undefined
    if (fromHeader && fromBody)
      return invalid(res, 'invalid_request', 'access token given more than once')
    const value = fromHeader || fromBody
    if (!value) return invalid(res, undefined, 'no access token')
    // find() checks the stored token's expiry; revoked tokens are gone from the store.
    const token = await provider.AccessToken.find(value)
    if (!token || !token.accountId || !token.clientId)
      return invalid(res, 'invalid_token', 'invalid or expired access token')
    // A token issued for another resource server (RFC 8707) is not for the user-info URL.
    if (token.aud !== undefined)
      return invalid(
        res,
        'invalid_token',
        'access token is not for the user-info URL',
        token.clientId,
      )
    const grant = token.grantId ? await provider.Grant.find(token.grantId) : undefined
    // The integration is the client: one read gives both its existence and its mapping.
    const integration = await deps.integrations.load(token.clientId).catch(() => undefined)
    if (
      !grant ||
      integration?.record.type !== 'oidc' ||
      grant.clientId !== token.clientId ||
      grant.accountId !== token.accountId
    ) {
      return invalid(res, 'invalid_token', 'access token no longer valid', token.clientId)
    }
    const account = await deps.accounts.get(token.accountId).catch(() => null)
    if (!account || account.status !== 'active')
      return invalid(res, 'invalid_token', 'account no longer active', token.clientId)
    // Issued to an earlier account under the same external_id (deleted, then made again).
    if (!isGrantOf(grant, account))
      return invalid(res, 'invalid_token', 'access token no longer valid', token.clientId)
    const document = scopeFilter(integration.mapping.apply(account), token.scope)
    res.json({
      ...document,
      sub: deps.door.subjectFor(clientSubject(integration.record.settings), token.accountId),
    })
  }

  router.get('/me', noStore, handle)
  router.post('/me', noStore, urlencoded({ extended: false, limit: '8kb' }), handle)
  return router
}
