/**
 * Builds the real express app over a real SQLite store in a temp dir. Nothing is mocked: tests
 * drive it over HTTP with supertest.
 */
import { testSecretBox } from './secrets.ts'
import type { SecretBox } from '../../src/secrets/index.ts'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { JWK } from 'jose'
import { toPublicJwk, type KeyMaterial } from '../../src/keys/index.ts'
import type { ThrottleRules } from '../../src/login/throttle.ts'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { createDoors, type Doors } from '../../src/doors.ts'
import { createApp } from '../../src/http/app.ts'
import type { SiteTicketSettings } from '../../src/login/routes/ticket.ts'
import { createLogger } from '../../src/log/logger.ts'
import { createServices } from '../../src/services.ts'
import type { ConflictPolicies, ConsoleConfig } from '../../src/config/index.ts'
import type { Store } from '../../src/store/ports.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef'

export interface TestApp {
  app: ReturnType<typeof createApp>
  services: ReturnType<typeof createServices>
  /** The doors the app mounts (createDoors, as main.ts builds them). */
  doors: Doors
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[]
  /** The raw log text, to search for leaked secrets. */
  logText: () => string
  env: Record<string, string>
  close: () => Promise<void>
}

export interface TestAppOptions {
  maxBodyBytes?: number
  importMaxBytes?: number
  env?: Record<string, string>
  conflicts?: ConflictPolicies
  /** Another store than a fresh SQLite file (e.g. PostgreSQL); the test closes it. */
  store?: Store
  /** Sign-in limits (config LOGIN_ATTEMPTS_*); the defaults without. */
  throttle?: ThrottleRules
  /**
   * LOGIN_FAILURE_DELAY_MS; 0 here unless given, so tests that fail sign-ins on purpose do not
   * wait a second each (test/security/throttle-timing.test.ts sets it).
   */
  loginFailureFloorMs?: number
  issuer?: string
  /** Site tickets (as config SITE_TICKET_* / SITE_ORIGINS); /ticket is off without. */
  siteTicket?: SiteTicketSettings
  /** Signing in at the site (as config SITE_LOGIN_URL / PASSWORD_SIGN_IN); our own form without. */
  siteLogin?: { url?: string; passwordSignIn?: boolean }
  /** Trust X-Forwarded-* (an https issuer behind a pretend TLS proxy over plain http); as TRUST_PROXY, `true` is one hop. */
  trustProxy?: boolean | number | string[]
  /** SITE_LOGOUT_URL. */
  siteLogoutUrl?: string
  /** BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS=on (a test's relying party listens on 127.0.0.1). */
  backchannelPrivateNetworks?: boolean
  /** The box of the secrets at rest (as SECRETS_KEY); the fixed test key without. */
  secrets?: SecretBox
  /** CONSOLE_* (the operator console); the schema's defaults without. */
  console?: ConsoleConfig
  /** The clock the console's timeouts and TOTP checks read (tests move it instead of sleeping). */
  now?: () => number
  /**
   * Signing keys and the KEYS_DIR they were loaded from (keys/store.ts `ensureKeys`), as main.ts
   * hands them over; the committed fixture keys and no KEYS_DIR without (the console's Keys page
   * then refuses to rotate).
   */
  keys?: { material: KeyMaterial; dir: string }
}

let keys: KeyMaterial | undefined
/** The committed test keys (test/fixtures/keys), read once. */
export function fixtureKeys(): KeyMaterial {
  if (keys) return keys
  const dir = new URL('../fixtures/keys/', import.meta.url)
  const jwks = JSON.parse(readFileSync(new URL('oidc-jwks.json', dir), 'utf8')) as { keys: JWK[] }
  const manifest = JSON.parse(readFileSync(new URL('saml/manifest.json', dir), 'utf8')) as {
    keys: { id: string; createdAt: string }[]
  }
  const saml = manifest.keys.map(({ id, createdAt }) => {
    const certificatePem = readFileSync(new URL(`saml/${id}.crt`, dir), 'utf8')
    return {
      id,
      createdAt,
      certificatePem,
      privateKeyPem: readFileSync(new URL(`saml/${id}.key`, dir), 'utf8'),
      fingerprintSha256: new X509Certificate(certificatePem).fingerprint256,
    }
  })
  keys = {
    oidc: { jwks, publicJwks: { keys: jwks.keys.map(toPublicJwk) } },
    saml: { current: saml[0]!, previous: saml.slice(1) },
  }
  return keys
}

export function makeTestApp(opts: TestAppOptions = {}): TestApp {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-app-'))
  const store = opts.store ?? createSqliteStore(path.join(dir, 'db.sqlite'))
  const env = { ...opts.env }
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const log = createLogger('debug', sink)
  const services = createServices(
    store,
    {
      readSecretEnv: (name) => env[name],
      conflicts: opts.conflicts,
      secrets: opts.secrets ?? testSecretBox(),
      ...(opts.throttle ? { throttle: opts.throttle } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      keys: () => Promise.resolve(fixtureKeys()),
    },
    log,
  )
  const issuer = opts.issuer ?? 'http://localhost:3000'
  // As config/load.ts: the error pages link back to SITE_LOGIN_URL's origin.
  const site = {
    name: 'Test Site',
    color: '#2a6df4',
    ...(opts.siteLogin?.url ? { homeUrl: `${new URL(opts.siteLogin.url).origin}/` } : {}),
  }
  // The same two steps as main.ts: every door built once, then the HTTP shell over them.
  const doors = createDoors(services, {
    issuer,
    keys: opts.keys?.material ?? fixtureKeys(),
    cookieSecret: 'test-cookie-secret-0123456789abcdef0123456789',
    site,
    sessionTtlMs: 3_600_000,
    log,
    ...(opts.siteTicket ? { siteTicket: opts.siteTicket } : {}),
    ...(opts.siteLogin ? { siteLogin: opts.siteLogin } : {}),
    ...(opts.siteLogoutUrl ? { siteLogoutUrl: opts.siteLogoutUrl } : {}),
    ...(opts.backchannelPrivateNetworks ? { backchannelPrivateNetworks: true } : {}),
    ...(opts.console ? { console: opts.console } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  })
  const app = createApp({
    services,
    doors,
    log,
    issuer,
    version: '0.0.0-test',
    adminToken: ADMIN_TOKEN,
    maxBodyBytes: opts.maxBodyBytes ?? 1_048_576,
    importMaxBytes: opts.importMaxBytes ?? 10_000_000,
    keys: opts.keys?.material ?? fixtureKeys(),
    ...(opts.keys ? { keysDir: opts.keys.dir } : {}),
    site,
    trustProxy: opts.trustProxy ?? false,
    loginFailureFloorMs: opts.loginFailureFloorMs ?? 0,
    ...(opts.backchannelPrivateNetworks ? { privateNetworkFetch: true } : {}),
    ...(opts.siteTicket ? { siteTicket: opts.siteTicket } : {}),
  })
  return {
    app,
    services,
    doors,
    env,
    get logs() {
      return lines.map((l) => JSON.parse(l))
    },
    logText: () => lines.join('\n'),
    close: async () => {
      // What the last requests recorded goes in before the store closes (as main.ts does).
      await services.events.flush()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` }
