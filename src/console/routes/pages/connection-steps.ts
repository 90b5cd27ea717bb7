/**
 * @module console/routes/pages/connection-steps
 * The connection sheet (connection/sheet.ts) as numbered steps in a platform's words: where to go
 * in the platform (the guide's `connection.start`), then each value the platform's form asks for,
 * in its order and under its name, in a read-only field with a copy button; then what to copy
 * from the platform into sso-bridge; then every other value of the sheet; then its notes.
 */
import type { TypeGuide } from '../../../integrations/types.ts'
import { escapeHtml } from '../../../web/views.ts'
import { consolePath } from '../../paths.ts'

/** The sheet's scalar values by dotted path (arrays by index), in the sheet's order. */
export function flattenSheet(
  value: unknown,
  path: string[] = [],
  out = new Map<string, string>(),
): Map<string, string> {
  if (Array.isArray(value)) value.forEach((v, i) => flattenSheet(v, [...path, String(i)], out))
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) flattenSheet(v, [...path, k], out)
  else if (value !== null && value !== undefined) out.set(path.join('.'), String(value))
  return out
}

/** Sheet paths not repeated under "every other value": the header, and what steps already say. */
const HEADER =
  /^(id|type|platform|notes\.\d+|copy_from_platform\..*|paste_into_platform\.\d+\.setting)$/

/** A read-only value with its copy button; multi-line values (certificates) in a textarea. */
function copyable(label: string, value: string, id: string): string {
  const field = value.includes('\n')
    ? `<textarea id="${id}" readonly rows="6" spellcheck="false" aria-label="${escapeHtml(label)}">${escapeHtml(value)}</textarea>`
    : `<input type="text" id="${id}" readonly value="${escapeHtml(value)}" spellcheck="false" aria-label="${escapeHtml(label)}">`
  return `<span class="copyable">${field}<button type="button" class="copy" data-copy="#${id}" hidden>Copy<span class="visually-hidden"> ${escapeHtml(label)}</span></button></span>`
}

/** What {@link connectionSteps} renders. */
export interface StepsInput {
  integrationId: string
  sheet: Record<string, unknown>
  guide: TypeGuide
  /** Secrets generated just now (shown once), by name. */
  shown: Record<string, string> | null
}

/** The steps as an ordered list, then the other values as a table. */
export function connectionSteps({ integrationId, sheet, guide, shown }: StepsInput): string {
  let counter = 0
  const values = flattenSheet(sheet)
  const used = new Set<string>()
  const steps: string[] = []
  const nextId = () => `v-${++counter}`
  steps.push(
    escapeHtml(
      guide.connection?.start ??
        `In ${guide.platform === 'Generic' ? "the platform's" : `${guide.platform}'s`} settings, enter the values below.`,
    ),
  )
  for (const [path, label] of Object.entries(guide.connection?.labels ?? {})) {
    const value = values.get(path)
    if (value === undefined) continue
    used.add(path)
    const secretName = path === 'client_secret' ? 'client_secret' : undefined
    if (secretName && shown?.[secretName] !== undefined) {
      steps.push(
        `${escapeHtml(label)}: ${copyable(label, shown[secretName], 'shown-secret')}<p class="notice" role="status"><strong>Copy it now:</strong> it is shown this once and never again (regenerate it if it is lost).</p>`,
      )
      continue
    }
    steps.push(
      secretName
        ? `${escapeHtml(label)}: <span data-secret-state="${secretName}">${escapeHtml(value)}</span>`
        : `${escapeHtml(label)}: ${copyable(label, value, nextId())}`,
    )
  }
  // Token sheets: what goes into the platform, and what comes from it into our secrets.
  const paste = Array.isArray(sheet.paste_into_platform)
    ? (sheet.paste_into_platform as { setting: string; value: string }[])
    : []
  paste.forEach((p, i) => {
    const path = `paste_into_platform.${i}.value`
    if (used.has(path)) return
    used.add(path)
    steps.push(`${escapeHtml(p.setting)}: ${copyable(p.setting, p.value, nextId())}`)
  })
  const copy = Array.isArray(sheet.copy_from_platform)
    ? (sheet.copy_from_platform as { setting: string; into: string; set: boolean }[])
    : []
  for (const c of copy)
    steps.push(
      `Copy <em>${escapeHtml(c.setting)}</em> into this integration's secret <code>${escapeHtml(c.into.replace(/^secrets\./, ''))}</code> (<a href="${escapeHtml(consolePath('integration', { id: integrationId }))}">Edit</a>): ${c.set ? '<span class="badge ok">set</span>' : '<span class="badge bad">not set</span>'}`,
    )
  const notes = Array.isArray(sheet.notes) ? (sheet.notes as unknown[]).map(String) : []
  for (const n of notes) steps.push(escapeHtml(n))

  const others = [...values].filter(([path]) => !used.has(path) && !HEADER.test(path))
  const table = others.length
    ? `<h2>Every other value</h2><div class="table-wrap" tabindex="0" role="region" aria-label="Every other value"><table><thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead><tbody>${others
        .map(([path, value]) => {
          return `<tr><th scope="row"><code>${escapeHtml(path)}</code></th><td>${path === 'client_secret' ? escapeHtml(value) : copyable(path, value, nextId())}</td></tr>`
        })
        .join('')}</tbody></table></div>`
    : ''
  return `<ol class="steps">${steps.map((s) => `<li>${s}</li>`).join('\n')}</ol>${table}`
}
