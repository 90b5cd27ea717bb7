/**
 * @module cli/context
 * What a command needs, opened on first use: the server's config (`.env` included), then the
 * store and services over it. Lazy so that `--help` and usage errors never touch the database
 * (the `keys` commands open it only to record the keys in use), and so one place can close the
 * store whatever happened.
 */
import { loadConfig, type Config } from '../config/index.ts'
import { loadSecretBox } from '../keys/secrets-key.ts'
import { loadKeys } from '../keys/index.ts'
import { createServices, type Services } from '../services.ts'
import { createStore } from '../store/index.ts'

/** Who the audit logs name for a change made from the shell. */
export const CLI_ACTOR = 'cli'

/**
 * What every command reaches the server's config and store through. Both are opened lazily, so
 * `--help` and usage errors work without a database or a valid configuration.
 */
export interface CliContext {
  /** The environment config is read from (also consulted for LOG_LEVEL when reporting). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** @throws {ConfigInvalid} */
  config(): Readonly<Config>
  /** Opens the store named by the config (once). @throws {StoreUnavailable} */
  services(): Promise<Services>
  /** Closes the store if it was opened; safe to call more than once. */
  close(): Promise<void>
}

/**
 * The lazy context of one CLI run over `env` (the only place the CLI's environment enters).
 * @example
 * const ctx = createContext(process.env)
 * try { printJson(io, await (await ctx.services()).accounts.get(id)) } finally { await ctx.close() }
 */
export function createContext(env: Record<string, string | undefined>): CliContext {
  let config: Readonly<Config> | undefined
  let services: Promise<Services> | undefined
  const getConfig = () => (config ??= loadConfig(env))
  return {
    env,
    config: getConfig,
    services: () =>
      (services ??= (async () => {
        const c = getConfig()
        // The box first: a key file it has to generate exists before the store is touched.
        const { box } = loadSecretBox(c.secretsKeys, c.keysDir)
        // KEYS_DIR is read only when an RS256 platform (Arena) issues a token.
        return createServices(await createStore(c.store), {
          ...c,
          secrets: box,
          keys: () => loadKeys(c.keysDir),
        })
      })()),
    async close() {
      if (!services) return
      const opened = services
      services = undefined
      // A store that failed to open has nothing to close; its error was already reported.
      const s = await opened.catch(() => undefined)
      await s?.store.close()
    },
  }
}
