/**
 * @module console/routes/pages/integration-form
 * The integration form the console's Add and Edit pages share: the id (Add only), the settings
 * generated from the type's schema (settings-form.ts), and the type's secrets — each write-only,
 * with its state (set inline, from an environment variable and whether it is set here, not set)
 * and the actions set/replace, from an environment variable, remove. It builds the body the
 * registry's `put` takes (the admin API's PUT body), and shows the registry's issues at their
 * fields; a failed save shows the values again, except secrets.
 */
import type { CatalogueEntry } from '../../../integrations/catalogue.ts'
import type { IntegrationView, SecretView } from '../../../integrations/registry.ts'
import type { IntegrationTypeDefinition } from '../../../integrations/types.ts'
import type { FieldIssue } from '../../../errors/index.ts'
import { escapeHtml } from '../../../web/views.ts'
import {
  fieldId,
  issueKey,
  issueText,
  readSettings,
  renderSettings,
  settingsFields,
  type FieldErrors,
  type PostedForm,
} from './settings-form.ts'

/** What a secret's radio group may ask for. */
type SecretAction = 'keep' | 'value' | 'env' | 'remove'
const ACTIONS: readonly SecretAction[] = ['keep', 'value', 'env', 'remove']

const one = (v: string | string[] | undefined): string =>
  Array.isArray(v) ? (v[0] ?? '') : (v ?? '')

/** The words of a secret: the guide's label and help, else its name and the type's description. */
function secretWords(entry: CatalogueEntry, name: string) {
  const spec = entry.type.secrets[name]!
  const words = entry.guide.fields?.[name]
  return {
    label: words?.label ?? name,
    help: words?.help ? `${words.help} (${spec.description})` : spec.description,
  }
}

/** A secret's state in words (never its value). */
export function secretState(view: SecretView | undefined, canGenerate: boolean): string {
  if (!view) return canGenerate ? 'not set (generated when saved)' : 'not set'
  if (view.source === 'inline') return 'set inline'
  return `from environment variable ${view.env} — ${view.set ? 'set here' : 'not set here'}`
}

/** Whether every required secret of an integration is set where this runs. */
export function secretsReady(type: IntegrationTypeDefinition, view: IntegrationView): boolean {
  return Object.entries(type.secrets).every(([name, spec]) => {
    const s = view.secrets[name]
    return s ? s.set : !spec.required
  })
}

/**
 * Reads the secrets part of a posted form into the registry's `secrets` body: a new value,
 * an environment variable, `null` (remove), or nothing (keep). A typed value or variable name
 * counts even when the "keep" radio was left as it was, so the form works as one would expect
 * without touching the radios.
 * @returns the body's secrets, and issues for an action without its input
 */
export function readSecrets(
  type: IntegrationTypeDefinition,
  form: PostedForm,
  current: IntegrationView | undefined,
): { secrets: Record<string, unknown>; issues: FieldIssue[] } {
  const secrets: Record<string, unknown> = {}
  const issues: FieldIssue[] = []
  for (const name of Object.keys(type.secrets)) {
    const chosen = one(form[`x.${name}.action`]) as SecretAction
    const action: SecretAction = ACTIONS.includes(chosen) ? chosen : 'keep'
    const value = one(form[`x.${name}.value`])
    const env = one(form[`x.${name}.env`]).trim()
    const stored = current?.secrets[name]
    const storedEnv = stored?.source === 'env' ? stored.env : ''
    if (action === 'remove') {
      secrets[name] = null
    } else if (action === 'value' || (action === 'keep' && value !== '')) {
      if (value === '') issues.push({ path: `secrets.${name}`, message: 'enter the new value' })
      else secrets[name] = { value }
    } else if (action === 'env' || (action === 'keep' && env !== '' && env !== storedEnv)) {
      if (env === '')
        issues.push({ path: `secrets.${name}.env`, message: 'enter the environment variable' })
      else secrets[name] = { env }
    }
  }
  return { secrets, issues }
}

/** Issues by the field they are shown at. */
export function fieldErrors(issues: readonly FieldIssue[]): FieldErrors {
  const errors: FieldErrors = new Map()
  for (const issue of issues) {
    const key = issueKey(issue.path)
    const list = errors.get(key) ?? []
    list.push(
      key === 'general'
        ? `${issue.path || '(form)'}: ${issue.message}`
        : issueText(issue.path, issue.message),
    )
    errors.set(key, list)
  }
  return errors
}

function renderSecrets(
  entry: CatalogueEntry,
  current: IntegrationView | undefined,
  form: PostedForm | undefined,
  errors: FieldErrors,
): string {
  const names = Object.keys(entry.type.secrets)
  if (names.length === 0) return ''
  const blocks = names.map((name) => {
    const spec = entry.type.secrets[name]!
    const { label, help } = secretWords(entry, name)
    const view = current?.secrets[name]
    const key = `secret:${name}`
    const base = fieldId(`x.${name}`)
    const messages = errors.get(key) ?? []
    const errorHtml = messages.length
      ? `<p class="field-error" id="${base}-error">${messages.map(escapeHtml).join('<br>')}</p>`
      : ''
    const invalid = messages.length ? ` aria-invalid="true" aria-describedby="${base}-error"` : ''
    const chosen = form ? one(form[`x.${name}.action`]) : 'keep'
    const radio = (action: SecretAction, text: string) =>
      `<p class="choice"><input type="radio" id="${base}-${action}" name="x.${escapeHtml(name)}.action" value="${action}"${chosen === action ? ' checked' : ''}> <label for="${base}-${action}">${escapeHtml(text)}</label></p>`
    const envValue = form ? one(form[`x.${name}.env`]) : view?.source === 'env' ? view.env : ''
    return `<fieldset class="secret" id="${base}"><legend>${escapeHtml(label)}${spec.required ? ' <small>(required)</small>' : ''}</legend>
<span class="hint">${escapeHtml(help)}</span>
<p>State: <strong data-secret-state="${escapeHtml(name)}">${escapeHtml(secretState(view, spec.generate !== undefined))}</strong></p>
${errorHtml}
${radio('keep', view ? 'Keep as it is' : 'Leave unset')}
${radio('value', view ? 'Replace with a new value' : 'Set a value')}
<label for="${base}-value-input">New value</label>
<input type="password" id="${base}-value-input" name="x.${escapeHtml(name)}.value" value="" autocomplete="new-password" spellcheck="false"${invalid}>
${radio('env', 'From an environment variable of the server')}
<label for="${base}-env-input">Environment variable name</label>
<input type="text" id="${base}-env-input" name="x.${escapeHtml(name)}.env" value="${escapeHtml(envValue)}" spellcheck="false" autocomplete="off">
${view ? radio('remove', 'Remove it') : ''}
</fieldset>`
  })
  return `<h2>Secrets</h2><p class="hint">Write-only: a value is never shown again once saved.</p>${blocks.join('\n')}`
}

/** What {@link renderIntegrationForm} shows. */
export interface IntegrationFormOptions {
  entry: CatalogueEntry
  action: string
  csrf: string
  /** The stored integration (Edit); undefined on Add. */
  current?: IntegrationView
  /** The id field's value (Add). */
  id?: string
  /** Settings to show: stored, preset or as just posted. */
  settings: Record<string, unknown>
  /** The form as just posted (a failed save), to keep the radios and variable names. */
  form?: PostedForm
  issues?: readonly FieldIssue[]
  /** The wire code of the failed save's summary (default `validation_failed`). */
  code?: string
  /** Hidden fields the POST needs (the catalogue entry on Add). */
  hidden?: Record<string, string>
  submit: string
}

/** The whole form: id (Add), settings, secrets, an error summary when a save failed. */
export function renderIntegrationForm(o: IntegrationFormOptions): string {
  const errors = fieldErrors(o.issues ?? [])
  const fields = settingsFields(o.entry.type.settings, o.entry.guide)
  const summary =
    o.issues && o.issues.length > 0
      ? `<div class="error" role="alert" data-code="${escapeHtml(o.code ?? 'validation_failed')}"><p>Not saved: ${o.issues.length} field${o.issues.length === 1 ? '' : 's'} to fix, shown at each field. Nothing was changed.</p>${
          errors.has('general')
            ? `<ul>${errors
                .get('general')!
                .map((m) => `<li>${escapeHtml(m)}</li>`)
                .join('')}</ul>`
            : ''
        }<p><small>${escapeHtml(o.code ?? 'validation_failed')}</small></p></div>`
      : ''
  const idErrors = errors.get('id') ?? []
  const idField =
    o.current === undefined
      ? `<div class="field"><label for="f-id">Integration id</label><span class="hint" id="f-id-hint">a-z, 0-9, "-" and "_"; it becomes the client ID / the path of its URLs, and cannot be changed later</span>${
          idErrors.length
            ? `<p class="field-error" id="f-id-error">${idErrors.map(escapeHtml).join('<br>')}</p>`
            : ''
        }<input type="text" id="f-id" name="id" value="${escapeHtml(o.id ?? '')}" required spellcheck="false" autocomplete="off" aria-describedby="f-id-hint${idErrors.length ? ' f-id-error' : ''}"${idErrors.length ? ' aria-invalid="true"' : ''}></div>`
      : ''
  return `${summary}<form method="post" action="${escapeHtml(o.action)}" class="card integration-form" novalidate>
<input type="hidden" name="csrf" value="${escapeHtml(o.csrf)}">
${Object.entries(o.hidden ?? {})
  .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
  .join('')}
${idField}
<h2>Settings</h2>
${renderSettings(fields, o.settings, errors, o.current === undefined)}
${renderSecrets(o.entry, o.current, o.form, errors)}
<div class="actions"><button type="submit" class="primary">${escapeHtml(o.submit)}</button></div>
</form>`
}

/** The settings a posted form carries, read by the type's fields. */
export function postedSettings(entry: CatalogueEntry, form: PostedForm): Record<string, unknown> {
  return readSettings(settingsFields(entry.type.settings, entry.guide), form)
}
