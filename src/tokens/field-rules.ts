/**
 * @module tokens/field-rules
 * A platform definition's field rules as data: per field of the mapped document, its kind,
 * whether the platform requires it and its length limit. A required field that is missing or
 * unusable stops the token with {@link AccountIncomplete} (422 `account_incomplete`), before
 * anything is signed; an optional one the platform would refuse is left out, so the platform's
 * own default applies. Fields without a rule pass as mapped (an integration's mapping may add
 * fields the platform accepts). The checks are tokens/fields.ts's, which the older platform
 * files use one by one.
 */
import type { JsonObject } from '../accounts/types.ts'
import { AccountIncomplete } from '../errors/index.ts'
import { truncateCodePoints } from '../mapping/index.ts'
import { isTimeZone } from '../store/time-zone.ts'
import {
  characters,
  isEmail,
  isHttpUrl,
  optionalText,
  requireEmail,
  requireText,
} from './fields.ts'

/** One field's rule. `max` counts characters (code points), as people do. */
export type FieldRule =
  /** Text. Over `max`: cut to it with `cut`, else refused (required) or left out (optional). */
  | { kind: 'text'; required?: boolean; max?: number; cut?: boolean }
  /**
   * An identifier: text, or a number sent as its decimal string — or, with `keepNumber`, left a
   * JSON number (Minnit's `userid`: "doesn't have to be a number", its example is `1`).
   */
  | { kind: 'id'; required?: boolean; max?: number; keepNumber?: boolean }
  /** An email address (the account API's syntax). */
  | { kind: 'email'; required?: boolean; max?: number }
  /** An absolute http(s) URL. */
  | { kind: 'url'; required?: boolean; max?: number }
  | { kind: 'boolean'; required?: boolean }
  /** One of the platform's own values. */
  | { kind: 'enum'; values: readonly string[]; required?: boolean }
  /** An IANA time zone name (`Europe/Paris`), as store/time-zone.ts checks it. */
  | { kind: 'timezone'; required?: boolean }

/** A platform's rules, by field name of the mapped document. */
export type FieldRules = Readonly<Record<string, FieldRule>>

/**
 * Applies `rules` to `doc` in place and returns it.
 * @throws {AccountIncomplete} a required field missing or unusable (naming it and the integration)
 */
export function applyFieldRules(
  doc: JsonObject,
  rules: FieldRules,
  integrationId: string,
): JsonObject {
  let list = entries.get(rules)
  if (!list) entries.set(rules, (list = Object.entries(rules)))
  for (const [field, rule] of list) {
    if (rule.required) {
      doc[field] = required(doc, field, rule, integrationId)
      continue
    }
    if (!(field in doc)) continue
    const value = optional(doc, field, rule)
    if (value === undefined) delete doc[field]
    else doc[field] = value
  }
  return doc
}

/** Each rule set's entries, listed once (a definition's rules never change). */
const entries = new WeakMap<FieldRules, [string, FieldRule][]>()

const invalid = (integrationId: string, field: string, detail: string) =>
  new AccountIncomplete(integrationId, field, 'invalid', detail)

function required(
  doc: JsonObject,
  field: string,
  rule: FieldRule,
  id: string,
): string | number | boolean {
  switch (rule.kind) {
    case 'text': {
      const v = requireText(doc, field, id)
      if (rule.max === undefined || v.length <= rule.max || characters(v) <= rule.max) return v
      if (rule.cut) return truncateCodePoints(v, rule.max)
      throw invalid(id, field, `must be at most ${rule.max} characters`)
    }
    case 'id': {
      const v = doc[field]
      return rule.keepNumber && typeof v === 'number' ? v : requireText(doc, field, id, rule.max)
    }
    case 'email':
      return requireEmail(doc, field, id, rule.max)
    case 'url': {
      const v = requireText(doc, field, id, rule.max)
      if (!isHttpUrl(v)) throw invalid(id, field, 'must be an http(s) URL')
      return v
    }
    case 'boolean': {
      const v = doc[field]
      if (v === undefined || v === null) throw new AccountIncomplete(id, field, 'missing')
      if (typeof v !== 'boolean') throw invalid(id, field, 'must be true or false')
      return v
    }
    case 'enum': {
      const v = requireText(doc, field, id)
      if (!rule.values.includes(v))
        throw invalid(id, field, `must be one of ${rule.values.join(', ')}`)
      return v
    }
    case 'timezone': {
      const v = requireText(doc, field, id)
      if (!isTimeZone(v)) throw invalid(id, field, 'must be an IANA time zone such as Europe/Paris')
      return v
    }
  }
}

function optional(
  doc: JsonObject,
  field: string,
  rule: FieldRule,
): string | number | boolean | undefined {
  const raw = doc[field]
  switch (rule.kind) {
    case 'boolean':
      return typeof raw === 'boolean' ? raw : undefined
    case 'timezone':
      return typeof raw === 'string' && isTimeZone(raw) ? raw : undefined
    case 'id': {
      if (rule.keepNumber && typeof raw === 'number' && Number.isFinite(raw)) return raw
      const v =
        typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : optionalText(doc, field)
      return v !== undefined &&
        (rule.max === undefined || v.length <= rule.max || characters(v) <= rule.max)
        ? v
        : undefined
    }
    case 'enum': {
      const v = optionalText(doc, field)
      return v !== undefined && rule.values.includes(v) ? v : undefined
    }
    default: {
      const v = optionalText(doc, field)
      if (v === undefined) return undefined
      if (rule.max !== undefined && v.length > rule.max && characters(v) > rule.max)
        return rule.kind === 'text' && rule.cut ? truncateCodePoints(v, rule.max) : undefined
      if (rule.kind === 'email' && !isEmail(v)) return undefined
      if (rule.kind === 'url' && !isHttpUrl(v)) return undefined
      return v
    }
  }
}
