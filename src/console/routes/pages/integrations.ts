/**
 * @module console/routes/pages/integrations
 * `GET /console/integrations`: every integration with its platform, door, whether its secrets are
 * all set where this runs, and links to its Connection, Test, Mapping and Edit pages.
 */
import { Router } from 'express'
import { entryOf } from '../../../integrations/catalogue.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { CONSOLE_ROUTES, consolePath } from '../../paths.ts'
import { sendPage, type ConsolePage } from '../page.ts'
import { doorOf, noticeOf } from './integration-common.ts'
import { secretsReady } from './integration-form.ts'

/** The integrations list. */
export const integrationsPage: ConsolePage = {
  nav: { label: 'Integrations', path: CONSOLE_ROUTES.integrations, order: 10 },
  routes({ services, site }) {
    const router = Router()
    router.get(CONSOLE_ROUTES.integrations, noStore, async (req, res) => {
      const types = new Map(services.integrations.types().map((t) => [t.type, t]))
      const items = await services.integrations.list()
      const rows = items.map((view, i) => {
        const type = types.get(view.type)
        const entry = type ? entryOf(type, view.settings) : undefined
        const ready = type ? secretsReady(type, view) : false
        const link = (route: Parameters<typeof consolePath>[0], text: string, detail = false) =>
          `<a href="${escapeHtml(consolePath(route, { id: view.id }))}"${detail ? ' data-detail' : ''}>${escapeHtml(text)}<span class="visually-hidden"> ${escapeHtml(view.id)}</span></a>`
        return `<tr>
<th scope="row"><a href="${escapeHtml(consolePath('integration', { id: view.id }))}"${i === 0 ? ' data-detail' : ''}>${escapeHtml(view.id)}</a></th>
<td>${escapeHtml(entry?.guide.title ?? view.type)}<br><small>${escapeHtml(entry?.guide.platform ?? '')} · <code>${escapeHtml(view.type)}</code></small></td>
<td>${escapeHtml(doorOf(view.type))}</td>
<td>${ready ? '<span class="badge ok">secrets set</span>' : '<span class="badge bad">secret missing</span>'}</td>
<td><ul class="links">
<li>${link('integrationConnection', 'Connection')}</li>
<li>${link('integrationTest', 'Test')}</li>
<li>${link('integrationMapping', 'Mapping')}</li>
<li>${link('integration', 'Edit')}</li>
</ul></td>
</tr>`
      })
      const table =
        items.length === 0
          ? '<p>No integration yet.</p>'
          : `<div class="table-wrap" tabindex="0" role="region" aria-label="Integrations"><table>
<thead><tr><th scope="col">Id</th><th scope="col">Platform</th><th scope="col">Door</th><th scope="col">Secrets</th><th scope="col">Pages</th></tr></thead>
<tbody>${rows.join('')}</tbody></table></div>`
      sendPage(req, res, site, {
        title: 'Integrations',
        body: raw(
          `${noticeOf(req)}<p class="actions"><a class="button primary" href="${CONSOLE_ROUTES.integrationNew}">Add an integration</a></p>${table}`,
        ),
      })
    })
    return router
  },
}
