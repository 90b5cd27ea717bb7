/**
 * @module integrations/change-detail
 * What a save changed, for its configuration audit entry (store/ports.ts ChangeStamp): the names
 * of the settings that differ, what happened to each secret named in the body, whether the type
 * or the mapping changed. Names only: never a setting's or a secret's value.
 */
import { isDeepStrictEqual } from 'node:util'
import type { IntegrationRecord, SecretSource } from '../store/ports.ts'

/** The `detail` of an `integration_created` / `integration_updated` entry. */
export interface IntegrationChangeDetail {
  type: string
  /** The type it had before, when the save changed it. */
  previous_type?: string
  /** Settings (top-level names) added, removed or changed. */
  settings?: string[]
  /** Each secret the save touched: `inline` (set or replaced), `env:<NAME>`, `removed`, `generated`. */
  secrets?: Record<string, string>
  mapping?: 'changed'
}

/**
 * The detail of one save.
 * @param before the stored record before the save (null: created)
 * @param after what is being written (settings as parsed, mapping as given)
 * @param given the body's secrets (null removes one)
 * @param generated names of the secrets the save generated
 */
export function integrationChangeDetail(
  before: IntegrationRecord | null,
  after: { type: string; settings: object; mapping: Record<string, unknown> | null },
  given: Record<string, SecretSource | null>,
  generated: readonly string[],
): IntegrationChangeDetail {
  const detail: IntegrationChangeDetail = { type: after.type }
  if (before && before.type !== after.type) detail.previous_type = before.type
  const old: Record<string, unknown> = before?.settings ?? {}
  // A copy of the parsed settings' own keys: the type's schema decides their shape, not this.
  const now: Record<string, unknown> = { ...after.settings }
  const settings = [...new Set([...Object.keys(old), ...Object.keys(now)])]
    .filter((k) => !isDeepStrictEqual(old[k], now[k]))
    .sort()
  if (settings.length > 0) detail.settings = settings
  const secrets: Record<string, string> = {}
  for (const [name, source] of Object.entries(given))
    secrets[name] = source === null ? 'removed' : 'env' in source ? `env:${source.env}` : 'inline'
  for (const name of generated) secrets[name] = 'generated'
  if (Object.keys(secrets).length > 0) detail.secrets = secrets
  if (!isDeepStrictEqual(before?.mapping ?? null, after.mapping)) detail.mapping = 'changed'
  return detail
}
