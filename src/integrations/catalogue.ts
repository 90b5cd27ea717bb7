/**
 * @module integrations/catalogue
 * The platform catalogue the operator console's "Add" lists (issue #14): one entry per registered
 * type with a `guide`, plus each type's presets (e.g. "Minnit — OAuth2" presets `oidc`), grouped by
 * platform. The entries are data the doors declare beside their type definitions; this module only
 * gathers them, so a type registered later (services.ts) appears with no change here.
 */
import type { IntegrationTypeDefinition, TypeGuide } from './types.ts'

/** One entry of the catalogue: a type, its words for one platform, and what the form starts with. */
export interface CatalogueEntry {
  /** Stable key: the preset's key, or the type name for the type's own entry. */
  key: string
  type: IntegrationTypeDefinition
  guide: TypeGuide
  /** Settings the form starts with (the type's defaults fill the rest). */
  settings: Record<string, unknown>
  /** The mapping a new integration gets (null: the type's default mapping alone). */
  mapping: Record<string, unknown> | null
}

/** A platform's entries, as the catalogue page groups them. */
export interface CatalogueGroup {
  platform: string
  entries: CatalogueEntry[]
}

/** The group a type without a guide is listed in. */
export const OTHER_PLATFORM = 'Other'
/** Listed after every named platform. */
const LAST = ['Generic', OTHER_PLATFORM]

/** Whether `value` is an http(s) URL whose host matches `host` (a preset's `recognizes`). */
export function urlHostMatches(value: unknown, host: RegExp): boolean {
  return typeof value === 'string' && URL.canParse(value) && host.test(new URL(value).hostname)
}

/** A type's own entry: its guide, or its name under "Other" when it has none. */
function ownEntry(type: IntegrationTypeDefinition): CatalogueEntry {
  return {
    key: type.type,
    type,
    guide: type.guide ?? { title: type.type, platform: OTHER_PLATFORM },
    settings: {},
    mapping: null,
  }
}

/**
 * Every entry: each type's presets first (a platform's own entries before the generic ones), then
 * each type's own entry.
 */
export function catalogueEntries(types: readonly IntegrationTypeDefinition[]): CatalogueEntry[] {
  const presets = types.flatMap((type) =>
    (type.presets ?? []).map((p): CatalogueEntry => ({
      key: p.key,
      type,
      guide: p.guide,
      settings: p.settings ?? {},
      mapping: p.mapping ?? null,
    })),
  )
  return [...presets, ...types.map(ownEntry)]
}

/** The entries grouped by `guide.platform`, in order of first appearance, Generic and Other last. */
export function catalogueGroups(types: readonly IntegrationTypeDefinition[]): CatalogueGroup[] {
  const groups = new Map<string, CatalogueEntry[]>()
  for (const entry of catalogueEntries(types)) {
    const list = groups.get(entry.guide.platform) ?? []
    list.push(entry)
    groups.set(entry.guide.platform, list)
  }
  const rank = (platform: string) => LAST.indexOf(platform) + 1
  return [...groups.entries()]
    .map(([platform, entries]) => ({ platform, entries }))
    .sort((a, b) => rank(a.platform) - rank(b.platform))
}

/** The entry with `key`, or undefined. */
export function catalogueEntry(
  types: readonly IntegrationTypeDefinition[],
  key: string,
): CatalogueEntry | undefined {
  return catalogueEntries(types).find((e) => e.key === key)
}

/**
 * The entry a stored integration is shown by: the first preset of its type that recognizes its
 * settings, else its type's own entry.
 */
export function entryOf(
  type: IntegrationTypeDefinition,
  settings: Record<string, unknown>,
): CatalogueEntry {
  const preset = (type.presets ?? []).find((p) => p.recognizes?.(settings))
  return preset
    ? {
        key: preset.key,
        type,
        guide: preset.guide,
        settings: preset.settings ?? {},
        mapping: preset.mapping ?? null,
      }
    : ownEntry(type)
}
