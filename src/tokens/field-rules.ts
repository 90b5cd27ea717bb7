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
  let checks = compiled.get(rules)
  if (!checks) compiled.set(rules, (checks = Object.entries(rules).map(([f, r]) => compile(f, r))))
  for (let i = 0; i < checks.length; i++) checks[i]!(doc, integrationId)
  return doc
}

/** One field's rule as a function of the document, in place. */
type Check = (doc: JsonObject, integrationId: string) => void

type Value = string | number | boolean

/**
 * Each rule set's checks, compiled once (a definition's rules never change): the rule's kind and
 * limits are decided here, not on every token.
 */
const compiled = new WeakMap<FieldRules, Check[]>()

function compile(field: string, rule: FieldRule): Check {
  if (rule.required) {
    const check = required(field, rule)
    return (doc, id) => {
      const v = check(doc, id)
      // A value that is already what it should be is not written again.
      if (doc[field] !== v) doc[field] = v
    }
  }
  const check = optional(field, rule)
  return (doc) => {
    if (!(field in doc)) return
    const v = check(doc)
    if (v === undefined) delete doc[field]
    else if (doc[field] !== v) doc[field] = v
  }
}

const invalid = (integrationId: string, field: string, detail: string) =>
  new AccountIncomplete(integrationId, field, 'invalid', detail)

/** Within `max` characters (code points); UTF-16 length ≥ code points, so only long text is counted. */
const within = (v: string, max: number | undefined) =>
  max === undefined || v.length <= max || characters(v) <= max

function required(field: string, rule: FieldRule): (doc: JsonObject, id: string) => Value {
  switch (rule.kind) {
    case 'text': {
      const { max, cut } = rule
      return (doc, id) => {
        const v = requireText(doc, field, id)
        if (within(v, max)) return v
        if (cut) return truncateCodePoints(v, max!)
        throw invalid(id, field, `must be at most ${max} characters`)
      }
    }
    case 'id': {
      const { max, keepNumber } = rule
      return (doc, id) => {
        const v = doc[field]
        return keepNumber && typeof v === 'number' ? v : requireText(doc, field, id, max)
      }
    }
    case 'email': {
      const { max } = rule
      return (doc, id) => requireEmail(doc, field, id, max)
    }
    case 'url': {
      const { max } = rule
      return (doc, id) => {
        const v = requireText(doc, field, id, max)
        if (!isHttpUrl(v)) throw invalid(id, field, 'must be an http(s) URL')
        return v
      }
    }
    case 'boolean':
      return (doc, id) => {
        const v = doc[field]
        if (v === undefined || v === null) throw new AccountIncomplete(id, field, 'missing')
        if (typeof v !== 'boolean') throw invalid(id, field, 'must be true or false')
        return v
      }
    case 'enum': {
      const { values } = rule
      return (doc, id) => {
        const v = requireText(doc, field, id)
        if (!values.includes(v)) throw invalid(id, field, `must be one of ${values.join(', ')}`)
        return v
      }
    }
    case 'timezone':
      return (doc, id) => {
        const v = requireText(doc, field, id)
        if (!isTimeZone(v))
          throw invalid(id, field, 'must be an IANA time zone such as Europe/Paris')
        return v
      }
  }
}

function optional(field: string, rule: FieldRule): (doc: JsonObject) => Value | undefined {
  switch (rule.kind) {
    case 'boolean':
      return (doc) => {
        const raw = doc[field]
        return typeof raw === 'boolean' ? raw : undefined
      }
    case 'timezone':
      return (doc) => {
        const raw = doc[field]
        return typeof raw === 'string' && isTimeZone(raw) ? raw : undefined
      }
    case 'id': {
      const { max, keepNumber } = rule
      return (doc) => {
        const raw = doc[field]
        if (keepNumber && typeof raw === 'number' && Number.isFinite(raw)) return raw
        const v =
          typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : optionalText(doc, field)
        return v !== undefined && within(v, max) ? v : undefined
      }
    }
    case 'enum': {
      const { values } = rule
      return (doc) => {
        const v = optionalText(doc, field)
        return v !== undefined && values.includes(v) ? v : undefined
      }
    }
    default: {
      const { kind, max } = rule
      const cut = kind === 'text' && rule.cut === true
      const valid = kind === 'email' ? isEmail : kind === 'url' ? isHttpUrl : undefined
      return (doc) => {
        const v = optionalText(doc, field)
        if (v === undefined) return undefined
        if (!within(v, max)) return cut ? truncateCodePoints(v, max!) : undefined
        return valid === undefined || valid(v) ? v : undefined
      }
    }
  }
}
