/**
 * @module console/routes/pages/settings-form
 * The settings part of an integration's form, generated from the type's settings schema (zod 4's
 * `z.toJSONSchema`, input side: properties, types, enums, defaults, required, descriptions) and
 * worded by the type's guide. It renders the field kinds the registered types use — text, URL,
 * number, checkbox, select, one-per-line lists, certificates, lists of small objects (rows of a
 * fieldset) — and reads a posted form back into a settings object for the registry, which
 * validates it exactly as the admin API's PUT does.
 */
import { z } from 'zod'
import type { TypeGuide } from '../../../integrations/types.ts'
import { escapeHtml } from '../../../web/views.ts'

/** What a field is drawn as. */
export type FieldKind =
  | 'text'
  | 'url'
  | 'number'
  | 'boolean'
  | 'enum'
  | 'lines'
  | 'pem'
  | 'rows'
  /** A document the schema reads before its fields (SAML's `metadata_xml`): a large text. */
  | 'document'

/** One setting as the form draws it. */
export interface FormField {
  name: string
  kind: FieldKind
  required: boolean
  label: string
  help?: string
  default?: unknown
  options?: string[]
  /** `rows`: the properties of each row's object. */
  columns?: FormField[]
}

/** A JSON Schema node as zod writes it (only what the form reads). */
interface JsonNode {
  type?: string | string[]
  format?: string
  pattern?: string
  enum?: unknown[]
  default?: unknown
  description?: string
  items?: JsonNode
  properties?: Record<string, JsonNode>
  required?: string[]
}

function kindOf(node: JsonNode): FieldKind {
  if (node.enum) return 'enum'
  if (node.type === 'boolean') return 'boolean'
  if (node.type === 'integer' || node.type === 'number') return 'number'
  if (node.type === 'array') return node.items?.type === 'object' ? 'rows' : 'lines'
  if (node.pattern?.includes('BEGIN CERTIFICATE')) return 'pem'
  if (node.format === 'uri') return 'url'
  return 'text'
}

function fieldsOfObject(node: JsonNode, guide: TypeGuide | undefined, prefix = ''): FormField[] {
  const required = new Set(node.required ?? [])
  return Object.entries(node.properties ?? {}).map(([name, prop]) => {
    // A row's cell is worded by `<list>.<cell>` in the guide (`acs_urls.url`).
    const words = guide?.fields?.[`${prefix}${name}`]
    const kind = kindOf(prop)
    const help = words?.help ?? prop.description
    return {
      name,
      kind,
      required: required.has(name),
      label: words?.label ?? name,
      ...(help ? { help } : {}),
      ...(prop.default !== undefined ? { default: prop.default } : {}),
      ...(prop.enum ? { options: prop.enum.map(String) } : {}),
      ...(kind === 'rows' && prop.items
        ? { columns: fieldsOfObject(prop.items, guide, `${name}.`) }
        : {}),
    }
  })
}

/**
 * The form's fields for a settings schema, in the schema's order, labelled by the guide.
 * @param schema the type's settings schema
 * @param guide the catalogue entry's words (labels and where to find each value)
 */
export function settingsFields(schema: z.ZodType, guide?: TypeGuide): FormField[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonNode
  // Inputs the schema takes apart before its own fields (a preprocess: SAML's `metadata_xml`)
  // are not in its JSON Schema; the guide names them, and they come first.
  const documents = Object.entries(guide?.documents ?? {}).map(([name, words]): FormField => ({
    name,
    kind: 'document',
    required: false,
    label: words.label,
    ...(words.help ? { help: words.help } : {}),
  }))
  return [...documents, ...fieldsOfObject(json, guide)]
}

/** Form values as posted (urlencoded, `extended: false`: a repeated name is an array). */
export type PostedForm = Record<string, string | string[] | undefined>

const one = (v: string | string[] | undefined): string =>
  Array.isArray(v) ? (v[0] ?? '') : (v ?? '')

/** The form field name of a setting. */
export const settingName = (name: string) => `s.${name}`

function readValue(field: FormField, raw: string): unknown {
  if (field.kind === 'number') {
    const t = raw.trim()
    // Kept as text when it is not a number: the schema then says so at the field.
    return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t
  }
  return raw.trim()
}

/**
 * Reads the settings from a posted form: an empty text, number or select leaves the setting out
 * (its default or "required" then applies), a checkbox is true only when ticked, a list has one
 * entry per non-empty line, and a row whose text cells are all empty is dropped.
 */
export function readSettings(fields: FormField[], form: PostedForm): Record<string, unknown> {
  const settings: Record<string, unknown> = {}
  // A document given fills what is left empty (its fields win where given): no empty list is
  // sent for it to be overruled by.
  const fromDocument = fields.some(
    (f) => f.kind === 'document' && one(form[settingName(f.name)]).trim() !== '',
  )
  for (const field of fields) {
    const key = settingName(field.name)
    if (field.kind === 'boolean') {
      settings[field.name] = one(form[key]) === 'true'
    } else if (field.kind === 'lines') {
      const lines = one(form[key])
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
      // An empty required list is sent as one, so the schema's own message ("at least one") shows.
      if (lines.length > 0 || (field.required && !fromDocument)) settings[field.name] = lines
    } else if (field.kind === 'rows') {
      const rows: Record<string, unknown>[] = []
      for (let i = 0; i < MAX_ROWS; i++) {
        const cells = field.columns ?? []
        const texts = cells.filter((c) => c.kind !== 'enum' && c.kind !== 'boolean')
        if (texts.every((c) => one(form[`${key}.${i}.${c.name}`]).trim() === '')) continue
        const row: Record<string, unknown> = {}
        for (const c of cells) {
          const raw = one(form[`${key}.${i}.${c.name}`])
          if (c.kind === 'boolean') row[c.name] = raw === 'true'
          else if (raw.trim() !== '') row[c.name] = readValue(c, raw)
        }
        rows.push(row)
      }
      if (rows.length > 0 || (field.required && !fromDocument)) settings[field.name] = rows
    } else {
      const raw = one(form[key])
      if (raw.trim() !== '') settings[field.name] = readValue(field, raw)
    }
  }
  return settings
}

/** The most rows of one list the form reads (a SAML SP lists a few ACS URLs). */
const MAX_ROWS = 20

/** Errors shown at a field, by field key (`s.<name>`, `secret:<name>`, `id`). */
export type FieldErrors = Map<string, string[]>

const idOf = (key: string) => `f-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`

/** The error paragraph of a field, and the attributes its input carries to point at it. */
function errorParts(key: string, errors: FieldErrors) {
  const messages = errors.get(key) ?? []
  if (messages.length === 0) return { html: '', attrs: '' }
  const id = `${idOf(key)}-error`
  return {
    html: `<p class="field-error" id="${id}">${messages.map(escapeHtml).join('<br>')}</p>`,
    attrs: ` aria-invalid="true" aria-describedby="${id}"`,
  }
}

const text = (v: unknown): string =>
  v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)

function help(field: FormField, id: string): string {
  const bits = [field.help, field.required ? 'required' : undefined].filter(Boolean)
  return bits.length
    ? `<span class="hint" id="${id}-hint">${escapeHtml(bits.join(' · '))}</span>`
    : ''
}

function input(field: FormField, key: string, value: unknown, extra: string): string {
  const id = idOf(key)
  const described = field.help || field.required ? ` aria-describedby="${id}-hint"` : ''
  const req = field.required ? ' required' : ''
  switch (field.kind) {
    case 'boolean':
      return `<input type="checkbox" id="${id}" name="${escapeHtml(key)}" value="true"${value === true ? ' checked' : ''}${described}${extra}>`
    case 'enum':
      return `<select id="${id}" name="${escapeHtml(key)}"${described}${extra}>${field.required ? '' : '<option value="">—</option>'}${(
        field.options ?? []
      )
        .map(
          (o) =>
            `<option value="${escapeHtml(o)}"${text(value) === o ? ' selected' : ''}>${escapeHtml(o)}</option>`,
        )
        .join('')}</select>`
    case 'lines':
      return `<textarea id="${id}" name="${escapeHtml(key)}" rows="3"${described}${extra}>${escapeHtml(
        Array.isArray(value) ? value.map(text).join('\n') : text(value),
      )}</textarea>`
    case 'document':
      return `<textarea id="${id}" name="${escapeHtml(key)}" rows="8" spellcheck="false"${described}${extra}>${escapeHtml(text(value))}</textarea>`
    case 'pem':
      return `<textarea id="${id}" name="${escapeHtml(key)}" rows="6" spellcheck="false"${described}${extra}>${escapeHtml(text(value))}</textarea>`
    case 'number':
      return `<input type="text" inputmode="numeric" id="${id}" name="${escapeHtml(key)}" value="${escapeHtml(text(value))}"${req}${described}${extra}>`
    case 'url':
      return `<input type="url" id="${id}" name="${escapeHtml(key)}" value="${escapeHtml(text(value))}" spellcheck="false"${req}${described}${extra}>`
    default:
      return `<input type="text" id="${id}" name="${escapeHtml(key)}" value="${escapeHtml(text(value))}" spellcheck="false"${req}${described}${extra}>`
  }
}

function renderRows(field: FormField, key: string, value: unknown, errors: FieldErrors): string {
  const rows = Array.isArray(value) ? (value as Record<string, unknown>[]) : []
  // One empty row more than there is, so a row can be added without JavaScript.
  const shown = [...rows, {}]
  const err = errorParts(key, errors)
  const legendId = `${idOf(key)}-legend`
  const fieldsets = shown
    .map((row, i) => {
      const cells = (field.columns ?? [])
        .map((c) => {
          const cellKey = `${key}.${i}.${c.name}`
          const cellValue = row?.[c.name] ?? (i >= rows.length ? c.default : undefined)
          const label = `<label for="${idOf(cellKey)}">${escapeHtml(c.label)}</label>`
          return c.kind === 'boolean'
            ? `<p>${input(c, cellKey, cellValue, '')} ${label}</p>`
            : `${label}${input({ ...c, required: false, help: undefined }, cellKey, cellValue, '')}`
        })
        .join('')
      return `<fieldset class="row"><legend>${escapeHtml(field.label)} ${i + 1}${i >= rows.length ? ' (new)' : ''}</legend>${cells}</fieldset>`
    })
    .join('')
  return `<fieldset class="rows"${err.attrs ? ` aria-describedby="${idOf(key)}-error"` : ''}><legend id="${legendId}">${escapeHtml(field.label)}${field.required ? ' <small>(required)</small>' : ''}</legend>${field.help ? `<span class="hint">${escapeHtml(field.help)}</span>` : ''}${err.html}${fieldsets}</fieldset>`
}

/**
 * The settings' fields as HTML, each with its label, hint and errors.
 * @param values the settings to show (stored, or as just posted)
 * @param withDefaults show each schema default where `values` has nothing (a new integration)
 */
export function renderSettings(
  fields: FormField[],
  values: Record<string, unknown>,
  errors: FieldErrors,
  withDefaults: boolean,
): string {
  return fields
    .map((field) => {
      const key = settingName(field.name)
      const value =
        field.name in values ? values[field.name] : withDefaults ? field.default : undefined
      if (field.kind === 'rows') return renderRows(field, key, value, errors)
      const err = errorParts(key, errors)
      const id = idOf(key)
      const label = `<label for="${id}">${escapeHtml(field.label)}</label>`
      if (field.kind === 'boolean')
        return `<div class="field check">${input(field, key, value, err.attrs)} ${label}${help(field, id)}${err.html}</div>`
      return `<div class="field">${label}${help(field, id)}${err.html}${input(field, key, value, err.attrs)}</div>`
    })
    .join('\n')
}

/** The HTML id of a field's input (for links from an error summary). */
export const fieldId = idOf

/** Where a validation issue is shown: the field key its path belongs to. */
export function issueKey(path: string): string {
  const parts = path.split('.')
  if (parts[0] === 'settings' && parts[1]) return settingName(parts[1])
  if (parts[0] === 'secrets' && parts[1]) return `secret:${parts[1]}`
  if (parts[0] === 'id') return 'id'
  return 'general'
}

/** The message of an issue as shown at its field: a list entry's line is named. */
export function issueText(path: string, message: string): string {
  const parts = path.split('.')
  if (parts[0] === 'settings' && parts.length > 2) {
    const rest = parts.slice(2)
    const line = Number(rest[0])
    if (Number.isInteger(line))
      return `entry ${line + 1}${rest.length > 1 ? ` (${rest.slice(1).join('.')})` : ''}: ${message}`
    return `${rest.join('.')}: ${message}`
  }
  return message
}
