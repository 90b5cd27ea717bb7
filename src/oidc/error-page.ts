/**
 * @module oidc/error-page
 * What a member sees when the OIDC door refuses a request it cannot send back to the chat
 * (oidc-provider's `renderError`: an unknown client, a redirect_uri the client never registered,
 * a malformed request): a plain sentence per protocol error, the way back to the site, and the
 * request id and protocol code in small print (web/error-page.ts). Never a link or redirect to
 * the request's redirect_uri — oidc-provider calls this precisely when it is not to be trusted.
 * A client that asked for JSON gets oidc-provider's own JSON body instead.
 */
import type { KoaContextWithOIDC } from 'oidc-provider'
import { errorPage } from '../web/error-page.ts'
import { requestIdOf } from '../web/request-id.ts'
import type { SiteLook } from '../web/views.ts'

/** The heading of every OIDC error page. */
export const OIDC_ERROR_TITLE = 'Could not sign you in'

/** The sentence for an error name not in {@link SENTENCES}. */
const DEFAULT_SENTENCE = "This chat's sign-in link is not valid."

/**
 * The common protocol errors (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6, oidc-provider's
 * `invalid_redirect_uri`) in words a member can act on.
 */
const SENTENCES: Record<string, string> = {
  invalid_request: DEFAULT_SENTENCE,
  invalid_client: 'This chat is not set up to sign in here.',
  invalid_redirect_uri:
    "This chat's sign-in link is not valid: it would send you to an address the chat never registered, so you were not sent there.",
  unauthorized_client: 'This chat is not allowed to sign you in this way.',
  unsupported_response_type: DEFAULT_SENTENCE,
  invalid_scope: "This chat's sign-in link asks for something it may not have.",
  access_denied: 'Signing in was cancelled, so the chat was not told who you are.',
  login_required: 'You are not signed in, and this chat asked to sign you in without a page.',
  consent_required: 'This chat needs your permission, and it asked not to show a page.',
  interaction_required: 'This chat needs you to sign in, and it asked not to show a page.',
  server_error: 'Something went wrong on our side while signing you in. Nothing was changed.',
  temporarily_unavailable: 'Signing in is unavailable for a moment.',
}

/**
 * The member's sentence for an OAuth 2.0 / OIDC error name.
 * @example oidcErrorSentence('invalid_client') // 'This chat is not set up to sign in here.'
 */
export function oidcErrorSentence(error: string): string {
  return Object.hasOwn(SENTENCES, error) ? SENTENCES[error]! : DEFAULT_SENTENCE
}

/**
 * oidc-provider's `renderError` (its `configuration.renderError`): the member's error page, or
 * for a client that prefers JSON (oidc-provider's authorization endpoint calls this whatever the
 * Accept header says) its own `{error, error_description}` body. The status is oidc-provider's.
 * @param site the sign-in pages' look (SITE_NAME, its front page)
 */
export function renderOidcError(site: SiteLook) {
  return (ctx: KoaContextWithOIDC, out: Record<string, unknown>): void => {
    // html first: a browser's navigation or a bare `*/*` gets the page, a client that names JSON
    // (and not HTML) gets JSON. Koa picks the first type listed when both are equally acceptable.
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.type = 'json'
      ctx.body = out
      return
    }
    const error = typeof out.error === 'string' ? out.error : 'server_error'
    ctx.type = 'html'
    ctx.body = errorPage(site, {
      title: OIDC_ERROR_TITLE,
      sentence: oidcErrorSentence(error),
      code: error,
      requestId: requestIdOf(ctx.res),
    })
  }
}
