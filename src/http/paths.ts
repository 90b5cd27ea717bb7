/**
 * @module http/paths
 * Where the shell's own endpoints live, relative to the issuer: health, documentation, the admin
 * API and the home page. One table for the routers that serve them, the home page's links and the
 * start-up line that lists every door's URLs (startup-log.ts).
 */
export const HTTP_ROUTES = {
  home: '/',
  /** Live: the process answers. */
  health: '/healthz',
  /** Ready: the database answers too. */
  ready: '/readyz',
  /** The README and docs/ as HTML (`/docs/<page>`). */
  docs: '/docs',
  /** The admin API (bearer ADMIN_TOKEN). */
  adminApi: '/api/v1',
  /** Prometheus metrics: here behind ADMIN_TOKEN, or alone on METRICS_PORT. */
  metrics: '/metrics',
} as const
