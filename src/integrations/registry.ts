/**
 * @module integrations/registry
 * The one registry of chat-platform connections: validates an integration against its type's
 * definition, stores it, and shows it without secret values. Secrets are write-only: a read
 * says where each comes from and whether it is set, never what it is. Inline secrets are stored
 * sealed (secrets/box.ts, AES-256-GCM), bound to their integration and name, so a database copy
 * without the key reveals none.
 */
import { z } from 'zod'
import {
  IntegrationExists,
  IntegrationNotFound,
  IntegrationTypeUnknown,
  JsonTooDeep,
  ValidationFailed,
  type FieldIssue,
} from '../errors/index.ts'
import { zodIssues } from '../errors/zod.ts'
import { DEFAULT_SECRET_ENV_PREFIX } from '../config/schema.ts'
import { jsonValueTooDeep, MAX_JSON_DEPTH } from '../accounts/json-depth.ts'
import { compileMapping, type CompiledMapping } from '../mapping/index.ts'
import { isSealed, type SecretBox } from '../secrets/index.ts'
import type { IntegrationRecord, IntegrationStore, SecretSource } from '../store/ports.ts'
import { integrationChangeDetail } from './change-detail.ts'
import { integrationId } from './schemas.ts'
import { isIntegrationOf, type IntegrationTypeDefinition, type LoadedIntegration } from './types.ts'

export type { LoadedIntegration } from './types.ts'

/** How long a loaded integration is reused before the store is read again. */
export const RECORD_TTL_MS = 1000

/**
 * The actor recorded for a change whose caller named none. Every caller in src/ names one (the
 * admin API `admin-api`, the CLI `cli`, the console `operator:<name>`; an architecture test holds
 * them to it); tests that set up integrations through the service directly are recorded so.
 */
export const UNATTRIBUTED = 'unattributed'

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const secretSource = z.union([
  z.strictObject({ value: z.string().min(1, 'must not be empty').max(4096) }),
  z.strictObject({ env: z.string().regex(ENV_NAME, 'must be an environment variable name') }),
])

const bodySchema = z.strictObject({
  id: z.string().optional(),
  type: z.string({ error: 'is required' }),
  settings: z.record(z.string(), z.unknown()).default({}),
  /** Omitted secrets are kept from the stored integration; `null` removes one. */
  secrets: z
    .record(
      z.string(),
      z.union([
        secretSource,
        z
          .string()
          .min(1)
          .transform((value) => ({ value })),
        z.null(),
      ]),
    )
    .default({}),
  mapping: z.record(z.string(), z.unknown()).nullable().default(null),
})

/**
 * How a read shows one secret: where it comes from and whether it is set, never its value
 * (secrets are write-only).
 */
export type SecretView =
  { source: 'inline'; set: true } | { source: 'env'; env: string; set: boolean }

/** An integration as the API and CLI show it. */
export interface IntegrationView extends Omit<IntegrationRecord, 'secrets'> {
  secrets: Record<string, SecretView>
  /** Only in the response of the save that generated them: shown once, never again. */
  generated_secrets?: Record<string, string>
}

/** What {@link createIntegrationService} needs; services.ts wires it. */
export interface IntegrationServiceDeps {
  store: IntegrationStore
  types: readonly IntegrationTypeDefinition[]
  /** Resolves `{ env }` secrets (config's snapshot of the environment). */
  readSecretEnv: (name: string) => string | undefined
  /**
   * SECRET_ENV_PREFIX: the only variables an `{ env }` secret may name (default
   * `SSO_BRIDGE_SECRET_`). A stored name without it (saved before the rule) resolves to nothing.
   */
  secretEnvPrefix?: string
  /** Seals inline secrets before they are stored, and opens them for the doors. */
  secrets: SecretBox
}

/** What a change through the registry records: who made it (`operator:<name>`, `cli`…). */
export interface ChangeOptions {
  /** Written to the audit log with the change (nothing is written without one). */
  actor?: string
  /** The audit action instead of `integration_created`/`integration_updated`. */
  action?: string
  /** Refuse with {@link IntegrationExists} when `id` is taken (adding, not replacing). */
  create?: boolean
}

/** The AAD context of an integration's inline secret: it opens only in this row, under this name. */
export const integrationSecretContext = (id: string, name: string): string =>
  `integration:${id}:${name}`

/** A hook an integration type may declare, called for each integration of the type. */
export type IntegrationHook = 'onAccountChanged' | 'onSignedOut' | 'onAccountRemoved'
const HOOKS: readonly IntegrationHook[] = ['onAccountChanged', 'onSignedOut', 'onAccountRemoved']

/** An integration whose type declares a hook: what {@link IntegrationService.hooked} lists. */
export interface HookedIntegration {
  id: string
  type: IntegrationTypeDefinition
}

/** What {@link IntegrationService.reseal} did, in counts (never a value). */
export interface ResealReport {
  /** Integrations read. */
  integrations: number
  /** Integrations written back (any of their secrets changed). */
  updated: number
  /** Inline secrets found in plain text (from before secrets at rest) and sealed. */
  sealed: number
  /** Inline secrets sealed under an older key and sealed again under the first. */
  resealed: number
  /** Inline secrets already sealed under the first key: left as they are. */
  current: number
}

/**
 * The integration registry: `put` validates a body against its type's settings schema and
 * mapping and stores it; `get`/`list` show integrations with secrets as {@link SecretView}s
 * (values never leave); `load` gives a door the parsed settings, compiled mapping and secret
 * values, reused for up to {@link RECORD_TTL_MS} and dropped at once by any write it hears of.
 * Each method's comment lists what it throws.
 * @throws {ValidationFailed} from `put`: each bad field with its path
 * @throws {IntegrationTypeUnknown} from `put`: a type no door registered
 * @throws {IntegrationNotFound} from `get`, `load` and `remove`: no integration with that id
 * @example
 * const integrations = createIntegrationService({ store, types: INTEGRATION_TYPES, readSecretEnv })
 * await integrations.put('forum', { type: 'oidc', settings: { redirect_uris: [...] } })
 * const rp = await integrations.load('forum', oidcIntegrationType)
 */
export function createIntegrationService({
  store,
  types,
  readSecretEnv,
  secretEnvPrefix = DEFAULT_SECRET_ENV_PREFIX,
  secrets: box,
}: IntegrationServiceDeps) {
  const byType = new Map(types.map((t) => [t.type, t]))
  const compiled = new Map<
    string,
    { version: string; mapping: CompiledMapping; settings: object }
  >()
  // Doors load an integration on every request (a token request reads it twice: client
  // authentication, then claims). Records are kept for a moment; writes through this service
  // drop them at once. Where the store pushes changes (PostgreSQL: every instance on the
  // database, the CLI included), a cached record is used only after the feed has confirmed that
  // every change committed before the load has been heard (see ChangeFeed.sync), so a write on
  // one instance holds on every other as soon as it returns; without a live feed the store is
  // read every time. Elsewhere (SQLite), another process's write shows within RECORD_TTL_MS.
  const records = new Map<string, { until: number; loaded: LoadedIntegration }>()
  const feed = store.integrationChanges
  // Bumped by every change heard: a load that read the store before a change it had not yet
  // heard of must not cache what it read.
  let heard = 0
  // Subscribed on the first load, not here: nothing is cached before it, and a CLI command that
  // loads no integration then opens no listening connection.
  let listening = false
  // The integrations whose type declares a hook (id and type only). Every account write and
  // every sign-out asks for them, and almost no installation has one: kept until a change is
  // heard (any change: a write may add one, remove one, or change a type), and trusted on the
  // same terms as a loaded record (the feed synced; without a feed, for RECORD_TTL_MS).
  let hookedList: { until: number; list: HookedIntegration[] } | undefined
  const listen = () => {
    if (listening || !feed) return
    listening = true
    feed.subscribe((id) => {
      heard++
      hookedList = undefined
      if (id === null) records.clear()
      else records.delete(id)
    })
  }

  /**
   * The integrations whose type declares `hook`, in the store's order; the store is listed only
   * when a change was heard since the last time (or, without a feed, after RECORD_TTL_MS).
   */
  async function hooked(hook: IntegrationHook): Promise<HookedIntegration[]> {
    listen()
    const trusted = feed ? await feed.sync() : true
    let cached = trusted && hookedList && hookedList.until > Date.now() ? hookedList : undefined
    if (!cached) {
      const before = heard
      const list: HookedIntegration[] = []
      for (const r of await store.listIntegrations()) {
        const type = byType.get(r.type)
        if (type && HOOKS.some((h) => type[h] !== undefined)) list.push({ id: r.id, type })
      }
      cached = { until: feed ? Infinity : Date.now() + RECORD_TTL_MS, list }
      if (trusted && before === heard) hookedList = cached
    }
    return cached.list.filter((i) => i.type[hook] !== undefined)
  }

  function definition(type: string): IntegrationTypeDefinition {
    const def = byType.get(type)
    if (!def) throw new IntegrationTypeUnknown(type)
    return def
  }

  // An admin chooses both the variable and the URL a secret is sent to: only names under the
  // prefix are ever read, so the server's own settings (SITE_TICKET_SECRET, DATABASE_URL, cloud
  // credentials in the environment) can never leave it through an integration.
  const envAllowed = (name: string) => name.startsWith(secretEnvPrefix)

  /**
   * A secret's value where this runs.
   * @throws {SecretsKeyMissing} sealed under a key not configured here
   * @throws {SecretUnreadable} altered, or copied from another integration or name
   */
  function resolve(id: string, name: string, source: SecretSource): string | undefined {
    if ('value' in source) return source.value
    if ('sealed' in source) return box.open(source.sealed, integrationSecretContext(id, name))
    if (!envAllowed(source.env)) return undefined
    const value = readSecretEnv(source.env)
    return typeof value === 'string' && value !== '' ? value : undefined
  }

  function view(record: IntegrationRecord): IntegrationView {
    const secrets: Record<string, SecretView> = {}
    for (const [name, source] of Object.entries(record.secrets)) {
      secrets[name] =
        'env' in source
          ? { source: 'env', env: source.env, set: resolve(record.id, name, source) !== undefined }
          : { source: 'inline', set: true }
    }
    return { ...record, secrets }
  }

  /** The one rule for ids (schemas.ts), the console's Add page's too. */
  function checkId(id: string): void {
    const checked = integrationId.safeParse(id)
    if (!checked.success) throw new ValidationFailed(zodIssues(checked.error, 'id'))
  }

  /**
   * `secrets` with every inline one sealed under the first key: plain text (a new value, or one
   * stored before secrets at rest) is sealed, one sealed under an older key is opened and sealed
   * again, and the rest is kept as it is.
   * @throws {SecretsKeyMissing} a secret is sealed under a key not configured here
   */
  function sealAll(id: string, secrets: Record<string, SecretSource>, onlyPlaintext = false) {
    const out: Record<string, SecretSource> = {}
    const counts = { sealed: 0, resealed: 0, current: 0 }
    for (const [name, source] of Object.entries(secrets)) {
      const context = integrationSecretContext(id, name)
      if ('value' in source) {
        out[name] = { sealed: box.seal(source.value, context) }
        counts.sealed++
      } else if (
        !onlyPlaintext &&
        'sealed' in source &&
        isSealed(source.sealed) &&
        box.isStale(source.sealed)
      ) {
        out[name] = { sealed: box.seal(box.open(source.sealed, context), context) }
        counts.resealed++
      } else {
        out[name] = source
        if ('sealed' in source) counts.current++
      }
    }
    return { secrets: out, ...counts }
  }

  async function load(id: string): Promise<LoadedIntegration>
  async function load<S extends object>(
    id: string,
    type: IntegrationTypeDefinition<S>,
  ): Promise<LoadedIntegration<S>>
  async function load<S extends object>(
    id: string,
    type?: IntegrationTypeDefinition<S>,
  ): Promise<LoadedIntegration | LoadedIntegration<S>> {
    const loaded = await loadAny(id)
    if (type === undefined) return loaded
    if (!isIntegrationOf(loaded, type)) throw new IntegrationNotFound(id)
    return loaded
  }

  async function loadAny(id: string): Promise<LoadedIntegration> {
    listen()
    const trusted = feed ? await feed.sync() : true
    const hit = records.get(id)
    if (trusted && hit && hit.until > Date.now()) return hit.loaded
    const before = heard
    const record = await store.getIntegration(id)
    if (!record) {
      records.delete(id)
      throw new IntegrationNotFound(id)
    }
    const def = definition(record.type)
    // updated_at has millisecond resolution: two saves within one millisecond must still
    // recompile, so the mapping and the settings themselves are part of the version.
    const version = `${record.type}\u0000${JSON.stringify(record.mapping)}\u0000${JSON.stringify(record.settings)}`
    let cached = compiled.get(id)
    if (cached?.version !== version) {
      // Parsed again rather than trusted: a record saved before a setting existed gets its
      // default, so the type a door reads is the schema's, not a hope.
      const settings = def.settings.safeParse(record.settings)
      if (!settings.success) throw new ValidationFailed(zodIssues(settings.error, 'settings'))
      cached = {
        version,
        mapping: compileMapping(record.mapping, { defaults: def.defaultMapping }),
        settings: settings.data,
      }
      compiled.set(id, cached)
    }
    const opened = new Map<string, string>()
    const loaded: LoadedIntegration = {
      record,
      settings: cached.settings,
      definition: def,
      mapping: cached.mapping,
      // A sealed secret is opened once per loaded record (a token request reads it on every
      // issue); `{ env }` ones are read each time, so a changed variable counts at once.
      secret: (name) => {
        const source = Object.hasOwn(record.secrets, name) ? record.secrets[name] : undefined
        if (!source || !('sealed' in source)) return source ? resolve(id, name, source) : undefined
        let value = opened.get(name)
        if (value === undefined) opened.set(name, (value = resolve(id, name, source)!))
        return value
      },
    }
    if (trusted && before === heard) {
      if (records.size >= 10_000) records.clear()
      records.set(id, { until: Date.now() + RECORD_TTL_MS, loaded })
    }
    return loaded
  }

  return {
    types: () => [...byType.values()],

    /**
     * Creates or replaces integration `id`. The configuration audit log records who did it and
     * what changed (names, never values) in the same transaction (`options.actor`: `admin-api`,
     * `cli`, `operator:<name>`; `unattributed` without one), under `options.action` when given:
     * one entry per change, which the console's Audit page shows once.
     * @throws {ValidationFailed} naming each bad field (`settings.chat_url`, `secrets.encryption_key`…)
     * @throws {JsonTooDeep} the body nests deeper than MAX_JSON_DEPTH (checked before zod and
     *   the mapping compiler recurse through it)
     * @throws {IntegrationExists} with `options.create`, when `id` is taken
     */
    async put(
      id: string,
      body: unknown,
      options: ChangeOptions = {},
    ): Promise<{ integration: IntegrationView; created: boolean }> {
      checkId(id)
      if (jsonValueTooDeep(body)) throw new JsonTooDeep(MAX_JSON_DEPTH)
      const parsed = bodySchema.safeParse(body)
      if (!parsed.success) throw new ValidationFailed(zodIssues(parsed.error))
      const input = parsed.data
      const issues: FieldIssue[] = []
      if (input.id !== undefined && input.id !== id)
        issues.push({ path: 'id', message: 'must match the id in the URL' })
      const def = byType.get(input.type)
      if (!def) {
        issues.push({ path: 'type', message: `must be one of ${[...byType.keys()].join(', ')}` })
        throw new ValidationFailed(issues)
      }
      const settings = def.settings.safeParse(input.settings)
      if (!settings.success) issues.push(...zodIssues(settings.error, 'settings'))

      // The raw body's own keys: a `__proto__` key is lost when parsed into a record, not refused.
      const given = (body as { secrets?: unknown }).secrets
      const names = given !== null && typeof given === 'object' ? Object.keys(given) : []
      for (const name of names) {
        // Own properties only: `toString`, `constructor`, `__proto__`… are names of every object.
        if (!Object.hasOwn(def.secrets, name)) {
          issues.push({
            path: `secrets.${name}`,
            message: `is not a secret of type ${def.type} (known: ${Object.keys(def.secrets).join(', ') || 'none'})`,
          })
        }
      }
      const existing = await store.getIntegration(id)
      if (options.create && existing) throw new IntegrationExists(id)
      const secrets: Record<string, SecretSource> =
        existing?.type === input.type ? { ...existing.secrets } : {}
      for (const [name, source] of Object.entries(input.secrets)) {
        if (!Object.hasOwn(def.secrets, name)) {
          continue // refused above
        } else if (source === null) {
          delete secrets[name]
        } else {
          secrets[name] = source
        }
      }
      const generated: Record<string, string> = {}
      for (const [name, spec] of Object.entries(def.secrets)) {
        if (!secrets[name] && spec.generate && settings.success) {
          const value = spec.generate(settings.data)
          if (value !== null) {
            secrets[name] = { value }
            generated[name] = value
          }
        }
        const source = secrets[name]
        if (!source) {
          if (spec.required)
            issues.push({ path: `secrets.${name}`, message: `is required (${spec.description})` })
          continue
        }
        if ('env' in source && !envAllowed(source.env)) {
          issues.push({
            path: `secrets.${name}.env`,
            message: `must start with ${secretEnvPrefix} (SECRET_ENV_PREFIX): only those variables may be sent to a platform`,
          })
          continue
        }
        const value = resolve(id, name, source)
        // Refused now rather than at the first sign-in, with the variable's name (never a value).
        if (value === undefined && 'env' in source) {
          issues.push({
            path: `secrets.${name}.env`,
            message: `environment variable ${source.env} is not set where this runs`,
          })
          continue
        }
        const reason = value !== undefined && spec.check ? spec.check(value) : null
        if (reason) issues.push({ path: `secrets.${name}`, message: reason })
      }
      try {
        compileMapping(input.mapping, { defaults: def.defaultMapping })
      } catch (err) {
        if (!(err instanceof ValidationFailed)) throw err
        issues.push(...err.issues)
      }
      if (issues.length > 0) throw new ValidationFailed(issues)

      const detail = integrationChangeDetail(
        existing,
        { type: def.type, settings: settings.data!, mapping: input.mapping },
        input.secrets,
        Object.keys(generated),
      )
      const { record, created } = await store.putIntegration(
        {
          id,
          type: def.type,
          settings: settings.data!,
          secrets: sealAll(id, secrets).secrets,
          mapping: input.mapping,
        },
        {
          actor: options.actor ?? UNATTRIBUTED,
          detail: { ...detail },
          ...(options.action ? { action: options.action } : {}),
        },
      )
      records.delete(id)
      hookedList = undefined
      const integration = view(record)
      if (Object.keys(generated).length > 0) integration.generated_secrets = generated
      return { integration, created }
    },

    /** @throws {IntegrationNotFound} */
    async get(id: string): Promise<IntegrationView> {
      const record = await store.getIntegration(id)
      if (!record) throw new IntegrationNotFound(id)
      return view(record)
    },

    async list(): Promise<IntegrationView[]> {
      return (await store.listIntegrations()).map(view)
    },

    /**
     * The integrations whose type declares `hook`, with their type (services.ts calls each hook
     * on every account write, sign-out and removal). Cached until any integration change is
     * heard, from any instance where the store pushes changes (PostgreSQL), else for
     * RECORD_TTL_MS: with no hooked integration, a write or sign-out lists nothing.
     */
    hooked,

    /**
     * Seals every integration's inline secrets under the first key (`sso-bridge secrets rekey`,
     * and each start for what is still plain text): safe to run again, it writes only the
     * integrations whose secrets changed.
     * @param options.onlyPlaintext leave secrets sealed under an older key as they are (start-up)
     * @throws {SecretsKeyMissing} a secret is sealed under a key not configured here (nothing
     *   more is written; the integrations already done stay done)
     */
    async reseal(options: { onlyPlaintext?: boolean } = {}): Promise<ResealReport> {
      const report: ResealReport = {
        integrations: 0,
        updated: 0,
        sealed: 0,
        resealed: 0,
        current: 0,
      }
      for (const listed of await store.listIntegrations()) {
        // Read again right before the write: an admin's save since the listing is kept (the
        // window left is one read and one write).
        const record = await store.getIntegration(listed.id)
        if (!record) continue
        report.integrations++
        const needs = Object.values(record.secrets).some(
          (s) => 'value' in s || (!options.onlyPlaintext && 'sealed' in s && box.isStale(s.sealed)),
        )
        if (!needs) {
          report.current += Object.values(record.secrets).filter((s) => 'sealed' in s).length
          continue
        }
        const done = sealAll(record.id, record.secrets, options.onlyPlaintext)
        report.sealed += done.sealed
        report.resealed += done.resealed
        report.current += done.current
        await store.putIntegration({
          id: record.id,
          type: record.type,
          settings: record.settings,
          secrets: done.secrets,
          mapping: record.mapping,
        })
        records.delete(record.id)
        report.updated++
      }
      return report
    },

    /**
     * Checks that every stored inline secret opens with the keys configured here, so a server
     * missing a key refuses to start rather than failing a member's sign-in later.
     * @throws {SecretsKeyMissing} naming the key id and the first integration/secret sealed under it
     * @throws {SecretUnreadable} a sealed secret was altered or moved to another row
     */
    async checkSealed(): Promise<{ checked: number }> {
      let checked = 0
      for (const record of await store.listIntegrations()) {
        for (const [name, source] of Object.entries(record.secrets)) {
          if (!('sealed' in source)) continue
          box.open(source.sealed, integrationSecretContext(record.id, name))
          checked++
        }
      }
      return { checked }
    },

    /**
     * Deletes integration `id`; the configuration audit log records who did (same transaction).
     * @throws {IntegrationNotFound}
     */
    async remove(id: string, options: Pick<ChangeOptions, 'actor'> = {}): Promise<void> {
      records.delete(id)
      hookedList = undefined
      if (!(await store.deleteIntegration(id, { actor: options.actor ?? UNATTRIBUTED })))
        throw new IntegrationNotFound(id)
      compiled.delete(id)
    },

    /**
     * For doors: the record, its settings parsed by its type's schema, its compiled mapping and
     * resolved secret values. Never expose the secrets. With `type`, only an integration of that
     * type is found, and its settings have that type's shape. Reused for up to RECORD_TTL_MS
     * (dropped at once by put/remove here, and by any process's write where the store pushes
     * changes); settings and compiled mappings are cached per version of the record.
     * @throws {IntegrationNotFound} no integration `id` (or, with `type`, none of that type)
     * @throws {ValidationFailed} the stored settings no longer satisfy the type's schema (saved
     *   under an older, looser version): the paths say what to fix by saving it again
     * @example const rp = await integrations.load('forum', oidcIntegrationType)
     */
    load,
  }
}

/** The registry {@link createIntegrationService} builds. */
export type IntegrationService = ReturnType<typeof createIntegrationService>
