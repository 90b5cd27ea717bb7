/**
 * @module tokens/discourse/paths
 * Where the DiscourseConnect endpoints live, relative to the issuer: one table for
 * tokens/routes/discourse.ts, the connection sheet and the start-up line (http/startup-log.ts).
 */
export const DISCOURSE_ROUTES = {
  /** Discourse's `discourse_connect_url`: GET `?sso=…&sig=…` from the forum. */
  sso: (id: string) => `/discourse/${id}/sso`,
  /** Back from signing in: `/discourse/continue/<pending id>`. */
  continue: '/discourse/continue',
} as const
