/**
 * @module console/routes/pages/document-view
 * A JSON document as the Test page and the mapping editor show it: the document itself (with a
 * copy button) and its key-path table — `names.nicknames.0` beside its value, the names a
 * platform's "user key" fields take (mapping/inspect.ts, the same list as
 * POST /api/v1/integrations/{id}/preview).
 */
import type { JsonValue } from '../../../accounts/types.ts'
import { listPaths } from '../../../mapping/index.ts'
import { escapeHtml } from '../../../web/views.ts'

/** `<pre>` of `doc` (pretty JSON) with a copy button; `id` names the element for the button. */
export function jsonBlock(id: string, doc: unknown, label: string): string {
  return `<pre id="${escapeHtml(id)}" tabindex="0" aria-label="${escapeHtml(label)}">${escapeHtml(JSON.stringify(doc, null, 2))}</pre>
<button type="button" class="copy" data-copy="#${escapeHtml(id)}" hidden>Copy</button>`
}

/** The key-path table of `doc`: one row per leaf, `path` and its value as JSON. */
export function pathTable(doc: unknown, label: string): string {
  const rows = listPaths(doc)
    .map(
      (p) =>
        `<tr><th scope="row"><code>${escapeHtml(p.path)}</code></th><td><code>${escapeHtml(JSON.stringify(p.value as JsonValue))}</code></td></tr>`,
    )
    .join('')
  return `<div class="table-wrap" tabindex="0" role="region" aria-label="${escapeHtml(label)}">
<table data-paths><thead><tr><th scope="col">Key path</th><th scope="col">Value</th></tr></thead>
<tbody>${rows || '<tr><td colspan="2">(empty)</td></tr>'}</tbody></table></div>`
}

/** A refusal inside a page section: its wire code, the text, and the field it concerns. */
export function errorBox(code: string, text: string, field?: string): string {
  return `<div class="error" role="alert" data-code="${escapeHtml(code)}"><p>${escapeHtml(text)}${field ? ` <code>${escapeHtml(field)}</code>` : ''}</p><p><small>${escapeHtml(code)}</small></p></div>`
}
