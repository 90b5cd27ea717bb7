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
  members: '/console/members',
  activity: '/console/activity',
  audit: '/console/audit',
  keys: '/console/keys',
} as const
