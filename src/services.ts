/**
 * @module services
 * Builds the application services over a store: the composition that main.ts, the CLI and the
 * tests share. It is also where the doors hand their integration types to the registry, so the
 * registry never imports a door. The token door is built here too, once: it needs no keys and the
 * CLI issues tokens as well; the doors that need keys are built in doors.ts.
 */
import type { Config } from './config/index.ts'
import { createAccountService } from './accounts/service.ts'
import { createIntegrationService } from './integrations/registry.ts'
import { rekeySecrets, sealPlaintextOnce } from './integrations/rekey.ts'
import type { IntegrationTypeDefinition, LoadedIntegration } from './integrations/types.ts'
import { hasCode } from './errors/index.ts'
import { oidcIntegrationType } from './oidc/client-settings.ts'
import { samlIntegrationType } from './saml/sp-settings.ts'
import type { Account } from './accounts/types.ts'
import { createSignOut } from './login/sign-out.ts'
import { createLoginThrottle } from './login/throttle.ts'
import { createOperatorService } from './operators/service.ts'
import { revokeOidcAccount } from './oidc/revoke-account.ts'
import {
  boostgptJwtType,
  cometchatType,
  DEFINED_PLATFORM_TYPES,
  deadsimplechatType,
  genericJwtType,
  meltingspotJwtType,
  minnitZeroClickType,
} from './tokens/platforms/index.ts'
import type { KeyMaterial } from './keys/index.ts'
import type { SecretBox } from './secrets/index.ts'
import type { Store } from './store/ports.ts'
import { createTokenService } from './tokens/service.ts'
import type { Logger } from './log/logger.ts'
import { createEventLog } from './events/index.ts'
import { createAuditTrail } from './audit/trail.ts'
import { createMetrics, timeStore } from './metrics/index.ts'

/**
 * Every integration type the registry accepts, one per door/platform. Listed here, not in
 * integrations/, so the registry never imports a door (STYLE §2): adding a type is one line here.
 */
export const INTEGRATION_TYPES: readonly IntegrationTypeDefinition[] = [
  oidcIntegrationType,
  samlIntegrationType,
  minnitZeroClickType,
  boostgptJwtType,
  meltingspotJwtType,
  deadsimplechatType,
  genericJwtType,
  cometchatType,
  // The platforms declared as data (tokens/definition.ts), listed in tokens/platforms/index.ts.
  ...DEFINED_PLATFORM_TYPES,
]

/**
 * Accounts, integrations, the sign-in throttle and the token door over one store.
 * @param config the config's slices, and `secrets`: the box that seals the secrets at rest
 *   (keys/secrets-key.ts `loadSecretBox`)
 * @param log where the token door writes its operational notes (none without: the CLI).
 * `config.now` is the clock the operator console's checks read (tests inject one).
 * @example const services = createServices(store, { ...config, secrets: box }, log)
 */
export function createServices(
  rawStore: Store,
  config: Pick<Config, 'readSecretEnv'> & { secrets: SecretBox } & Partial<
      Pick<Config, 'conflicts' | 'secretEnvPrefix' | 'throttle'>
    > & {
      now?: () => number
      /** The signing keys (KEYS_DIR), read when an RS256 platform (Arena) first needs them. */
      keys?: () => Promise<KeyMaterial>
    },
  log?: Logger,
) {
  // What GET /metrics serves (metrics/metrics.ts); prom-client loads on the first scrape, and
  // from then on every store call's latency is counted (metrics/timed-store.ts).
  const metrics = createMetrics()
  const store = timeStore(rawStore, metrics)
  const integrations = createIntegrationService({
    store,
    types: INTEGRATION_TYPES,
    readSecretEnv: config.readSecretEnv,
    secretEnvPrefix: config.secretEnvPrefix,
    secrets: config.secrets,
  })
  // The one sign-out (login/sign-out.ts); the doors register with it as the app builds them.
  // `accounts` is read when a sign-out runs, after it is built below (it needs signOut in turn:
  // a deleted account signs out).
  const signOut = createSignOut({ kv: store, getAccount: (id) => accounts.getById(id) })
  // A deleted account leaves nothing behind: it signs out everywhere (its bridge sessions end,
  // its OIDC sessions end and their relying parties are told by back-channel logout), its
  // remaining OIDC grants, codes and tokens are revoked (introspection says inactive at once)
  // and each integration type forgets what it stored for it (its declared onAccountRemoved hook:
  // Dead Simple Chat's users).
  const onRemoved = async (account: Account) => {
    await signOut.signOut({ account, reason: 'account_removed' })
    await revokeOidcAccount(store, account.external_id)
    for (const { id, type } of await integrations.hooked('onAccountRemoved')) {
      await type.onAccountRemoved?.({ kv: store, integrationId: id, account })
    }
  }
  // A platform that keeps its own copy of the member (Discourse) hears of each change and each
  // sign-out through its type's hooks. A platform that does not answer is logged and skipped:
  // the write or the sign-out has happened, and the member's next sign-in carries the profile.
  const eachHooked = async (
    hook: 'onAccountChanged' | 'onSignedOut',
    call: (i: LoadedIntegration, type: IntegrationTypeDefinition) => Promise<void> | undefined,
  ) => {
    // The hooked integrations are cached by the registry until one changes (on any instance):
    // with none, a write or a sign-out costs no listing.
    for (const { id, type } of await integrations.hooked(hook)) {
      try {
        await call(await integrations.load(id), type)
      } catch (err) {
        log?.warn(
          {
            code: hasCode(err, 'ERR_PLATFORM_UNAVAILABLE') ? err.code : 'ERR_GENERIC',
            integration: id,
            hook,
            cause: (err as Error).message,
          },
          'platform not told of an account change',
        )
      }
    }
  }
  // Told in the background, so a write (a site ticket's sign-in above all) never waits on a
  // platform; one chain per account keeps two quick changes in order on the platform.
  const changeChains = new Map<string, Promise<void>>()
  const onChanged = async (account: Account) => {
    const next = (changeChains.get(account.id) ?? Promise.resolve())
      .then(() =>
        eachHooked('onAccountChanged', (integration, type) =>
          type.onAccountChanged?.({ integration, account }),
        ),
      )
      .catch((err: unknown) =>
        log?.warn(
          { code: hasCode(err, 'ERR_STORE_UNAVAILABLE') ? err.code : 'ERR_GENERIC' },
          'platforms not told of an account change',
        ),
      )
      .finally(() => {
        if (changeChains.get(account.id) === next) changeChains.delete(account.id)
      })
    changeChains.set(account.id, next)
  }
  signOut.addDoor({
    name: 'platforms',
    signedOut: ({ account }) =>
      eachHooked('onSignedOut', (integration, type) =>
        type.onSignedOut?.({ integration, externalId: account.external_id }),
      ),
  })
  const accounts = createAccountService({
    store,
    conflicts: config.conflicts,
    onRemoved,
    onChanged,
  })
  const rekeyDeps = { store, integrations, types: INTEGRATION_TYPES, box: config.secrets }
  // Operator accounts for /console (issue #14), apart from members; their TOTP seeds are sealed
  // by the same box, and `secrets rekey` reseals them too.
  const operators = createOperatorService({
    store,
    box: config.secrets,
    ...(config.now ? { now: config.now } : {}),
  })
  return {
    store,
    accounts,
    // The one event log every door records to (events/log.ts): buffered, one write per turn;
    // each event also moves the metrics' counters.
    events: createEventLog({
      store,
      log,
      onRecord: metrics.countEvent,
      ...(config.now ? { now: config.now } : {}),
    }),
    /** What GET /metrics serves (metrics/metrics.ts). */
    metrics,
    /**
     * Every audit log read as one (audit/trail.ts): conflict resolutions, configuration changes
     * with their actor, operator sign-ins and changes; the console's Audit page.
     */
    audit: createAuditTrail({ store }),
    integrations,
    signOut,
    // Its counters live in the store, so the server, every other instance and the CLI's
    // `users unlock` all see the same ones.
    throttle: createLoginThrottle({
      kv: store,
      ...(config.throttle ? { rules: config.throttle } : {}),
    }),
    operators,
    // One instance per process: it holds the key cache (tokens/keys.ts).
    tokens: createTokenService({
      accounts,
      integrations,
      kv: store,
      secrets: config.secrets,
      ...(log ? { log } : {}),
      ...(config.keys ? { keys: config.keys } : {}),
    }),
    /** The box that seals the secrets at rest (its key ids: `secrets.keyIds`). */
    secrets: config.secrets,
    /**
     * Seals every stored secret under the first key (`sso-bridge secrets rekey`; with
     * `onlyPlaintext`, the first start after an upgrade). See integrations/rekey.ts.
     */
    rekeySecrets: async (options: { onlyPlaintext?: boolean } = {}) => ({
      ...(await rekeySecrets({ ...rekeyDeps, ...options })),
      operator_totp_seeds: await operators.resealSeeds(),
    }),
    /** main.ts at start: seals what is still plain text (integrations/rekey.ts). */
    sealPlaintextOnce: () => sealPlaintextOnce(rekeyDeps),
  }
}

/** What {@link createServices} builds: the shared services every door and the admin API use. */
export type Services = ReturnType<typeof createServices>
