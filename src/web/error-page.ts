/**
 * @module web/error-page
 * The error page a member sees (views/error.html): what happened in one plain sentence, the way
 * back to the site ("Go back to <SITE_NAME> and try again", a link when the site's front page is
 * known), and in small print the request id and the protocol code, which are what the site's
 * team needs to find the refusal in the log and the events. Every value is HTML-escaped; nothing
 * from the request is shown but its own id.
 */
import { escapeHtml, page, raw, type RawHtml, type SiteLook } from './views.ts'

/** What one error page says. */
export interface ErrorPageContent {
  /** The page's heading. */
  title: string
  /** What happened, for a member, as a sentence ("This chat's sign-in link is not valid."). */
  sentence: string
  /** The protocol or wire code (`invalid_redirect_uri`), shown in small print. */
  code: string
  /** A technical detail for the site's team, in small print beside the code (never a secret). */
  detail?: string | undefined
  /** The request's id (web/request-id.ts), shown so a member can quote it. */
  requestId?: string | undefined
}

/**
 * "Go back to <SITE_NAME> and try again.", the name a link to the site's front page when one is
 * configured (SiteLook.homeUrl).
 */
export function backToSite(site: SiteLook): RawHtml {
  const name = escapeHtml(site.name)
  const target = site.homeUrl ? `<a href="${escapeHtml(site.homeUrl)}">${name}</a>` : name
  return raw(`Go back to ${target} and try again.`)
}

/**
 * The whole error page inside the sign-in pages' layout.
 * @example res.status(400).type('html').send(errorPage(site, { title, sentence, code, requestId }))
 */
export function errorPage(site: SiteLook, c: ErrorPageContent): string {
  const print = [
    c.requestId ? `Request id <code>${escapeHtml(c.requestId)}</code>` : '',
    `Error <code>${escapeHtml(c.code)}</code>${c.detail ? `: ${escapeHtml(c.detail)}` : ''}`,
  ].filter(Boolean)
  return page('error', c.title, site, {
    sentence: c.sentence,
    back: backToSite(site),
    fine_print: raw(print.join('<br>')),
  })
}
