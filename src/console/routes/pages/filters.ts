/**
 * @module console/routes/pages/filters
 * What the console's filter forms (Activity, Audit) share.
 */
import type { FieldIssue } from '../../../errors/index.ts'
import { escapeHtml } from '../../../web/views.ts'

/**
 * The issues that belong to no field of the form (a stale `cursor`, say), as a list for the
 * error box; the others are shown at their fields.
 */
export function otherIssues(issues: readonly FieldIssue[], fields: readonly string[]): string {
  const rest = issues.filter((i) => !fields.includes(i.path))
  return rest.length === 0
    ? ''
    : `<ul>${rest.map((i) => `<li><code>${escapeHtml(i.path)}</code> ${escapeHtml(i.message)}</li>`).join('')}</ul>`
}

/** Builds the labelled fields of one filter form, each with its hint and its issue. */
export function filterFields(
  values: Record<string, string | undefined>,
  issues: readonly FieldIssue[],
) {
  /** One field: its label (and hint), its issue, its control (given the id/name/aria attributes). */
  const field = (key: string, label: string, control: (attrs: string) => string, hint = '') => {
    const issue = issues.find((i) => i.path === key)?.message
    const described = [hint ? `f-${key}-hint` : '', issue ? `f-${key}-error` : '']
      .filter(Boolean)
      .join(' ')
    const attrs = `id="f-${key}" name="${key}"${described ? ` aria-describedby="${described}"` : ''}${issue ? ' aria-invalid="true"' : ''}`
    return `<div class="filter"><label for="f-${key}">${escapeHtml(label)}${hint ? `<span class="hint" id="f-${key}-hint">${escapeHtml(hint)}</span>` : ''}</label>${issue ? `<p class="field-error" id="f-${key}-error">${escapeHtml(`${label} ${issue}`)}</p>` : ''}${control(attrs)}</div>`
  }
  /** A text-like input keeping its value. */
  const text =
    (key: string, type = 'text', extra = '') =>
    (attrs: string) =>
      `<input type="${type}" ${attrs}${extra} value="${escapeHtml(values[key] ?? '')}">`
  /** A select with "Any" first, keeping its choice. */
  const select =
    (key: string, options: readonly string[], labels: Record<string, string>) => (attrs: string) =>
      `<select ${attrs}><option value="">Any</option>${options
        .map(
          (o) =>
            `<option value="${escapeHtml(o)}"${values[key] === o ? ' selected' : ''}>${escapeHtml(labels[o] ?? o)}</option>`,
        )
        .join('')}</select>`
  return { field, text, select }
}

/** The query string of a form's values, in the form's field order. */
export function queryOf(values: Record<string, string | undefined>, fields: readonly string[]) {
  const q = new URLSearchParams()
  for (const key of fields) {
    const v = values[key]
    if (v !== undefined) q.set(key, v)
  }
  return q.toString()
}

/** `query` with `key` set to `value`. */
export const withParam = (query: string, key: string, value: string): string => {
  const q = new URLSearchParams(query)
  q.set(key, value)
  return q.toString()
}

/** The values of `fields` in a request's query: each given once; an empty field is no filter. */
export function readFields<F extends string>(
  query: Record<string, unknown>,
  fields: readonly F[],
): { form: Partial<Record<F, string>>; issues: FieldIssue[] } {
  const form: Partial<Record<F, string>> = {}
  const issues: FieldIssue[] = []
  for (const key of fields) {
    const value = query[key]
    if (value === undefined) continue
    if (typeof value !== 'string') {
      issues.push({ path: key, message: 'must be given once' })
      continue
    }
    if (value.trim() !== '') form[key] = value.trim()
  }
  return { form, issues }
}

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/

/** A `datetime-local` value (no zone) read as UTC; any other text as it is (checked later). */
export const utcOf = (v: string): string => (LOCAL_DATE_TIME.test(v) ? `${v}Z` : v)
