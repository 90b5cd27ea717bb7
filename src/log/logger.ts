/**
 * @module log/logger
 * JSON logs through pino. Redaction is configured here, once: anything that looks like a
 * credential is censored wherever it appears in a log object, and request logs carry the path
 * without its query string (query strings carry codes and tokens on SSO routes).
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent, type DestinationStream } from 'pino'
import type { BridgeErrorCode } from '../errors/codes.ts'

/** Log lines that mark an event rather than a refusal carry one of these codes (no `ERR_`). */
export type LogEvent =
  | 'TICKET_SIGNED_IN'
  | 'TICKET_CONFLICT_PROMPT'
  | 'SAML_RESPONSE_ISSUED'
  | 'SAML_LOGOUT'
  | 'LOGOUT_TICKET_SIGNED_OUT'
  | 'OIDC_BACKCHANNEL_LOGOUT'
  /** A minute had more refusals than the event log writes (events/log.ts sampling). */
  | 'EVENTS_REFUSALS_SAMPLED'
  /** At start: every door and its URLs (http/startup-log.ts). */
  | 'STARTUP_DOORS'
  /** At start, a warning: ISSUER names the loopback while HOST binds a public interface. */
  | 'ISSUER_LOCALHOST_PUBLIC_BIND'

/** A log line's `code`: one of the closed error union (a typo fails `tsc`) or an event. */
export type LogCode = BridgeErrorCode | LogEvent

/** A log line's fields; `code`, when given, is typed. */
export interface LogFields {
  code?: LogCode
  [field: string]: unknown
}

/** One level's method: fields and a message, or a message alone. */
export interface LogFn {
  (fields: LogFields, msg?: string): void
  (msg: string): void
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/**
 * pino's logger with its level methods typed: `log.warn({ code: 'ERR_TICKET_INVALID', … }, '…')`.
 * Any pino logger is one (tests pass their own).
 */
export type Logger = Omit<PinoLogger, Level> & Record<Level, LogFn>

const SENSITIVE = [
  'password',
  'password_hash',
  'passwordHash',
  'token',
  'access_token',
  'accessToken',
  'refresh_token',
  'id_token',
  'admin_token',
  'adminToken',
  'secret',
  'client_secret',
  'secrets',
  'authorization',
  'cookie',
  'set-cookie',
  'ssotoken',
  'ms_token',
  'private_key',
  'privateKey',
  'encryption_key',
  'sso_secret',
  'jwt_secret',
]

/** Paths pino censors: each sensitive key at the top level and one or two levels down. */
export const REDACT_PATHS = SENSITIVE.flatMap((k) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`
  const dot = key.startsWith('[') ? key : `.${key}`
  return [key, `*${dot}`, `*.*${dot}`]
})

/** The server's logger: JSON lines, credentials redacted. */
export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'sso-bridge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  )
}
