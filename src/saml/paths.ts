/**
 * @module saml/paths
 * Where the SAML door's endpoints live, relative to the issuer: one table for the IdP metadata,
 * the routes and the connection sheet.
 */
export const SAML_ROUTES = {
  metadata: '/saml/metadata',
  sso: '/saml/sso',
  slo: '/saml/slo',
  idpInitiated: '/saml/idp-initiated',
  /** Back from the sign-in page: `/saml/continue/<pending id>`. */
  continue: '/saml/continue',
} as const
