/**
 * @module console/paths
 * The console's paths: all under /console, the Path its cookie is scoped to.
 */

/** Every path the console answers (its pages come with issue #14's later parts). */
export const CONSOLE_ROUTES = {
  home: '/console',
  login: '/console/login',
  totp: '/console/totp',
  logout: '/console/logout',
} as const
