/**
 * @module console/routes/pages/integration-new
 * `GET /console/integrations/new`: the platform catalogue (every registered type with a guide and
 * every preset, grouped by platform: integrations/catalogue.ts); `?entry=<key>`: that entry's form.
 * `POST`: adds the integration through the registry, as the admin API's PUT does (same
 * validation), refusing an id in use; audited with the operator as actor. Then the Connection
 * page, which shows a generated client secret once.
 */
import { Router, type Request, type Response } from 'express'
import {
  catalogueEntry,
  catalogueGroups,
  type CatalogueEntry,
} from '../../../integrations/catalogue.ts'
import { BridgeError, hasCode, ValidationFailed, type FieldIssue } from '../../../errors/index.ts'
import { zodIssues } from '../../../errors/zod.ts'
import { integrationId } from '../../../integrations/schemas.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { CONSOLE_ROUTES, consolePath } from '../../paths.ts'
import { keepForOneView } from '../../shown-once.ts'
import { consoleLocals, sendPage, type ConsolePage, type ConsolePageDeps } from '../page.ts'
import { integrationForm } from './integration-common.ts'
import { postedSettings, readSecrets, renderIntegrationForm } from './integration-form.ts'
import type { PostedForm } from './settings-form.ts'

function catalogue(deps: ConsolePageDeps): string {
  const groups = catalogueGroups(deps.services.integrations.types())
  return `<p>Pick the platform to connect; its form uses the platform's own words for each value.</p>${groups
    .map(
      (g) =>
        `<section class="card catalogue" aria-labelledby="cat-${escapeHtml(g.platform.replace(/\W+/g, '-'))}"><h2 id="cat-${escapeHtml(g.platform.replace(/\W+/g, '-'))}">${escapeHtml(g.platform)}</h2><ul>${g.entries
          .map(
            (e) =>
              `<li><a href="${CONSOLE_ROUTES.integrationNew}?entry=${encodeURIComponent(e.key)}" data-entry="${escapeHtml(e.key)}">${escapeHtml(e.guide.title)}</a> <small>${escapeHtml(e.type.description)}</small></li>`,
          )
          .join('')}</ul></section>`,
    )
    .join('')}`
}

/** The Add page. */
export const integrationNewPage: ConsolePage = {
  routes(deps) {
    const { services, site } = deps
    const router = Router()
    const types = () => services.integrations.types()

    function form(
      req: Request,
      res: Response,
      entry: CatalogueEntry,
      opts: {
        id?: string
        settings?: Record<string, unknown>
        form?: PostedForm
        issues?: FieldIssue[]
        code?: string
        status?: number
      } = {},
    ) {
      sendPage(req, res, site, {
        title: `Add: ${entry.guide.title}`,
        status: opts.status ?? 200,
        current: CONSOLE_ROUTES.integrations,
        body: raw(
          `<p><a href="${CONSOLE_ROUTES.integrationNew}">Back to the catalogue</a></p>${renderIntegrationForm(
            {
              entry,
              action: CONSOLE_ROUTES.integrationNew,
              csrf: consoleLocals(res).csrf,
              id: opts.id ?? '',
              settings: opts.settings ?? entry.settings,
              ...(opts.form ? { form: opts.form } : {}),
              ...(opts.issues ? { issues: opts.issues } : {}),
              ...(opts.code ? { code: opts.code } : {}),
              hidden: { entry: entry.key },
              submit: 'Add integration',
            },
          )}`,
        ),
      })
    }

    const entryOrRefuse = (key: unknown) => {
      const entry = typeof key === 'string' ? catalogueEntry(types(), key) : undefined
      if (!entry)
        throw new ValidationFailed(
          [{ path: 'entry', message: 'is not an entry of the catalogue' }],
          'That is not an entry of the catalogue: pick one from the list.',
        )
      return entry
    }

    router.get(CONSOLE_ROUTES.integrationNew, noStore, (req, res) => {
      if (req.query.entry === undefined)
        return sendPage(req, res, site, {
          title: 'Add an integration',
          current: CONSOLE_ROUTES.integrations,
          body: raw(catalogue(deps)),
        })
      form(req, res, entryOrRefuse(req.query.entry))
    })

    router.post(CONSOLE_ROUTES.integrationNew, noStore, integrationForm, async (req, res) => {
      deps.csrf.check(req)
      const body = (req.body ?? {}) as PostedForm
      const entry = entryOrRefuse(body.entry)
      const id = typeof body.id === 'string' ? body.id.trim() : ''
      const settings = postedSettings(entry, body)
      const { secrets, issues } = readSecrets(entry.type, body, undefined)
      // The registry's own rule (integrations/schemas.ts), checked here too so a bad id is shown
      // with the form's other issues rather than after them.
      const checkedId = integrationId.safeParse(id)
      if (!checkedId.success) issues.push(...zodIssues(checkedId.error, 'id'))
      const again = (status: number, found: FieldIssue[], code?: string) =>
        form(req, res, entry, {
          id,
          settings,
          form: body,
          issues: found,
          status,
          ...(code ? { code } : {}),
        })
      if (issues.length > 0) return again(400, issues)
      try {
        const { integration } = await services.integrations.put(
          id,
          { type: entry.type.type, settings, secrets, mapping: entry.mapping },
          { actor: consoleLocals(res).actor, create: true },
        )
        const target = consolePath('integrationConnection', { id })
        const generated = integration.generated_secrets
        if (generated && Object.keys(generated).length > 0) {
          const key = await keepForOneView(
            { kv: services.store, box: services.secrets },
            consoleLocals(res).session,
            id,
            generated,
          )
          return res.redirect(303, `${target}?done=created&shown=${key}`)
        }
        res.redirect(303, `${target}?done=created`)
      } catch (err) {
        if (err instanceof ValidationFailed) return again(400, err.issues)
        if (err instanceof BridgeError && hasCode(err, 'ERR_INTEGRATION_EXISTS'))
          return again(
            409,
            [{ path: 'id', message: 'an integration with this id exists already' }],
            'integration_exists',
          )
        throw err
      }
    })
    return router
  },
}
