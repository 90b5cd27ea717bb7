/**
 * @module http/startup-log
 * What the server tells its operator once, at start, about where it can be reached:
 * - one line listing every door and its URLs (`code: STARTUP_DOORS`), built from the path tables
 *   the routes themselves are mounted from (oidc/paths.ts, saml/paths.ts, tokens/paths.ts,
 *   tokens/discourse/paths.ts, login/paths.ts, console/paths.ts, http/paths.ts), so the line cannot drift from what is served;
 * - a warning (`code: ISSUER_LOCALHOST_PUBLIC_BIND`) when ISSUER names this machine's loopback
 *   (its default is http://localhost:PORT) while the server listens on an interface other
 *   machines reach: every URL it writes (discovery, SAML metadata, redirects, connection sheets)
 *   would then send browsers and platforms to their own machine.
 */
import { BlockList, isIP } from 'node:net'
import { CONSOLE_ROUTES } from '../console/paths.ts'
import type { LogCode, Logger } from '../log/logger.ts'
import { LOGIN_ROUTES } from '../login/paths.ts'
import { OIDC_DISCOVERY, OIDC_ROUTES } from '../oidc/paths.ts'
import { SAML_ROUTES } from '../saml/paths.ts'
import { DISCOURSE_ROUTES } from '../tokens/discourse/paths.ts'
import { TOKEN_ROUTES } from '../tokens/paths.ts'
import { HTTP_ROUTES } from './paths.ts'

/** What an integration-scoped path (`/tokens/<id>`) is listed with in place of the id. */
export const INTEGRATION_ID = '{integration_id}'

/** A door's path table: fixed paths, or paths of one integration (`(id) => path`). */
type PathTable = Readonly<Record<string, string | ((id: string) => string)>>

/** Every door's URLs by name, as {@link doorUrls} lists them. */
export type DoorUrls = Record<
  'oidc' | 'saml' | 'tokens' | 'discourse' | 'login' | 'console' | 'server',
  Record<string, string>
>

const urls = (issuer: string, table: PathTable): Record<string, string> =>
  Object.fromEntries(
    Object.entries(table).map(([name, p]) => [
      name,
      `${issuer}${typeof p === 'function' ? p(INTEGRATION_ID) : p}`,
    ]),
  )

/**
 * Every door's URLs under `issuer`, one entry per path-table entry.
 * @param issuer ISSUER without a trailing slash
 * @example doorUrls('https://sso.example.com').saml.metadata // 'https://sso.example.com/saml/metadata'
 */
export function doorUrls(issuer: string): DoorUrls {
  return {
    oidc: { issuer, discovery: `${issuer}${OIDC_DISCOVERY}`, ...urls(issuer, OIDC_ROUTES) },
    saml: urls(issuer, SAML_ROUTES),
    tokens: urls(issuer, TOKEN_ROUTES),
    discourse: urls(issuer, DISCOURSE_ROUTES),
    login: urls(issuer, LOGIN_ROUTES),
    // Its pages with parameters (one integration, one member) are reached from the others.
    console: urls(
      issuer,
      Object.fromEntries(Object.entries(CONSOLE_ROUTES).filter(([, p]) => !p.includes(':'))),
    ),
    server: urls(issuer, HTTP_ROUTES),
  }
}

// Node's own matcher for the loopback ranges (RFC 1122 §3.2.1.3: 127/8; RFC 4291 §2.5.3: ::1).
const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/**
 * Whether a host name or address is this machine's loopback: `localhost` (and `*.localhost`,
 * RFC 6761 §6.3), 127.0.0.0/8, ::1 and their IPv4-mapped form. Any other name may resolve to a
 * public address, so it counts as public.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(h)
  if (mapped) return LOOPBACK.check(mapped[1]!, 'ipv4')
  const family = isIP(h)
  return family !== 0 && LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6')
}

/**
 * Whether ISSUER names the loopback while HOST binds an interface others reach (0.0.0.0, ::, an
 * external address or name): the mistake of a first deployment that kept the default ISSUER.
 * An explicit localhost ISSUER on a public bind is the same mistake, so it warns too.
 */
export function issuerUnreachable({ issuer, host }: { issuer: string; host: string }): boolean {
  return isLoopbackHost(new URL(issuer).hostname) && !isLoopbackHost(host)
}

/**
 * Logs the start-up lines of the module doc: the warning (when it applies), then the doors.
 * @param log the process logger
 * @param where ISSUER and HOST from the config
 */
export function logStartup(log: Logger, where: { issuer: string; host: string }): void {
  if (issuerUnreachable(where)) {
    const code: LogCode = 'ISSUER_LOCALHOST_PUBLIC_BIND'
    log.warn(
      { code, issuer: where.issuer, host: where.host },
      `ISSUER is ${where.issuer} but the server listens on ${where.host}: browsers and platforms on other machines cannot follow the URLs it writes (discovery, SAML metadata, redirects). Set ISSUER to the public URL (https://sso.example.com), or HOST=127.0.0.1 to listen on this machine only`,
    )
  }
  // The line holds URLs built from ISSUER only; the redaction pass would censor the OIDC door's
  // `token` URL (a key named like a credential), so this line skips it.
  const code: LogCode = 'STARTUP_DOORS'
  log
    .child({}, { redact: [] })
    .info({ code, doors: doorUrls(where.issuer) }, 'doors and their URLs')
}
