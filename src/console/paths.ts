/**
 * @module console/paths
 * The console's paths: all under /console, the Path its cookie is scoped to. Each page's file
 * (console/routes/pages/) mounts its own paths from here, so the nav, the start-up line and the
 * tests read one table.
 */

/** Every path the console answers. */
export const CONSOLE_ROUTES = {
  home: '/console',
  login: '/console/login',
  totp: '/console/totp',
  logout: '/console/logout',
  integrations: '/console/integrations',
  /** The catalogue: pick a platform, then its form. */
  integrationNew: '/console/integrations/new',
  /** One integration: its settings (edit), secrets, delete. */
  integration: '/console/integrations/:id',
  /** Deleting one: a confirmation page (type the id), then the delete. */
  integrationDelete: '/console/integrations/:id/delete',
  /** Regenerating a generated secret (the OIDC client secret): confirmation, then shown once. */
  integrationRegenerate: '/console/integrations/:id/regenerate',
  /** The connection sheet as numbered steps with copy buttons. */
  integrationConnection: '/console/integrations/:id/connection',
  /** "Test Integration": what the platform would receive for a member; live checks. */
  integrationTest: '/console/integrations/:id/test',
  /** Test: Dead Simple Chat's Create User sent for real (POST). */
  integrationTestSend: '/console/integrations/:id/test/send',
  /** Test: the OIDC live round trip (POST). */
  integrationTestOidc: '/console/integrations/:id/test/oidc',
  /** Test: the SAML SP's metadata fetched and compared (POST). */
  integrationTestSaml: '/console/integrations/:id/test/saml-metadata',
  /** The mapping editor beside its live preview. */
  integrationMapping: '/console/integrations/:id/mapping',
  /** The mapping editor's Preview: the edited mapping applied, nothing saved (POST). */
  integrationMappingPreview: '/console/integrations/:id/mapping/preview',
  members: '/console/members',
  /** One member: fields, sign-ins, sessions, tokens; the edit form (POST saves). */
  member: '/console/members/:id',
  /** POST: disable or enable (`status` = disabled | active). */
  memberStatus: '/console/members/:id/status',
  /** GET: the confirmation page (type the username); POST: delete. */
  memberDelete: '/console/members/:id/delete',
  /** POST: sign out everywhere (every bridge and OIDC session of the member). */
  memberSessions: '/console/members/:id/sessions',
  activity: '/console/activity',
  /** Activity as CSV, with the same filters as the page. */
  activityCsv: '/console/activity.csv',
  audit: '/console/audit',
  keys: '/console/keys',
  /** POST: rotate the OIDC and SAML signing keys in KEYS_DIR. */
  keysRotate: '/console/keys/rotate',
} as const

/**
 * A console path with its `:name` parameters filled in (percent-encoded).
 * @example consolePath('integration', { id: 'chat' }) // '/console/integrations/chat'
 */
export function consolePath(
  route: keyof typeof CONSOLE_ROUTES,
  params: Record<string, string> = {},
): string {
  return CONSOLE_ROUTES[route].replace(/:(\w+)/g, (_m, name: string) => {
    const value = params[name]
    if (value === undefined) throw new Error(`consolePath ${route}: no value for :${name}`)
    return encodeURIComponent(value)
  })
}
