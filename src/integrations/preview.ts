/**
 * @module integrations/preview
 * What an integration would send for one account: its mapped document and that document's key
 * paths, in the form a platform's "unique user key / username key" field takes. Lets an
 * operator fill in a platform's settings page before any real sign-in.
 */
import type { AccountService } from '../accounts/service.ts'
import { ValidationFailed } from '../errors/index.ts'
import { listPaths, type PathEntry } from '../mapping/index.ts'
import type { JsonObject } from '../accounts/types.ts'
import type { IntegrationService } from './registry.ts'

/**
 * What a mapping preview shows for one account: the document the integration would send and
 * every path in it, so an operator can check a mapping before a member signs in.
 */
export interface Preview {
  integration: string
  type: string
  external_id: string
  document: JsonObject
  paths: PathEntry[]
}

/**
 * @throws {IntegrationNotFound}
 * @throws {AccountNotFound}
 * @throws {ValidationFailed} when `externalId` is not a string
 */
export async function previewIntegration(
  deps: { integrations: IntegrationService; accounts: AccountService },
  id: string,
  externalId: unknown,
): Promise<Preview> {
  if (typeof externalId !== 'string' || externalId === '') {
    throw new ValidationFailed([
      { path: 'external_id', message: 'is required (the account to preview)' },
    ])
  }
  const integration = await deps.integrations.load(id)
  const account = await deps.accounts.get(externalId)
  const document = integration.mapping.apply(account)
  return {
    integration: id,
    type: integration.record.type,
    external_id: externalId,
    document,
    paths: listPaths(document),
  }
}
