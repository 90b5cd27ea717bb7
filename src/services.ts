/**
 * @module services
 * Builds the application services over a store: the composition that main.ts, the CLI and the
 * tests share. It is also where the doors hand their integration types to the registry, so the
 * registry never imports a door.
 */
import type { Config } from './config/index.ts'
import { createAccountService } from './accounts/service.ts'
import { createIntegrationService } from './integrations/registry.ts'
import type { IntegrationTypeDefinition } from './integrations/types.ts'
import { oidcIntegrationType } from './oidc/client-settings.ts'
import { samlIntegrationType } from './saml/sp-settings.ts'
import {
  boostgptJwtType,
  deadsimplechatType,
  genericJwtType,
  meltingspotJwtType,
  minnitZeroClickType,
} from './tokens/platforms/index.ts'
import type { Store } from './store/ports.ts'

export const INTEGRATION_TYPES: readonly IntegrationTypeDefinition[] = [
  oidcIntegrationType,
  samlIntegrationType,
  minnitZeroClickType,
  boostgptJwtType,
  meltingspotJwtType,
  deadsimplechatType,
  genericJwtType,
]

export function createServices(store: Store, config: Pick<Config, 'readSecretEnv'> & Partial<Pick<Config, 'conflicts'>>) {
  return {
    store,
    accounts: createAccountService({ store, conflicts: config.conflicts }),
    integrations: createIntegrationService({ store, types: INTEGRATION_TYPES, readSecretEnv: config.readSecretEnv }),
  }
}

export type Services = ReturnType<typeof createServices>
