/**
 * @module log/logger
 * JSON logs through pino. Redaction is configured here, once: anything that looks like a
 * credential is censored wherever it appears in a log object, and request logs carry the path
 * without its query string (query strings carry codes and tokens on SSO routes).
 */
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino'

export type { Logger }

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
