/**
 * @module tokens/platforms
 * The token door's platform types, one file each: its registry definition (settings schema,
 * secrets, default mapping, connection sheet), `issue` and `inspect`.
 */
import { BridgeError } from '../../errors/index.ts'
import { isIntegrationOf, type LoadedIntegration } from '../../integrations/types.ts'
import type { BrowserSettings } from '../settings.ts'
import type { TokenPlatform } from '../types.ts'
import { boostgptJwt } from './boostgpt-jwt.ts'
import { cometchat } from './cometchat.ts'
import { discourse } from './discourse.ts'
import { deadsimplechat } from './deadsimplechat.ts'
import { genericJwt } from './jwt.ts'
import { meltingspotJwt } from './meltingspot-jwt.ts'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { arena } from './arena.ts'
import { chatwoot } from './chatwoot.ts'
import { crisp } from './crisp.ts'
import { disqus } from './disqus.ts'
import { intercomJwt, intercomUserHash } from './intercom.ts'
import { minnitZeroClick } from './minnit-zero-click.ts'
import { streamChat } from './stream-chat.ts'
import { zendeskMessaging } from './zendesk-messaging.ts'

export { minnitZeroClickType } from './minnit-zero-click.ts'
export { boostgptJwtType } from './boostgpt-jwt.ts'
export { meltingspotJwtType } from './meltingspot-jwt.ts'
export { deadsimplechatType } from './deadsimplechat.ts'
export { genericJwtType } from './jwt.ts'
export { discourseType } from './discourse.ts'
export { cometchatType } from './cometchat.ts'

/**
 * The platforms declared as data (tokens/definition.ts), one line each. A new platform is a file
 * beside this one and a line here; services.ts registers their types from this list.
 */
const DEFINED: readonly TokenPlatform[] = [
  platform(disqus),
  platform(chatwoot),
  platform(crisp),
  platform(intercomJwt),
  platform(intercomUserHash),
  platform(zendeskMessaging),
  platform(streamChat),
  platform(arena),
  platform(discourse),
]

/** The integration types of {@link DEFINED}, for the registry (services.ts). */
export const DEFINED_PLATFORM_TYPES: readonly IntegrationTypeDefinition[] = DEFINED.map(
  (p) => p.definition,
)

/**
 * A platform of settings `S` as one of the list: each call first checks that the integration is
 * of the platform's own type (the definition its settings were parsed with), the one place the
 * settings' type is narrowed. The token service pairs them by type, so the check never fails.
 */
function platform<S extends BrowserSettings>(p: TokenPlatform<S>): TokenPlatform {
  const own = (integration: LoadedIntegration<BrowserSettings>): LoadedIntegration<S> => {
    if (isIntegrationOf(integration, p.definition)) return integration
    throw new BridgeError(`${integration.record.id} is not a ${p.definition.type} integration`)
  }
  const { redirectCheck } = p
  return {
    definition: p.definition,
    issue: (account, integration, deps, options) =>
      p.issue(account, own(integration), deps, options),
    inspect: (token, integration, deps) => p.inspect(token, own(integration), deps),
    dryRun: (account, integration, deps, options) =>
      p.dryRun(account, own(integration), deps, options),
    ...(redirectCheck
      ? { redirectCheck: (integration, options) => redirectCheck(own(integration), options) }
      : {}),
    ...(p.serverOnly ? { serverOnly: true as const } : {}),
  }
}

/** Every token type, by integration type name. */
export const TOKEN_PLATFORMS: Readonly<Record<string, TokenPlatform>> = Object.freeze({
  [minnitZeroClick.definition.type]: platform(minnitZeroClick),
  [boostgptJwt.definition.type]: platform(boostgptJwt),
  [meltingspotJwt.definition.type]: platform(meltingspotJwt),
  [deadsimplechat.definition.type]: platform(deadsimplechat),
  [genericJwt.definition.type]: platform(genericJwt),
  [cometchat.definition.type]: platform(cometchat),
  ...Object.fromEntries(DEFINED.map((p) => [p.definition.type, p])),
})
