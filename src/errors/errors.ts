/**
 * @module errors/errors
 * One base class, one subclass per condition, each with a stable `code` (shape of jose's
 * `util/errors.ts`). Every error sso-bridge throws on purpose is a {@link BridgeError}: the ones
 * that belong to one door (`SamlRequestInvalid`, `TicketRefused`, `HttpError`…) live beside it
 * and extend this class. Errors carry no HTTP status: `codes.ts` holds the one table.
 */
import type { BridgeErrorCode } from './codes.ts'

/** The root of every error sso-bridge raises; `code` is its stable identity. */
export class BridgeError extends Error {
  code: BridgeErrorCode = 'ERR_GENERIC'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = this.constructor.name
  }
}

/** Whether `err` is one of ours (any subclass of {@link BridgeError}). */
export function isBridgeError(err: unknown): err is BridgeError {
  return err instanceof BridgeError
}

/**
 * Whether `err` is one of ours with this code: the typed way to branch on a code, in place of
 * a cast of `err` to read its `code` (through which a typo'd code slips).
 * @example
 * const account = await accounts.get(id).catch((err) => {
 *   if (hasCode(err, 'ERR_ACCOUNT_NOT_FOUND')) return null
 *   throw err
 * })
 */
export function hasCode<C extends BridgeErrorCode>(
  err: unknown,
  code: C,
): err is BridgeError & { code: C } {
  return err instanceof BridgeError && err.code === code
}

/** One invalid input field: `path` is dotted (`profile.tags.0`), `message` says why. */
export interface FieldIssue {
  path: string
  message: string
}

/** Input failed validation. `issues` names every bad field, not only the first. */
export class ValidationFailed extends BridgeError {
  override code = 'ERR_VALIDATION' as const
  readonly issues: FieldIssue[]
  constructor(issues: FieldIssue[], message?: string) {
    super(message ?? issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; '))
    this.issues = issues
  }
}

/** Startup configuration is unusable; the message lists every bad key. */
export class ConfigInvalid extends BridgeError {
  override code = 'ERR_CONFIG_INVALID' as const
  readonly issues: FieldIssue[]
  constructor(issues: FieldIssue[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`)
    this.issues = issues
  }
}

/** No account has this external id. */
export class AccountNotFound extends BridgeError {
  override code = 'ERR_ACCOUNT_NOT_FOUND' as const
  readonly externalId: string
  constructor(externalId: string) {
    super('account not found')
    this.externalId = externalId
  }
}

/** The unique identifiers an account write can collide on. */
export type ConflictField = 'username' | 'email' | 'external_id'

/**
 * A unique identifier is already held by another account. `existingId` is for the audit log
 * and the conflict rules only; the HTTP layer never echoes it.
 */
export class AccountConflict extends BridgeError {
  override code = 'ERR_ACCOUNT_CONFLICT' as const
  readonly field: ConflictField
  readonly existingId: string | undefined
  /** The conflict policy that refused the write (`prompt` lets an interactive sign-in ask). */
  policy: string | undefined
  constructor(
    field: ConflictField,
    existingId?: string,
    options?: { cause?: unknown; policy?: string },
  ) {
    super(`${field} already in use`, options)
    this.field = field
    this.existingId = existingId
    this.policy = options?.policy
  }
}

/** No integration has this id. */
export class IntegrationNotFound extends BridgeError {
  override code = 'ERR_INTEGRATION_NOT_FOUND' as const
  readonly integrationId: string
  constructor(integrationId: string) {
    super('integration not found')
    this.integrationId = integrationId
  }
}

/** An integration with this id exists already (adding one must not replace it). */
export class IntegrationExists extends BridgeError {
  override code = 'ERR_INTEGRATION_EXISTS' as const
  readonly integrationId: string
  constructor(integrationId: string) {
    super('an integration with this id exists already')
    this.integrationId = integrationId
  }
}

/** An integration names a type that no door registered (services.ts INTEGRATION_TYPES). */
export class IntegrationTypeUnknown extends BridgeError {
  override code = 'ERR_INTEGRATION_TYPE_UNKNOWN' as const
  readonly type: string
  constructor(type: string) {
    super(`unknown integration type "${type}"`)
    this.type = type
  }
}

/**
 * A `password_hash` in none of the formats accounts/passwords.ts can verify (its member could
 * never sign in with it).
 */
export class PasswordHashUnsupported extends BridgeError {
  override code = 'ERR_PASSWORD_HASH_UNSUPPORTED' as const
  constructor() {
    super(
      'password_hash is not in a supported format (argon2id, argon2i, bcrypt, phpass, WordPress bcrypt)',
    )
  }
}

/** A file in KEYS_DIR is unreadable or malformed (a short cookie secret, a bad JWK or PEM). */
export class KeysInvalid extends BridgeError {
  override code = 'ERR_KEYS_INVALID' as const
}

/**
 * Key rotation cannot be done safely from here (no KEYS_DIR, or another rotation holds the
 * lease): the message says why and what to do instead. Nothing was changed.
 */
export class KeysRotationRefused extends BridgeError {
  override code = 'ERR_KEYS_ROTATION_REFUSED' as const
}

/**
 * A stored secret was sealed under a key this server does not hold (neither SECRETS_KEY nor the
 * key file in KEYS_DIR): the message names the key id (a fingerprint, never key material).
 */
export class SecretsKeyMissing extends BridgeError {
  override code = 'ERR_SECRETS_KEY_MISSING' as const
  readonly keyId: string
  constructor(keyId: string, where: string) {
    super(
      `${where} is encrypted under secrets key ${keyId}, which neither SECRETS_KEY nor the key file in KEYS_DIR holds: add that key to SECRETS_KEY (after the one that encrypts)`,
    )
    this.keyId = keyId
  }
}

/**
 * A stored secret no configured key opens although its key is present: the ciphertext was
 * altered, or copied from another row (it is bound to where it lives). Never shows the value.
 */
export class SecretUnreadable extends BridgeError {
  override code = 'ERR_SECRET_UNREADABLE' as const
  constructor(where: string, options?: { cause?: unknown }) {
    super(`${where} cannot be decrypted: it was altered or copied from another place`, options)
  }
}

/** The database cannot be reached or dropped the connection; worth retrying, so a 503. */
export class StoreUnavailable extends BridgeError {
  override code = 'ERR_STORE_UNAVAILABLE' as const
  /**
   * Seconds a client is told to wait before retrying (HTTP `Retry-After`), by every door alike:
   * a database restart takes a few seconds.
   */
  static readonly RETRY_AFTER_SECONDS = 5
}

/** Server start: another server already runs on this SQLite database (one server per DATA_DIR). */
export class StoreInUse extends BridgeError {
  override code = 'ERR_STORE_IN_USE' as const
}

/**
 * Server start: the keys in KEYS_DIR are not the ones the database records as in use by the
 * other instances (a browser changing instance would fail its sign-in).
 */
export class KeysMismatch extends BridgeError {
  override code = 'ERR_KEYS_MISMATCH' as const
}

/**
 * Server or CLI start: the database records a schema version above the newest migration this
 * build has (a newer sso-bridge migrated it). Migrations only run forward, so this build cannot
 * know what the newer schema means; going back needs the backup taken before the upgrade.
 */
export class SchemaTooNew extends BridgeError {
  override code = 'ERR_SCHEMA_TOO_NEW' as const
  /**
   * @param databaseSchema the highest version recorded in the database
   * @param buildSchema the newest migration of this build
   * @param buildVersion this build's package version
   */
  readonly databaseSchema: number
  readonly buildSchema: number
  readonly buildVersion: string
  constructor(databaseSchema: number, buildSchema: number, buildVersion: string) {
    super(
      `database schema ${databaseSchema} is newer than this sso-bridge (${buildVersion}, schema ${buildSchema}): ` +
        'run the sso-bridge version that migrated it, or restore the backup taken before the upgrade',
    )
    this.databaseSchema = databaseSchema
    this.buildSchema = buildSchema
    this.buildVersion = buildVersion
  }
}

/**
 * `restore`: the file is not a backup this build can read — not a gzip'd tar, no or a malformed
 * manifest, a part missing, extra or not matching its SHA-256, or a database failing its
 * integrity check. Nothing was changed.
 */
export class BackupInvalid extends BridgeError {
  override code = 'ERR_BACKUP_INVALID' as const
}

/** `restore`: a backup of one store kind (SQLite, PostgreSQL) given to a server configured for the other. */
export class BackupStoreMismatch extends BridgeError {
  override code = 'ERR_BACKUP_STORE_MISMATCH' as const
}

/** `backup`: the output file exists (and `--force` was not given). */
export class BackupFileExists extends BridgeError {
  override code = 'ERR_BACKUP_FILE_EXISTS' as const
}

/** `restore`: DATA_DIR or KEYS_DIR is not empty (and `--force` was not given). Nothing was changed. */
export class RestoreTargetNotEmpty extends BridgeError {
  override code = 'ERR_RESTORE_TARGET_NOT_EMPTY' as const
}

/** A bulk import body could not be read at all (not a per-record rejection). */
export class ImportFormatInvalid extends BridgeError {
  override code = 'ERR_IMPORT_FORMAT' as const
}

/** The account exists but is disabled: no door signs it in, no token is issued for it. */
export class AccountDisabled extends BridgeError {
  override code = 'ERR_ACCOUNT_DISABLED' as const
  constructor() {
    super('account is disabled')
  }
}

/**
 * An account lacks a field (or holds an unusable value) that an integration's platform requires,
 * e.g. no email for BoostGPT. Nothing was issued. `field` is the platform's field name.
 */
export class AccountIncomplete extends BridgeError {
  override code = 'ERR_ACCOUNT_INCOMPLETE' as const
  readonly integrationId: string
  readonly field: string
  readonly reason: 'missing' | 'invalid'
  constructor(
    integrationId: string,
    field: string,
    reason: 'missing' | 'invalid',
    detail?: string,
  ) {
    super(
      reason === 'missing'
        ? `integration ${integrationId} requires ${field}, which this account does not have`
        : `integration ${integrationId} cannot use this account's ${field}${detail ? `: ${detail}` : ''}`,
    )
    this.integrationId = integrationId
    this.field = field
    this.reason = reason
  }
}

/**
 * A token given to inspect is not one of ours: bad encoding, wrong key, tampered, wrong
 * algorithm. One opaque error for every cause, so it tells an attacker nothing (no oracle).
 */
export class TokenInvalid extends BridgeError {
  override code = 'ERR_TOKEN_INVALID' as const
  constructor() {
    super('token is invalid for this integration')
  }
}

/** A platform's API (Dead Simple Chat's Create User) failed or refused the request. */
export class PlatformUnavailable extends BridgeError {
  override code = 'ERR_PLATFORM_UNAVAILABLE' as const
}

/**
 * A JSON document nests arrays and objects deeper than sso-bridge reads (`MAX_JSON_DEPTH`). Found
 * by scanning the text before it is parsed, so no parser, validator or walker ever recurses
 * through it (10,000 levels overflowed the stack in zod and the path lister).
 */
export class JsonTooDeep extends BridgeError {
  override code = 'ERR_JSON_TOO_DEEP' as const
  readonly limit: number
  constructor(limit: number) {
    super(`JSON nests deeper than ${limit} levels`)
    this.limit = limit
  }
}

/** No operator of that name (the CLI's `operators …` commands). */
export class OperatorNotFound extends BridgeError {
  override code = 'ERR_OPERATOR_NOT_FOUND' as const
  constructor(name: string) {
    super(`no operator named ${JSON.stringify(name)}`)
  }
}

/** `operators add` with a name another operator holds (names are compared ignoring case). */
export class OperatorExists extends BridgeError {
  override code = 'ERR_OPERATOR_EXISTS' as const
  constructor(name: string) {
    super(`an operator named ${JSON.stringify(name)} already exists`)
  }
}
