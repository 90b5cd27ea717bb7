/**
 * @module config/schema
 * Every setting sso-bridge reads, with its default and why. `.env.example` lists the same keys
 * (a test holds the two together). Only `config/load.ts` turns the environment into this shape.
 */
import proxyaddr from 'proxy-addr'
import { z } from 'zod'

const port = z.coerce.number().int().min(0).max(65535)
const positiveInt = z.coerce.number().int().positive()

/** Conflict rules (accounts/conflicts.ts says what each does). */
export const USERNAME_POLICIES = ['reject', 'takeover', 'suffix', 'prompt'] as const
/** Email has no `suffix` rule: an address with a suffix added would no longer reach its owner. */
export const EMAIL_POLICIES = ['reject', 'takeover', 'prompt'] as const
/** How a username already held by another account is resolved (CONFLICT_USERNAME). */
export type UsernamePolicy = (typeof USERNAME_POLICIES)[number]
/** How an email already held by another account is resolved (CONFLICT_EMAIL). */
export type EmailPolicy = (typeof EMAIL_POLICIES)[number]
/** The conflict rule per contested field, as `createAccountService({ conflicts })` takes it. */
export interface ConflictPolicies {
  username: UsernamePolicy
  email: EmailPolicy
}

/** The default of SECRET_ENV_PREFIX: the only environment variables an integration secret may name. */
export const DEFAULT_SECRET_ENV_PREFIX = 'SSO_BRIDGE_SECRET_'

/**
 * TRUST_PROXY, parsed: false, a hop count (express `trust proxy` N: believe the N nearest
 * hops of X-Forwarded-For), or proxy addresses/CIDRs/names (believe hops from those).
 */
export type TrustProxy = false | number | string[]

/** More proxies than this in front of one server is a typo, not a deployment. */
const MAX_PROXY_HOPS = 16

/** Values LOG_LEVEL accepts: pino's levels, plus `silent` to log nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Raw environment → typed values. Keys are the environment variable names. */
export const envSchema = z.object({
  /** TCP port to listen on. */
  PORT: port.default(3000),
  /**
   * Serves GET /metrics alone on this port (on HOST, no admin token: keep it private); unset,
   * /metrics is on PORT behind ADMIN_TOKEN.
   */
  METRICS_PORT: port.optional(),
  /** Interface to bind; `0.0.0.0` listens on every IPv4 interface. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Public base URL (what browsers and platforms see); default http://localhost:PORT. */
  ISSUER: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .refine((v) => !new URL(v).search && !new URL(v).hash, 'must not have a query or fragment')
    .optional(),
  /** Folder for the embedded SQLite file and generated state (admin token). */
  DATA_DIR: z.string().min(1).default('./data'),
  /** postgres://… selects PostgreSQL; unset uses the embedded SQLite file in DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Folder holding the OIDC JWKS and the SAML key and certificate (generated when absent). */
  KEYS_DIR: z.string().min(1).default('./keys'),
  /** Bearer token for /api/v1; when unset one is generated into DATA_DIR on first start. */
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** pino log level. */
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Largest JSON body accepted by the API, in bytes (413 above it). */
  MAX_BODY_BYTES: positiveInt.default(1_048_576),
  /** Largest bulk-import body, in bytes (413 above it); imports are streamed. */
  IMPORT_MAX_BYTES: positiveInt.default(268_435_456),
  /** What a write does with a username another account holds: reject, takeover, suffix or prompt. */
  CONFLICT_USERNAME: z.enum(USERNAME_POLICIES).default('reject'),
  /** What a write does with an email another account holds: reject, takeover or prompt. */
  CONFLICT_EMAIL: z.enum(EMAIL_POLICIES).default('reject'),
  /** The site's name, shown on the sign-in pages. */
  SITE_NAME: z.string().min(1).max(80).default('sso-bridge'),
  /** Accent colour of the sign-in pages (#rgb or #rrggbb). */
  SITE_COLOR: z
    .string()
    .regex(/^#(?:[0-9a-fA-F]{3}){1,2}$/, 'must be a hex colour such as #2a6df4')
    .default('#2a6df4'),
  /** How long a bridge sign-in lasts, in seconds (one session for every door). */
  SESSION_TTL: z.coerce
    .number()
    .int()
    .min(60)
    .max(90 * 86_400)
    .default(8 * 3600),
  /** How many days events (GET /api/v1/events) are kept before they are pruned. */
  EVENTS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** SAML: how far an AuthnRequest's IssueInstant may be from our clock, in seconds (replayed IDs are refused regardless). */
  SAML_CLOCK_SKEW: z.coerce.number().int().min(10).max(3600).default(180),
  /**
   * Which reverse proxies to believe about the client (X-Forwarded-For for the throttle's IP,
   * X-Forwarded-Proto for https): `false`; `true` (one hop: the proxy this server talks to);
   * a hop count; or a comma list of proxy addresses, CIDRs and express's names (`loopback`,
   * `linklocal`, `uniquelocal`). Never "every hop": the client writes the left of the header.
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v, ctx): TrustProxy => {
      const value = v.trim()
      if (value === 'false' || value === '0') return false
      if (value === 'true') return 1
      if (/^\d+$/.test(value)) {
        const hops = Number(value)
        if (hops <= MAX_PROXY_HOPS) return hops
        ctx.addIssue({ code: 'custom', message: `a hop count is at most ${MAX_PROXY_HOPS}` })
        return z.NEVER
      }
      const list = value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
      // A range of every address would be "trust every hop" again, spelled as a CIDR.
      const everything = list.find((p) => /\/(?:0+|0+\.0+\.0+\.0+)$/.test(p))
      if (everything) {
        ctx.addIssue({
          code: 'custom',
          message: `"${everything}" covers every address: list your proxies' addresses, or give a hop count`,
        })
        return z.NEVER
      }
      try {
        // proxy-addr is what express compiles `trust proxy` with: the same forms are accepted.
        proxyaddr.compile(list)
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `must be false, true, a hop count or a comma list of proxy addresses/CIDRs (${(err as Error).message})`,
        })
        return z.NEVER
      }
      return list.length > 0 ? list : false
    }),
  /** Sign-in attempts allowed per account (however its login is spelled) within LOGIN_ATTEMPTS_WINDOW. */
  LOGIN_ATTEMPTS_PER_ACCOUNT: positiveInt.default(8),
  /** Sign-in attempts allowed per client IP within LOGIN_ATTEMPTS_WINDOW (successes are given back). */
  LOGIN_ATTEMPTS_PER_IP: positiveInt.default(30),
  /** Seconds of the fixed window the sign-in counters are kept for (a lock lasts at most this long). */
  LOGIN_ATTEMPTS_WINDOW: z.coerce.number().int().min(1).max(86_400).default(900),
  /** A refused sign-in is answered no sooner than this many ms after it began (hides which kind of account was tried); 0 turns it off. */
  LOGIN_FAILURE_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /**
   * Key-encryption keys of the secrets at rest (secrets/box.ts), comma-separated, each 32 bytes
   * as 64 hex digits or base64/base64url: the first encrypts, every one decrypts (rotation:
   * put the new key first, run `sso-bridge secrets rekey`, then drop the old one). Unset: the key
   * file KEYS_DIR/secrets-key, generated on first start.
   */
  SECRETS_KEY: z
    .string()
    .superRefine((v, ctx) => {
      const parts = v.split(',').map((p) => p.trim())
      parts.forEach((part, i) => {
        if (!decodeSecretsKey(part))
          ctx.addIssue({
            code: 'custom',
            message: `key ${i + 1} of ${parts.length} is not 32 bytes as 64 hex digits or base64/base64url (e.g. openssl rand -base64 32)`,
          })
      })
    })
    .optional(),
  /** `true`: every operator must pass a TOTP step to open /console (without one set up: refused). */
  CONSOLE_REQUIRE_TOTP: z.enum(['true', 'false']).default('false'),
  /** Seconds without a request after which a console session ends. */
  CONSOLE_IDLE_TIMEOUT: z.coerce.number().int().min(60).max(86_400).default(900),
  /** Seconds after the password was entered at which a console session ends, active or not. */
  CONSOLE_ABSOLUTE_TIMEOUT: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(8 * 3600),
  /** Milliseconds to let in-flight requests finish on SIGTERM/SIGINT before closing anyway. */
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  /**
   * HS256 shared secret of site tickets (32+ bytes). With SITE_TICKET_PUBLIC_KEY unset too,
   * /ticket is off.
   */
  SITE_TICKET_SECRET: z
    .string()
    .refine((v) => Buffer.byteLength(v) >= 32, 'must be at least 32 bytes')
    .optional(),
  /**
   * The site's public key for site tickets: SPKI PEM text (`\n` escapes allowed) or a PEM file's
   * path; RSA 2048+ verifies RS256, EC P-256 verifies ES256. Checked by config/load.ts.
   */
  SITE_TICKET_PUBLIC_KEY: z.string().optional(),
  /**
   * An integration secret `{"env": NAME}` may only name variables starting with this prefix, so an
   * admin cannot send the server's own settings (SITE_TICKET_SECRET, DATABASE_URL, cloud
   * credentials) to a platform. It may not be the start of any setting's name here (config/load.ts).
   */
  SECRET_ENV_PREFIX: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      'must be the start of an environment variable name (letters, digits, _)',
    )
    .default(DEFAULT_SECRET_ENV_PREFIX),
  /**
   * The site's sign-in hand-off page (README "Signing in at the site"): a door that needs a member
   * and finds no bridge session sends the browser there with `return_to` (and `force=1` when a
   * fresh sign-in is required); the site answers with a ticket. Unset: sso-bridge's own form.
   */
  SITE_LOGIN_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .refine((v) => !new URL(v).hash, 'must not have a fragment')
    .optional(),
  /**
   * sso-bridge's own password form: `on` or `off`. Default: off when SITE_LOGIN_URL is set (the
   * site is the only way in), on otherwise; `off` without SITE_LOGIN_URL leaves no way in and
   * stops startup (config/load.ts).
   */
  PASSWORD_SIGN_IN: z.enum(['on', 'off']).optional(),
  /** Comma-separated origins a site ticket's return_to may lead to, e.g. https://www.example.com. */
  SITE_ORIGINS: z
    .string()
    .superRefine((v, ctx) => {
      for (const part of v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        if (!isOrigin(part))
          ctx.addIssue({
            code: 'custom',
            message: `"${part}" is not an origin such as https://www.example.com (scheme, host and optional port only)`,
          })
      }
    })
    .optional(),
  /**
   * Optional: the site's own sign-out URL. A sign-out that starts at sso-bridge (OIDC end_session
   * without a post_logout_redirect_uri) sends the browser on to it, so the site signs out too.
   */
  SITE_LOGOUT_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048)
    .refine((v) => !new URL(v).hash, 'must not have a fragment')
    .optional(),
  /**
   * `on` lets OIDC back-channel logout tokens reach relying parties on loopback or private
   * addresses (10.x, 192.168.x, 127.x…); `off` (the default) refuses them, as oidc-provider does
   * against server-side request forgery.
   */
  BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS: z.enum(['on', 'off']).default('off'),
})

/**
 * One SECRETS_KEY entry as its 32 bytes: 64 hex digits, or base64 / base64url (43 characters,
 * or 44 with one `=`), e.g. `openssl rand -base64 32` or `openssl rand -hex 32`. Null otherwise.
 */
export function decodeSecretsKey(text: string): Buffer | null {
  const t = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex')
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) return null
  const key = Buffer.from(t.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), 'base64url')
  return key.length === 32 ? key : null
}

/** `http(s)://host[:port]` with nothing after it (a trailing slash is tolerated). */
export function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false
  const u = new URL(value)
  return (
    (u.protocol === 'https:' || u.protocol === 'http:') &&
    u.pathname === '/' &&
    !/[?#]/.test(value) &&
    !u.username &&
    !u.password
  )
}
