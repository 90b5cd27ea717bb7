/**
 * @module login/paths
 * Where login's endpoints live, relative to the issuer: one table for its routes (login/routes/)
 * and for the start-up line that lists every door's URLs (http/startup-log.ts).
 */
export const LOGIN_ROUTES = {
  /** The standalone sign-in page (GET the form, POST the password). */
  login: '/login',
  /** The site-ticket door: a member already signed in on the site walks in. */
  ticket: '/ticket',
  /** The site's sign-out: a logout ticket ends the member's bridge sessions. */
  logout: '/logout',
} as const
