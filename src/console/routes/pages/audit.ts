/**
 * @module console/routes/pages/audit
 * `GET /console/audit`: every audit log in one list, newest first (`services.audit`,
 * audit/trail.ts): the conflict resolutions, every configuration change with its actor
 * (`admin-api`, `cli`, `operator:<name>`) and what it changed (names, never values), and the
 * operators' sign-ins, sign-outs and changes. Filters in a GET form (log, actor, action,
 * target, time range), older pages by the cursor; a bad filter answers 400 with the form and
 * the message at its field.
 */
import { Router, type Request, type Response } from 'express'
import type { AuditTrailFilters } from '../../../audit/trail.ts'
import { replyFor, ValidationFailed, type FieldIssue } from '../../../errors/index.ts'
import { AUDIT_SOURCES } from '../../../store/audit-trail.ts'
import type { AuditTrailEntry } from '../../../store/ports.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { CONSOLE_ROUTES, consolePath } from '../../paths.ts'
import { sendPage, type ConsolePage } from '../page.ts'
import { filterFields, otherIssues, queryOf, readFields, utcOf, withParam } from './filters.ts'

/** Entries per page. */
const PAGE_SIZE = '50'

const FIELDS = ['source', 'actor', 'action', 'target', 'since', 'until'] as const
type FormValues = Partial<Record<(typeof FIELDS)[number], string>>

/** What each log is called on the page. */
const SOURCE_LABELS: Record<string, string> = {
  conflict: 'Conflict resolutions',
  config: 'Configuration changes',
  operator: 'Operators',
}

/** The audit page. */
export const auditPage: ConsolePage = {
  nav: { label: 'Audit', path: CONSOLE_ROUTES.audit, order: 40 },
  routes({ site, services }) {
    const router = Router()

    async function refuse(req: Request, res: Response, form: FormValues, err: ValidationFailed) {
      const { error, status } = replyFor(err.code)
      sendPage(req, res, site, {
        title: 'Audit',
        status,
        body: raw(
          `<div class="error" role="alert" data-code="${error}"><p>These filters cannot be used; see the fields marked below.</p>${otherIssues(err.issues, FIELDS)}<p><small>${error}</small></p></div>\n${filterForm(form, err.issues)}`,
        ),
      })
    }

    router.get(CONSOLE_ROUTES.audit, noStore, async (req, res) => {
      const { form, issues } = readFields(req.query, FIELDS)
      const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined
      const filters: AuditTrailFilters = {
        ...form,
        ...(form.since !== undefined ? { since: utcOf(form.since) } : {}),
        ...(form.until !== undefined ? { until: utcOf(form.until) } : {}),
        limit: PAGE_SIZE,
        ...(cursor !== undefined ? { cursor } : {}),
      }
      let page
      try {
        if (issues.length > 0) throw new ValidationFailed(issues)
        page = await services.audit.list(filters)
      } catch (err) {
        if (!(err instanceof ValidationFailed)) throw err
        return refuse(req, res, form, err)
      }
      const query = queryOf(form, FIELDS)
      const body = [
        filterForm(form, []),
        page.items.length === 0
          ? '<p id="no-entries">No audit entries match these filters.</p>'
          : `<div class="table-wrap" tabindex="0" role="region" aria-label="Audit entries, newest first"><table id="audit"><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Log</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Concerning</th><th scope="col">Details</th></tr></thead><tbody>${page.items.map(row).join('')}</tbody></table></div>`,
        `<nav class="actions" aria-label="Pages">${cursor !== undefined ? `<a class="button secondary" href="${escapeHtml(`${CONSOLE_ROUTES.audit}${query ? `?${query}` : ''}`)}">Newest</a>` : ''}${page.next ? `<a class="button secondary" rel="next" href="${escapeHtml(`${CONSOLE_ROUTES.audit}?${withParam(query, 'cursor', page.next)}`)}">Older entries</a>` : ''}</nav>`,
      ].join('\n')
      sendPage(req, res, site, { title: 'Audit', body: raw(body) })
    })
    return router
  },
}

/** A target, linked to its console page where it has one. */
function targetCell(target: string): string {
  const colon = target.indexOf(':')
  const [kind, id] = colon < 0 ? [target, ''] : [target.slice(0, colon), target.slice(colon + 1)]
  const href =
    kind === 'integration' && id
      ? consolePath('integration', { id })
      : kind === 'account' && id
        ? consolePath('member', { id })
        : null
  const text = `<code>${escapeHtml(target)}</code>`
  return href ? `<a href="${escapeHtml(href)}">${text}</a>` : text
}

/** An entry's detail as a definition list (names and values as recorded: never a secret). */
function detailCell(detail: Record<string, unknown> | null): string {
  if (!detail) return '<span class="muted">—</span>'
  const value = (v: unknown): string =>
    v === null || v === undefined
      ? '—'
      : Array.isArray(v)
        ? v.map((x) => String(x)).join(', ')
        : typeof v === 'object'
          ? Object.entries(v as Record<string, unknown>)
              .map(([k, x]) => `${k}: ${String(x)}`)
              .join(', ')
          : String(v)
  return `<dl class="detail">${Object.entries(detail)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(value(v))}</dd>`)
    .join('')}</dl>`
}

function row(e: AuditTrailEntry): string {
  return `<tr data-entry="${escapeHtml(e.id)}" data-source="${escapeHtml(e.source)}"><td><time datetime="${escapeHtml(e.at)}">${escapeHtml(e.at.slice(0, 19).replace('T', ' '))}</time></td><td>${escapeHtml(SOURCE_LABELS[e.source] ?? e.source)}</td><td class="actor"><code>${escapeHtml(e.actor)}</code></td><td><code>${escapeHtml(e.action)}</code></td><td>${targetCell(e.target)}</td><td>${detailCell(e.detail)}</td></tr>`
}

/** The GET form of filters, each issue shown at its field. */
function filterForm(form: FormValues, issues: readonly FieldIssue[]): string {
  const { field, text, select } = filterFields(form, issues)
  return `<form method="get" action="${CONSOLE_ROUTES.audit}" class="filters card" aria-label="Filter the audit log">
${field('source', 'Log', select('source', AUDIT_SOURCES, SOURCE_LABELS))}
${field('actor', 'Actor', text('actor'), 'admin-api, cli, operator:<name>, import')}
${field('action', 'Action', text('action'), 'e.g. integration_updated, console_sign_in, conflict_resolved')}
${field('target', 'Concerning', text('target'), 'integration:<id>, account:<external id>, operator:<name>')}
${field('since', 'From (UTC)', text('since', 'datetime-local'))}
${field('until', 'Until (UTC)', text('until', 'datetime-local'))}
<div class="actions"><button type="submit" class="primary">Filter</button><a class="button secondary" href="${CONSOLE_ROUTES.audit}">Clear</a></div>
</form>`
}
