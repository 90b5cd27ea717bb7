/**
 * @module config/load
 * Reads the environment once, at startup, into a frozen {@link Config}. A `.env` file (if
 * present) fills keys the real environment leaves unset. Any bad value stops startup with a
 * message naming every offending key.
 */
import { createPublicKey } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { ConfigInvalid } from '../errors/index.ts'
import {
  decodeSecretsKey,
  envSchema,
  LOG_LEVELS,
  type ConflictPolicies,
  type TrustProxy,
} from './schema.ts'

/** Keys whose values are credentials (DATABASE_URL may embed a password). */
const SECRET_KEYS = new Set(['ADMIN_TOKEN', 'DATABASE_URL', 'SITE_TICKET_SECRET', 'SECRETS_KEY'])

/**
 * The slice of config `createStore` takes: PostgreSQL when DATABASE_URL is set, else the SQLite
 * file under DATA_DIR.
 */
export interface StoreConfig {
  kind: 'sqlite' | 'postgres'
  /** SQLite file path (kind sqlite). */
  file: string
  /** Connection string (kind postgres). */
  url?: string
}

/**
 * The typed, validated configuration {@link loadConfig} returns. Only this object carries what
 * came from the environment: no other module reads `process.env` (STYLE §5); each part gets
 * the slice it needs.
 */
export interface Config {
  port: number
  host: string
  /** Public base URL without a trailing slash. */
  issuer: string
  dataDir: string
  keysDir: string
  store: StoreConfig
  /** Set when ADMIN_TOKEN is configured; otherwise main.ts loads or generates one. */
  adminToken?: string
  logLevel: (typeof LOG_LEVELS)[number]
  maxBodyBytes: number
  importMaxBytes: number
  shutdownTimeoutMs: number
  /**
   * The sign-in pages' look: SITE_NAME, SITE_COLOR, and `homeUrl`, the site's front page that the
   * error pages link back to — SITE_LOGIN_URL's origin (there is no SITE_URL); unset without it.
   */
  site: { name: string; color: string; homeUrl?: string }
  sessionTtlMs: number
  /** EVENTS_RETENTION_DAYS in ms: how long events are kept. */
  eventsRetentionMs: number
  /** METRICS_PORT: GET /metrics on a listener of its own; unset, on the main port. */
  metricsPort?: number
  /** SAML_CLOCK_SKEW in ms. */
  samlSkewMs: number
  /** TRUST_PROXY: false, a hop count, or proxy addresses/CIDRs (see config/schema.ts). */
  trustProxy: TrustProxy
  /** Sign-in throttle (LOGIN_ATTEMPTS_*), per account and per IP. */
  throttle: { ip: { max: number; windowMs: number }; account: { max: number; windowMs: number } }
  /** LOGIN_FAILURE_DELAY_MS. */
  loginFailureFloorMs: number
  /** The operator console (CONSOLE_*). */
  console: ConsoleConfig
  /** Conflict rules for usernames and emails held by another account. */
  conflicts: ConflictPolicies
  siteTicket: SiteTicketConfig
  siteLogin: SiteLoginConfig
  /** SITE_LOGOUT_URL: where a sign-out that starts here sends the browser on. */
  siteLogoutUrl?: string
  /** BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS=on: back-channel logout may reach private addresses. */
  backchannelPrivateNetworks: boolean
  /**
   * Looks up an environment variable that an integration names as its secret's source. The
   * snapshot is taken here, once, so no other module reads `process.env`.
   */
  readSecretEnv: (name: string) => string | undefined
  /** SECRET_ENV_PREFIX: `{ env }` secrets may only name variables starting with it. */
  secretEnvPrefix: string
  /**
   * SECRETS_KEY, decoded (32 bytes each; the first encrypts). Absent: keys/secrets-key.ts uses
   * the key file in KEYS_DIR.
   */
  secretsKeys?: readonly Buffer[]
}

/** The operator console's sign-in (console/): CONSOLE_REQUIRE_TOTP and its two timeouts. */
export interface ConsoleConfig {
  requireTotp: boolean
  /** CONSOLE_IDLE_TIMEOUT in ms. */
  idleMs: number
  /** CONSOLE_ABSOLUTE_TIMEOUT in ms. */
  absoluteMs: number
}

/** Site tickets (login/ticket.ts): on when a secret or a public key is set. */
export interface SiteTicketConfig {
  /** HS256 shared secret. */
  secret?: string
  /** SPKI PEM text of the site's RS256/ES256 public key (read from the file when a path was given). */
  publicKey?: string
  /** Allow-listed origins for return_to, normalized (`https://www.example.com`). */
  origins: string[]
}

/** Signing in at the site (SITE_LOGIN_URL, PASSWORD_SIGN_IN). */
export interface SiteLoginConfig {
  /** The site's hand-off page; unset: sso-bridge's own form. */
  url?: string
  /** Whether sso-bridge's own password form is offered. */
  passwordSignIn: boolean
}

/** How {@link loadConfig} finds its dotenv file. */
export interface LoadOptions {
  /** Path of a dotenv file merged under `env`; default `.env` in the working directory. */
  envFile?: string | false
}

/**
 * @param env the environment (usually `process.env`)
 * @throws {ConfigInvalid} listing each bad key and why
 * @example const config = loadConfig(process.env)
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): Readonly<Config> {
  const merged: Record<string, string | undefined> = {
    ...readEnvFile(options.envFile ?? '.env'),
    ...env,
  }
  // An empty value means "unset" for every key, as in most dotenv tooling.
  const input = Object.fromEntries(
    Object.keys(envSchema.shape).map((k) => [k, merged[k] === '' ? undefined : merged[k]]),
  )
  const parsed = envSchema.safeParse(input)
  if (!parsed.success) {
    throw new ConfigInvalid(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0])
        // Echo the bad value to help the operator, unless the value is itself a credential.
        const got = SECRET_KEYS.has(key)
          ? 'value hidden'
          : `got ${JSON.stringify(input[key] ?? null)}`
        return { path: i.path.join('.'), message: `${i.message} (${got})` }
      }),
    )
  }
  const v = parsed.data
  // A prefix such as SITE_ or DATABASE_ would let integrations read this server's own settings.
  const exposed = Object.keys(envSchema.shape).filter((k) => k.startsWith(v.SECRET_ENV_PREFIX))
  if (exposed.length > 0) {
    throw new ConfigInvalid([
      {
        path: 'SECRET_ENV_PREFIX',
        message: `must not be the start of sso-bridge's own settings (${exposed.join(', ')})`,
      },
    ])
  }
  const siteTicket: SiteTicketConfig = {
    origins: [
      ...new Set(
        (v.SITE_ORIGINS ?? '')
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean)
          .map((o) => new URL(o).origin),
      ),
    ],
  }
  if (v.SITE_TICKET_SECRET) siteTicket.secret = v.SITE_TICKET_SECRET
  if (v.SITE_TICKET_PUBLIC_KEY) siteTicket.publicKey = readTicketPublicKey(v.SITE_TICKET_PUBLIC_KEY)
  // Off by default once the site signs members in; off with no site to send them to is no way in.
  const passwordSignIn = (v.PASSWORD_SIGN_IN ?? (v.SITE_LOGIN_URL ? 'off' : 'on')) === 'on'
  if (!passwordSignIn && !v.SITE_LOGIN_URL) {
    throw new ConfigInvalid([
      {
        path: 'PASSWORD_SIGN_IN',
        message: 'off needs SITE_LOGIN_URL: members would have no way to sign in',
      },
    ])
  }
  const siteLogin: SiteLoginConfig = { passwordSignIn }
  if (v.SITE_LOGIN_URL) siteLogin.url = v.SITE_LOGIN_URL
  const dataDir = path.resolve(v.DATA_DIR)
  const snapshot = Object.freeze({ ...merged })
  const config: Config = {
    port: v.PORT,
    host: v.HOST,
    issuer: (v.ISSUER ?? `http://localhost:${v.PORT}`).replace(/\/+$/, ''),
    dataDir,
    keysDir: path.resolve(v.KEYS_DIR),
    store: v.DATABASE_URL
      ? { kind: 'postgres', url: v.DATABASE_URL, file: '' }
      : { kind: 'sqlite', file: path.join(dataDir, 'sso-bridge.sqlite') },
    logLevel: v.LOG_LEVEL,
    maxBodyBytes: v.MAX_BODY_BYTES,
    importMaxBytes: v.IMPORT_MAX_BYTES,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    conflicts: { username: v.CONFLICT_USERNAME, email: v.CONFLICT_EMAIL },
    siteTicket,
    siteLogin,
    ...(v.SITE_LOGOUT_URL ? { siteLogoutUrl: v.SITE_LOGOUT_URL } : {}),
    backchannelPrivateNetworks: v.BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS === 'on',
    site: {
      name: v.SITE_NAME,
      color: v.SITE_COLOR,
      ...(v.SITE_LOGIN_URL ? { homeUrl: `${new URL(v.SITE_LOGIN_URL).origin}/` } : {}),
    },
    sessionTtlMs: v.SESSION_TTL * 1000,
    eventsRetentionMs: v.EVENTS_RETENTION_DAYS * 86_400_000,
    ...(v.METRICS_PORT === undefined ? {} : { metricsPort: v.METRICS_PORT }),
    samlSkewMs: v.SAML_CLOCK_SKEW * 1000,
    trustProxy: v.TRUST_PROXY,
    throttle: {
      ip: { max: v.LOGIN_ATTEMPTS_PER_IP, windowMs: v.LOGIN_ATTEMPTS_WINDOW * 1000 },
      account: { max: v.LOGIN_ATTEMPTS_PER_ACCOUNT, windowMs: v.LOGIN_ATTEMPTS_WINDOW * 1000 },
    },
    loginFailureFloorMs: v.LOGIN_FAILURE_DELAY_MS,
    console: {
      requireTotp: v.CONSOLE_REQUIRE_TOTP === 'true',
      idleMs: v.CONSOLE_IDLE_TIMEOUT * 1000,
      absoluteMs: v.CONSOLE_ABSOLUTE_TIMEOUT * 1000,
    },
    readSecretEnv: (name) => {
      // Own keys only: `toString` is no environment variable.
      const value = Object.hasOwn(snapshot, name) ? snapshot[name] : undefined
      return value === '' ? undefined : value
    },
    secretEnvPrefix: v.SECRET_ENV_PREFIX,
  }
  if (v.ADMIN_TOKEN) config.adminToken = v.ADMIN_TOKEN
  if (v.SECRETS_KEY) config.secretsKeys = v.SECRETS_KEY.split(',').map((k) => decodeSecretsKey(k)!)
  return Object.freeze(config)
}

/** PEM text, or the path of a PEM file; checked here so a bad key stops startup. */
function readTicketPublicKey(value: string): string {
  const fail = (message: string): never => {
    throw new ConfigInvalid([{ path: 'SITE_TICKET_PUBLIC_KEY', message }])
  }
  let pem = value.includes('-----BEGIN') ? value.replaceAll('\\n', '\n') : ''
  if (!pem) {
    try {
      pem = readFileSync(path.resolve(value), 'utf8')
    } catch {
      fail(`is neither PEM text nor a readable PEM file (${JSON.stringify(value.slice(0, 200))})`)
    }
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem))
    fail('must be the public key (SPKI PEM), never the private key')
  let key: ReturnType<typeof createPublicKey> | undefined
  try {
    key = createPublicKey(pem)
  } catch {
    fail('is not a PEM public key')
  }
  if (key!.type !== 'public') fail('must be a public key')
  const { asymmetricKeyType: type, asymmetricKeyDetails: d } = key!
  if (type === 'rsa' && (d?.modulusLength ?? 0) < 2048)
    fail('RSA keys must have at least 2048 bits (RS256)')
  if (type === 'ec' && d?.namedCurve !== 'prime256v1')
    fail('EC keys must be on the P-256 curve (ES256)')
  if (type !== 'rsa' && type !== 'ec')
    fail(`unsupported key type ${type} (use RSA for RS256 or EC P-256 for ES256)`)
  return pem
}

function readEnvFile(file: string | false): Record<string, string> {
  if (!file || !existsSync(file)) return {}
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>
  } catch (cause) {
    throw new ConfigInvalid([
      { path: file, message: `cannot be parsed as a dotenv file (${String(cause)})` },
    ])
  }
}
