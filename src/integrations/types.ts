/**
 * @module integrations/types
 * What a door contributes to the registry for each integration type it serves. The registry
 * validates integrations with these definitions and never imports a door itself.
 */
import type { z } from 'zod'
import type { Account } from '../accounts/types.ts'
import type { IntegrationRecord, KvStore } from '../store/ports.ts'

export interface SecretSpec {
  /** One line for operators: what the platform calls it and where to find it. */
  description: string
  required: boolean
  /** Checks a resolved value; returns a reason when it is unusable (e.g. wrong length). */
  check?: (value: string) => string | null
  /**
   * Makes a value when the integration is saved without one (e.g. an OAuth2 client secret). The
   * save's response shows it once; reads never do. Returns null when the settings need none
   * (a public client).
   */
  generate?: (settings: Record<string, unknown>) => string | null
}

export interface IntegrationTypeDefinition {
  type: string
  /** One line shown in listings and on the home page. */
  description: string
  /** Validates (and fills defaults in) the type's `settings`. */
  settings: z.ZodType<Record<string, unknown>>
  /** Secrets the type uses, by name. Any other name is refused. */
  secrets: Record<string, SecretSpec>
  /**
   * The document the platform documents, built from an account (format: mapping/rules.ts). An
   * integration's own mapping overrides or extends it, so none needs to be written.
   */
  defaultMapping: Record<string, unknown>
  /**
   * The type's part of the connection sheet (connection/sheet.ts): what to paste into the
   * platform and where, what to copy from it. Never a secret value: `secretSet` says whether a
   * secret has one where this runs.
   */
  connection?: (
    record: IntegrationRecord,
    issuer: string,
    secretSet: (name: string) => boolean,
  ) => Record<string, unknown>
  /**
   * Forgets what an integration of this type stored for an account that is being deleted (Dead
   * Simple Chat: the member's user and access token), so a later account under the same
   * external_id starts afresh. Called once per integration of the type (services.ts).
   */
  onAccountRemoved?: (ctx: {
    kv: KvStore
    integrationId: string
    account: Account
  }) => Promise<void>
}
