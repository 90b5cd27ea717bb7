/**
 * @module integrations/rekey
 * `sso-bridge secrets rekey`: seals every secret at rest under the first configured key. It
 * walks the integrations' inline secrets (the registry's `reseal`) and what each integration
 * type stores per account (its `resealStored` hook: Dead Simple Chat's access tokens), page by
 * page of accounts. Safe to run again and while servers run: what is already sealed under the
 * first key is left alone, and each value is rewritten as itself, sealed anew.
 *
 * The same walk, sealing plain text only, runs once on the first start after an upgrade from a
 * version without secrets at rest (main.ts), recorded in the KV store under
 * {@link PLAINTEXT_SEALED_NAMESPACE}.
 */
import type { AccountStore, KvStore } from '../store/ports.ts'
import type { SecretBox } from '../secrets/index.ts'
import type { IntegrationService, ResealReport } from './registry.ts'
import type { IntegrationTypeDefinition, StoredResealCount } from './types.ts'

/** KV namespace/key recording that the start-up pass has sealed every plain-text secret. */
export const PLAINTEXT_SEALED_NAMESPACE = 'secrets:at-rest'
/** See {@link PLAINTEXT_SEALED_NAMESPACE}. */
export const PLAINTEXT_SEALED_KEY = 'plaintext-sealed-v1'

/** Accounts per page of the per-account walk. */
const PAGE = 500

/** What a rekey did, in counts (never a value). */
export interface RekeyReport {
  /** The key everything is now sealed under. */
  key_id: string
  integration_secrets: ResealReport
  /** Per integration type with per-account secrets: integrations walked and the counts. */
  stored: Record<string, StoredResealCount & { integrations: number }>
}

/**
 * Seals every secret at rest under the first key of `box`.
 * @param deps.onlyPlaintext seal plain text only, leaving older keys' ciphertexts (start-up)
 * @throws {SecretsKeyMissing} a secret is sealed under a key `box` does not hold: nothing past
 *   it is done; add the key to SECRETS_KEY (after the first) and run again
 * @example const report = await rekeySecrets({ store, integrations, types, box })
 */
export async function rekeySecrets(deps: {
  store: AccountStore & KvStore
  integrations: IntegrationService
  types: readonly IntegrationTypeDefinition[]
  box: SecretBox
  onlyPlaintext?: boolean
}): Promise<RekeyReport> {
  const { store, integrations, types, box } = deps
  const onlyPlaintext = deps.onlyPlaintext === true
  const report: RekeyReport = {
    key_id: box.keyIds[0]!,
    integration_secrets: await integrations.reseal({ onlyPlaintext }),
    stored: {},
  }
  const byType = new Map(types.map((t) => [t.type, t]))
  const holders = (await integrations.list()).filter((i) => byType.get(i.type)?.resealStored)
  if (holders.length === 0) return report
  for (const i of holders) {
    report.stored[i.type] ??= { integrations: 0, sealed: 0, resealed: 0, current: 0 }
    report.stored[i.type]!.integrations++
  }
  let after: string | null = null
  do {
    const page = await store.listAccounts({ after, limit: PAGE })
    const accountIds = page.items.map((a) => a.id)
    for (const i of holders) {
      const count = await byType.get(i.type)!.resealStored!({
        kv: store,
        integrationId: i.id,
        accountIds,
        secrets: box,
        onlyPlaintext,
      })
      const total = report.stored[i.type]!
      total.sealed += count.sealed
      total.resealed += count.resealed
      total.current += count.current
    }
    after = page.next
  } while (after !== null)
  return report
}

/**
 * The first start after an upgrade: seals what is still in plain text (inline integration
 * secrets, per-account secrets such as Dead Simple Chat's tokens), once per database, recorded
 * under {@link PLAINTEXT_SEALED_NAMESPACE}; later starts skip the account walk. Integration
 * secrets are checked on every start anyway (the registry's `reseal({ onlyPlaintext })` is
 * cheap), so one written in plain text by an older instance meanwhile is sealed at the next.
 * @returns the report of the walk, or null when it had already been done
 * @throws {SecretsKeyMissing} as {@link rekeySecrets}
 */
export async function sealPlaintextOnce(
  deps: Parameters<typeof rekeySecrets>[0],
): Promise<{ walked: RekeyReport | null; integration_secrets: ResealReport }> {
  if (await deps.store.kvGet(PLAINTEXT_SEALED_NAMESPACE, PLAINTEXT_SEALED_KEY)) {
    return {
      walked: null,
      integration_secrets: await deps.integrations.reseal({ onlyPlaintext: true }),
    }
  }
  const walked = await rekeySecrets({ ...deps, onlyPlaintext: true })
  await deps.store.kvSet(PLAINTEXT_SEALED_NAMESPACE, PLAINTEXT_SEALED_KEY, {
    at: new Date().toISOString(),
    key_id: walked.key_id,
  })
  return { walked, integration_secrets: walked.integration_secrets }
}
