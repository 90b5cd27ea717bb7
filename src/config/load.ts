/**
 * @module config/load
 * Reads the environment once, at startup, into a frozen {@link Config}. A `.env` file (if
 * present) fills keys the real environment leaves unset. Any bad value stops startup with a
 * message naming every offending key.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { ConfigInvalid } from '../errors/index.ts'
import { envSchema, LOG_LEVELS, type ConflictPolicies } from './schema.ts'

/** Keys whose values are credentials (DATABASE_URL may embed a password). */
const SECRET_KEYS = new Set(['ADMIN_TOKEN', 'DATABASE_URL'])

export interface StoreConfig {
  kind: 'sqlite' | 'postgres'
  /** SQLite file path (kind sqlite). */
  file: string
  /** Connection string (kind postgres). */
  url?: string
}

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
  site: { name: string; color: string }
  sessionTtlMs: number
  trustProxy: boolean
  /** Conflict rules for usernames and emails held by another account. */
  conflicts: ConflictPolicies
  /**
   * Looks up an environment variable that an integration names as its secret's source. The
   * snapshot is taken here, once, so no other module reads `process.env`.
   */
  readSecretEnv: (name: string) => string | undefined
}

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
  const merged: Record<string, string | undefined> = { ...readEnvFile(options.envFile ?? '.env'), ...env }
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
        const got = SECRET_KEYS.has(key) ? 'value hidden' : `got ${JSON.stringify(input[key] ?? null)}`
        return { path: i.path.join('.'), message: `${i.message} (${got})` }
      }),
    )
  }
  const v = parsed.data
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
    site: { name: v.SITE_NAME, color: v.SITE_COLOR },
    sessionTtlMs: v.SESSION_TTL * 1000,
    trustProxy: v.TRUST_PROXY,
    readSecretEnv: (name) => {
      const value = snapshot[name]
      return value === '' ? undefined : value
    },
  }
  if (v.ADMIN_TOKEN) config.adminToken = v.ADMIN_TOKEN
  return Object.freeze(config)
}

function readEnvFile(file: string | false): Record<string, string> {
  if (!file || !existsSync(file)) return {}
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>
  } catch (cause) {
    throw new ConfigInvalid([{ path: file, message: `cannot be parsed as a dotenv file (${String(cause)})` }])
  }
}
