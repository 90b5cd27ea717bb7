/**
 * @module integrations/types
 * What a door contributes to the registry for each integration type it serves. The registry
 * validates integrations with these definitions and never imports a door itself.
 */
import type { z } from 'zod'
import type { Account } from '../accounts/types.ts'
import type { CompiledMapping } from '../mapping/index.ts'
import type { SecretBox } from '../secrets/index.ts'
import type { IntegrationRecord, KvStore } from '../store/ports.ts'

/** What a type's {@link IntegrationTypeDefinition.resealStored} did, in counts. */
export interface StoredResealCount {
  /** Secrets found in plain text (stored before secrets at rest) and sealed. */
  sealed: number
  /** Secrets sealed under an older key and sealed again under the first. */
  resealed: number
  /** Secrets already sealed under the first key. */
  current: number
}

/**
 * What a secret of an integration type is. `S` is the type's settings (what `generate` reads).
 */
export interface SecretSpec<S extends object = object> {
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
  generate?(settings: S): string | null
}

/**
 * How the operator console's catalogue presents a type (issue #14): the platform's name and, for
 * each setting and secret, the platform's own words for it and where it is found or pasted, so an
 * operator never has to translate our names into the platform's screens.
 */
export interface TypeGuide {
  /** The catalogue entry's title, e.g. "Minnit — OAuth2". */
  title: string
  /** The platform's name; the catalogue groups entries by it (e.g. "Minnit", "Generic"). */
  platform: string
  /**
   * Per setting or secret name: its label in the platform's words and, in `help`, where to find
   * it ("Organization Settings → SSO → encryption key"). A field without an entry is shown with its
   * own name and the schema's description.
   */
  fields?: Record<string, { label: string; help?: string }>
  /**
   * Inputs the settings schema reads before its own fields (a `z.preprocess`, so absent from its
   * JSON Schema), by name: the console's form offers each as a large text field first (SAML's
   * `metadata_xml`: the SP's metadata, which fills the fields left empty).
   */
  documents?: Record<string, { label: string; help?: string }>
  /**
   * How the console's Connection page words the connection sheet as numbered steps: `start` is
   * the first step (where to go in the platform), `labels` names sheet values (dotted paths of
   * the sheet, e.g. `authorization_endpoint`, `keys.unique_user_key`) in the platform's words, in
   * the order the platform's form asks for them. Values without a label are listed after them.
   */
  connection?: { start: string; labels?: Record<string, string> }
}

/**
 * A catalogue entry that presets an existing type for one platform (e.g. "Minnit — OAuth2" is the
 * `oidc` type with Minnit's words and mapping), declared beside the type it presets.
 */
export interface TypePreset {
  /** The entry's stable key in the catalogue (`minnit-oauth2`): the console's `?entry=`. */
  key: string
  guide: TypeGuide
  /** Settings the form starts with (validated by the type's schema on save, as any input). */
  settings?: Record<string, unknown>
  /** The mapping an integration made from this entry gets (over the type's default mapping). */
  mapping?: Record<string, unknown>
  /**
   * Whether a stored integration of the type looks like one made from this entry (its settings
   * point at the platform), so the console can show it in the platform's words.
   */
  recognizes?: (settings: Record<string, unknown>) => boolean
}

/**
 * One integration type: its settings schema, secrets, default mapping and connection sheet. `S`
 * is the settings' type, inferred from the schema (`z.infer`), so what a door reads from
 * {@link LoadedIntegration.settings} is typed by the schema that validated it.
 *
 * The callbacks (`generate`, `connection`) are declared as methods on purpose: a list of types
 * of different settings (`readonly IntegrationTypeDefinition[]`) is then possible without a cast,
 * and the registry only ever calls a type's callbacks with what that type's own schema returned.
 */
export interface IntegrationTypeDefinition<S extends object = object> {
  type: string
  /** One line shown in listings and on the home page. */
  description: string
  /** How the console's catalogue presents it (absent: listed under "Other" by its type name). */
  guide?: TypeGuide
  /** Further catalogue entries that preset this type for a platform (see {@link TypePreset}). */
  presets?: readonly TypePreset[]
  /** Validates (and fills defaults in) the type's `settings`. */
  settings: z.ZodType<S>
  /** Secrets the type uses, by name. Any other name is refused. */
  secrets: Record<string, SecretSpec<S>>
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
  connection?(integration: LoadedIntegration<S>, issuer: string): Record<string, unknown>
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
  /**
   * Tells the platform about an account that was created or changed (Discourse: `sync_sso`), so
   * the platform's copy follows without waiting for the member's next sign-in. Called once per
   * integration of the type after the write (services.ts); a failure is logged, never undoes it.
   */
  onAccountChanged?(ctx: { integration: LoadedIntegration<S>; account: Account }): Promise<void>
  /**
   * Tells the platform a member signed out of sso-bridge (Discourse: `log_out`), so the
   * platform's own session ends too. Called once per integration of the type for every sign-out
   * (login/sign-out.ts, through services.ts); a failure is logged.
   */
  onSignedOut?(ctx: { integration: LoadedIntegration<S>; externalId: string }): Promise<void>
  /**
   * Seals under the first key the secrets an integration of this type stored per account (Dead
   * Simple Chat: each member's access token), for the accounts `accountIds` (one page of them):
   * `sso-bridge secrets rekey` and the first start after an upgrade walk every account.
   * @throws {SecretsKeyMissing} a stored secret is sealed under a key not configured here
   */
  resealStored?: (ctx: {
    kv: KvStore
    integrationId: string
    accountIds: readonly string[]
    secrets: SecretBox
    /** Seal plain text only; leave what an older key sealed (the start-up pass). */
    onlyPlaintext: boolean
  }) => Promise<StoredResealCount>
}

/**
 * An integration as a door uses it: the stored record, its settings typed by its type's schema,
 * its compiled mapping and its resolved secrets. The registry parses the stored settings with the
 * type's schema when it reads the record (so a setting added later has its default), and a door
 * asks for the type it serves (`integrations.load(id, oidcIntegrationType)`, or
 * {@link isIntegrationOf}) instead of casting `settings` at each use.
 *
 * @example
 * const rp = await integrations.load('forum', oidcIntegrationType)
 * rp.settings.redirect_uris // string[]: no cast
 * const any = await integrations.load('forum')
 * any.settings // `object` until narrowed
 * if (isIntegrationOf(any, samlIntegrationType)) any.settings.entity_id // string
 */
export interface LoadedIntegration<S extends object = object> {
  /** The record as stored (its `settings` as saved, before today's defaults). */
  record: IntegrationRecord
  /** The settings, parsed by `definition.settings`. */
  settings: S
  definition: IntegrationTypeDefinition<S>
  /** The integration's mapping laid over its type's default mapping, compiled. */
  mapping: CompiledMapping
  /** A secret's value where this runs, or undefined. Never expose it. */
  secret: (name: string) => string | undefined
}

/**
 * Whether `integration` is of `type` (the very definition its settings were parsed with), so its
 * settings have that type's shape.
 * @example if (isIntegrationOf(loaded, oidcIntegrationType)) loaded.settings.public
 */
export function isIntegrationOf<S extends object>(
  integration: LoadedIntegration,
  type: IntegrationTypeDefinition<S>,
): integration is LoadedIntegration<S> {
  return integration.definition === type
}

/**
 * A type's name for people: its catalogue title, else its description without the parenthesis
 * that lists platforms (`'OAuth2/OIDC client (Minnit OAuth2 form, …)'` → `'OAuth2/OIDC client'`).
 * What a member-facing page shows for an integration with no `display_name`.
 */
export function typeTitle(type: Pick<IntegrationTypeDefinition, 'guide' | 'description'>): string {
  return type.guide?.title ?? type.description.replace(/\s*\([^)]*\)\s*$/, '')
}
