/**
 * The setting of the platform-definition tests (test/tokens/platforms/*): a real app over a
 * real SQLite store, the member of the known answers (fixtures.ts ROB, external_id 42), the
 * clock frozen at 2026-01-01T00:00:00Z, and a token service on that clock with the committed
 * test signing keys (Arena's RS256).
 */
import { vi } from 'vitest'
import { createTokenService, type TokenService } from '../../../src/tokens/index.ts'
import { fixtureKeys, makeTestApp, type TestApp } from '../../helpers/app.ts'
import { NOW, ROB } from './fixtures.ts'

export interface DefinedSetup {
  t: TestApp
  tokens: TokenService
}

/** Starts the setting with integration `id` saved as `body`. Call `close()` after. */
export async function definedSetup(id: string, body: object): Promise<DefinedSetup> {
  vi.setSystemTime(NOW)
  const t = makeTestApp()
  const tokens = createTokenService({
    accounts: t.services.accounts,
    integrations: t.services.integrations,
    kv: t.services.store,
    secrets: t.services.secrets,
    keys: () => Promise.resolve(fixtureKeys()),
  })
  await t.services.accounts.put('42', ROB)
  await t.services.integrations.put(id, body)
  return { t, tokens }
}

/** Ends the setting. */
export async function closeDefined(s: DefinedSetup | undefined): Promise<void> {
  vi.useRealTimers()
  await s?.t.close()
}

/** What a refused field looks like (AccountIncomplete). */
export const incomplete = (integration: string, field: string, reason = 'missing') => ({
  code: 'ERR_ACCOUNT_INCOMPLETE',
  integrationId: integration,
  field,
  reason,
})
