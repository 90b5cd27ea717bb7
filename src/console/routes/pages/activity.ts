/**
 * @module console/routes/pages/activity
 * `GET /console/activity`: every sign-in, hand-off, ticket, token issued, SAML response, logout
 * and refusal (the events table, issue #14), newest first, through the same checked query as
 * `GET /api/v1/events` (`services.events.list`): filters in a GET form that works without
 * script (integration, member, door, kind, result code, time range), the cursor for older pages,
 * and `GET /console/activity.csv` with the same filters, written page by page as it is read.
 *
 * The console's filters are friendlier than the API's, then handed to the same checks: a member
 * may be named by username or email as well as external id, a result by its wire name
 * (`token_invalid`) as well as its `ERR_*` code, and a time from a `datetime-local` field
 * (no zone) is read as UTC. A bad filter answers 400 with the form and the message at the field.
 */
import { Router, type Request, type Response } from 'express'
import {
  BRIDGE_ERROR_CODES,
  hasCode,
  replyFor,
  ValidationFailed,
  type FieldIssue,
} from '../../../errors/index.ts'
import { EVENT_DOORS, EVENT_KINDS, type EventFilters } from '../../../events/index.ts'
import { lazyImport } from '../../../lazy.ts'
import type { Services } from '../../../services.ts'
import type { EventRecord } from '../../../store/ports.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { CONSOLE_ROUTES } from '../../paths.ts'
import { sendPage, type ConsolePage } from '../page.ts'
import {
  DOOR_LABELS,
  EVENT_TABLE_HEAD,
  eventRows,
  KIND_LABELS,
  memberNames,
} from './event-table.ts'
import { filterFields, otherIssues, queryOf, readFields, utcOf, withParam } from './filters.ts'

// csv-stringify is loaded by the first export only (lazy.ts: what a server never uses costs it nothing).
const csv = lazyImport(() => import('csv-stringify/sync'))

/** Events per page on screen. */
const PAGE_SIZE = '50'
/** Events per page read for the CSV export (the listing's largest page). */
const CSV_PAGE_SIZE = '500'

/** The form's fields, in order; each is a query parameter of the page and of the CSV. */
const FIELDS = ['integration', 'member', 'door', 'kind', 'result', 'since', 'until'] as const
type Field = (typeof FIELDS)[number]
type FormValues = Partial<Record<Field, string>>

/** The CSV's columns (the event's fields and the member's username, for reading it alone). */
const CSV_COLUMNS = [
  'at',
  'door',
  'kind',
  'result',
  'integration_id',
  'member_id',
  'member_username',
  'request_id',
  'id',
] as const

/** The activity page and its CSV export. */
export const activityPage: ConsolePage = {
  nav: { label: 'Activity', path: CONSOLE_ROUTES.activity, order: 30 },
  routes({ site, services }) {
    const router = Router()

    /** A 400 page: the form again, each bad filter's message at its field; nothing listed. */
    async function refuseFilters(req: Request, res: Response, err: ValidationFailed) {
      const { error, status } = replyFor(err.code)
      sendPage(req, res, site, {
        title: 'Activity',
        status,
        body: raw(
          `<div class="error" role="alert" data-code="${error}"><p>These filters cannot be used; see the fields marked below.</p>${otherIssues(err.issues, FIELDS)}<p><small>${error}</small></p></div>\n${filterForm(readForm(req).form, await integrationIds(services), err.issues)}`,
        ),
      })
    }

    router.get(CONSOLE_ROUTES.activity, noStore, async (req, res) => {
      const { form, issues } = readForm(req)
      const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined
      try {
        if (issues.length > 0) throw new ValidationFailed(issues)
        const filters = await toFilters(services, form)
        const page = await services.events.list({
          ...filters,
          limit: PAGE_SIZE,
          ...(cursor !== undefined ? { cursor } : {}),
        })
        const names = await memberNames(services.accounts, page.items)
        const query = queryOf(form, FIELDS)
        const body = [
          filterForm(form, await integrationIds(services), []),
          page.items.length === 0
            ? '<p id="no-events">No events match these filters.</p>'
            : `<div class="table-wrap" tabindex="0" role="region" aria-label="Events, newest first"><table id="events"><thead>${EVENT_TABLE_HEAD}</thead><tbody>${eventRows(page.items, names)}</tbody></table></div>`,
          `<nav class="actions" aria-label="Pages">${cursor !== undefined ? `<a class="button secondary" href="${escapeHtml(`${CONSOLE_ROUTES.activity}${query ? `?${query}` : ''}`)}">Newest</a>` : ''}${page.next ? `<a class="button secondary" rel="next" href="${escapeHtml(`${CONSOLE_ROUTES.activity}?${withParam(query, 'cursor', page.next)}`)}">Older events</a>` : ''}</nav>`,
        ].join('\n')
        sendPage(req, res, site, { title: 'Activity', body: raw(body) })
      } catch (err) {
        if (!(err instanceof ValidationFailed)) throw err
        await refuseFilters(req, res, err)
      }
    })

    router.get(CONSOLE_ROUTES.activityCsv, noStore, async (req, res) => {
      const { form, issues } = readForm(req)
      let filters: EventFilters
      let first
      try {
        if (issues.length > 0) throw new ValidationFailed(issues)
        filters = await toFilters(services, form)
        // The first page before any byte is sent: a bad filter is still a clear 400 page.
        first = await services.events.list({ ...filters, limit: CSV_PAGE_SIZE })
      } catch (err) {
        if (!(err instanceof ValidationFailed)) throw err
        await refuseFilters(req, res, err)
        return
      }
      await streamCsv(res, services, filters, first)
    })

    return router
  },
}

/**
 * Writes the CSV page by page: RFC 4180 (every field quoted, CRLF), and a cell that a
 * spreadsheet would run as a formula (starting with = + - @ tab or CR) prefixed with `'`
 * (csv-stringify's `escape_formulas`): usernames and refused requests' ids come from outside.
 */
async function streamCsv(
  res: Response,
  services: Services,
  filters: EventFilters,
  first: { items: EventRecord[]; next: string | null },
): Promise<void> {
  const { stringify } = await csv()
  const options = { quoted: true, escape_formulas: true, record_delimiter: 'windows' } as const
  let gone = false
  res.on('close', () => {
    gone = true
  })
  res
    .status(200)
    .type('text/csv; charset=utf-8')
    .attachment(`activity-${new Date().toISOString().slice(0, 10)}.csv`)
  res.write(stringify([[...CSV_COLUMNS]], options))
  let page = first
  for (;;) {
    const names = await memberNames(services.accounts, page.items)
    const rows = page.items.map((e) => [
      e.at,
      e.door,
      e.kind,
      e.result,
      e.integration_id ?? '',
      e.member_id ?? '',
      e.member_id ? (names[e.member_id] ?? '') : '',
      e.request_id ?? '',
      e.id,
    ])
    if (rows.length > 0 && !res.write(stringify(rows, options)))
      await new Promise((resolve) => res.once('drain', resolve))
    if (!page.next || gone) break
    page = await services.events.list({ ...filters, limit: CSV_PAGE_SIZE, cursor: page.next })
  }
  res.end()
}

/** The form's values from the query: each given once; an empty field is no filter. */
const readForm = (req: Request) => readFields(req.query, FIELDS)

/** The codes each wire name stands for (a few wire names are shared by several codes). */
const WIRE_TO_CODES = new Map<string, string[]>()
for (const code of BRIDGE_ERROR_CODES) {
  const wire = replyFor(code).error
  WIRE_TO_CODES.set(wire, [...(WIRE_TO_CODES.get(wire) ?? []), code])
}

/** The console's friendlier filters, turned into the event log's (which then checks them). */
async function toFilters(services: Services, form: FormValues): Promise<EventFilters> {
  const filters: EventFilters = {}
  if (form.integration !== undefined) filters.integration = form.integration
  if (form.door !== undefined) filters.door = form.door
  if (form.kind !== undefined) filters.kind = form.kind
  if (form.result !== undefined) {
    // A wire name that stands for one code is that code; one shared by several must be spelled
    // as the code meant (the events record the `ERR_*` code, not the wire name).
    const codes = WIRE_TO_CODES.get(form.result) ?? []
    if (codes.length > 1)
      throw new ValidationFailed([
        { path: 'result', message: `stands for several codes (${codes.join(', ')}): name one` },
      ])
    filters.result = codes[0] ?? form.result
  }
  for (const key of ['since', 'until'] as const) {
    const v = form[key]
    if (v !== undefined) filters[key] = utcOf(v)
  }
  if (form.member !== undefined) filters.member = await memberId(services, form.member)
  return filters
}

/**
 * The external id a member filter names: an external id as it is, else the account whose
 * username or email it is (the sign-in rules), else the text itself (a deleted member's id).
 */
async function memberId(services: Services, text: string): Promise<string> {
  try {
    return (await services.accounts.get(text)).external_id
  } catch (err) {
    if (!hasCode(err, 'ERR_ACCOUNT_NOT_FOUND')) throw err
  }
  const { accountId } = await services.accounts.resolveSignIn(text)
  const account = accountId ? await services.accounts.getById(accountId) : null
  return account?.external_id ?? text
}

async function integrationIds(services: Services): Promise<string[]> {
  return (await services.integrations.list()).map((i) => i.id)
}

/** The GET form of filters, each issue shown at its field. */
function filterForm(form: FormValues, integrations: string[], issues: readonly FieldIssue[]) {
  const { field, text, select } = filterFields(form, issues)
  const query = queryOf(form, FIELDS)
  return `<form method="get" action="${CONSOLE_ROUTES.activity}" class="filters card" aria-label="Filter the activity">
${field('integration', 'Integration', (a) => `<input type="text" ${a} list="integration-ids" value="${escapeHtml(form.integration ?? '')}"><datalist id="integration-ids">${integrations.map((i) => `<option value="${escapeHtml(i)}"></option>`).join('')}</datalist>`)}
${field('member', 'Member', text('member'), 'Username, email or external id')}
${field('door', 'Door', select('door', EVENT_DOORS, DOOR_LABELS))}
${field('kind', 'What', select('kind', EVENT_KINDS, KIND_LABELS))}
${field('result', 'Result', text('result'), 'ok, or a code: ERR_OIDC_INVALID_GRANT, or its short name invalid_grant')}
${field('since', 'From (UTC)', text('since', 'datetime-local'))}
${field('until', 'Until (UTC)', text('until', 'datetime-local'))}
<div class="actions"><button type="submit" class="primary">Filter</button><a class="button secondary" href="${CONSOLE_ROUTES.activity}">Clear</a><a class="button secondary" id="csv" href="${escapeHtml(`${CONSOLE_ROUTES.activityCsv}${query ? `?${query}` : ''}`)}" download>Download CSV</a></div>
</form>`
}
