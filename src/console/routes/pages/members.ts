/**
 * @module console/routes/pages/members
 * `GET /console/members`: find a member by username, email or external id (a prefix of each,
 * through the account service's search: a range scan of each unique index), or list every member
 * in creation order; a page at a time, by cursor. Each result links to its member page.
 */
import { Router, type Request } from 'express'
import { SEARCH_BY } from '../../../accounts/service.ts'
import type { Account } from '../../../accounts/types.ts'
import { BridgeError, ValidationFailed } from '../../../errors/index.ts'
import type { Page } from '../../../store/ports.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { consolePath, CONSOLE_ROUTES } from '../../paths.ts'
import { sendPage, type ConsolePage } from '../page.ts'
import { noticeHtml } from './notices.ts'

/** Members per page. */
const PAGE_SIZE = 50

const BY_LABELS: Record<(typeof SEARCH_BY)[number], string> = {
  any: 'Username, email or external id',
  username: 'Username',
  email: 'Email',
  external_id: 'External id',
}

/** A query parameter given once, or undefined; twice is a validation error naming it. */
function param(req: Request, name: string): string | undefined {
  const v = req.query[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new ValidationFailed([{ path: name, message: 'give it once' }])
  return v
}

/** The members page: the search form and the results. */
export const membersPage: ConsolePage = {
  nav: { label: 'Members', path: CONSOLE_ROUTES.members, order: 20 },
  routes({ services, site }) {
    const router = Router()
    router.get(CONSOLE_ROUTES.members, noStore, async (req, res) => {
      const q = (param(req, 'q') ?? '').trim()
      const by = param(req, 'by') ?? 'any'
      const cursor = param(req, 'cursor') ?? null
      let page: Page<Account> | null = null
      let error = ''
      try {
        page = q
          ? await services.accounts.search({ query: q, by, cursor, limit: PAGE_SIZE })
          : await services.accounts.list({ cursor, limit: PAGE_SIZE })
        // A list cursor that is not ours reads as the end (store/ids.ts); say so instead.
        if (!q && cursor && page.items.length === 0) throw cursorError()
      } catch (err) {
        if (!(err instanceof ValidationFailed)) throw err
        error = err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')
      }
      const body = `${noticeHtml(req)}
<form class="card" method="get" action="${CONSOLE_ROUTES.members}" role="search">
  <label for="q">Find a member<span class="hint">The start of a username, an email or the site's external id (case does not matter for usernames and emails).</span></label>
  <input type="search" id="q" name="q" value="${escapeHtml(q)}" maxlength="254" autocomplete="off"${error ? ' aria-invalid="true" aria-describedby="q-error"' : ''}>
  ${error ? `<p class="field-error" id="q-error" data-code="validation_failed">${escapeHtml(error)}</p>` : ''}
  <label for="by">Match on</label>
  <select id="by" name="by">${SEARCH_BY.map((b) => `<option value="${b}"${b === by ? ' selected' : ''}>${escapeHtml(BY_LABELS[b])}</option>`).join('')}</select>
  <div class="actions"><button type="submit" class="primary">Search</button>${q ? `<a class="button secondary" href="${CONSOLE_ROUTES.members}">Show all</a>` : ''}</div>
</form>
${page ? results(page, q, by) : ''}`
      sendPage(req, res, site, {
        title: 'Members',
        body: raw(body),
        status: error ? 400 : 200,
      })
    })
    return router
  },
}

function cursorError(): BridgeError {
  return new ValidationFailed([{ path: 'cursor', message: 'is not a cursor this server gave' }])
}

/** The results table and the link to the next page. */
function results(page: Page<Account>, q: string, by: string): string {
  const caption = q ? `Members matching “${escapeHtml(q)}”` : 'All members, oldest first'
  if (page.items.length === 0)
    return `<p id="results">${q ? `No member matches “${escapeHtml(q)}”.` : 'No members yet.'}</p>`
  const rows = page.items
    .map(
      (a, i) => `<tr>
  <th scope="row"><a href="${escapeHtml(consolePath('member', { id: a.external_id }))}"${i === 0 ? ' data-detail' : ''}>${escapeHtml(a.username ?? '(no username)')}</a></th>
  <td>${escapeHtml(a.email ?? '')}</td>
  <td><code>${escapeHtml(a.external_id)}</code></td>
  <td>${a.status === 'active' ? '<span class="badge ok">active</span>' : '<span class="badge bad">disabled</span>'}</td>
  <td>${escapeHtml(a.rank)}</td>
</tr>`,
    )
    .join('')
  const next = page.next
    ? `<p><a class="button secondary" rel="next" href="${escapeHtml(`${CONSOLE_ROUTES.members}?${new URLSearchParams({ ...(q ? { q, by } : {}), cursor: page.next }).toString()}`)}">Next page</a></p>`
    : ''
  return `<div class="table-wrap" tabindex="0" role="region" aria-label="${caption}" id="results">
<table>
<caption class="muted">${caption}</caption>
<thead><tr><th scope="col">Username</th><th scope="col">Email</th><th scope="col">External id</th><th scope="col">Status</th><th scope="col">Rank</th></tr></thead>
<tbody>${rows}</tbody>
</table>
</div>
${next}`
}
