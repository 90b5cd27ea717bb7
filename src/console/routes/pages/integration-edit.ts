/**
 * @module console/routes/pages/integration-edit
 * One integration: `GET/POST /console/integrations/:id` edits its settings and secrets through the
 * registry (the admin API's PUT: same validation, each issue at its field, values kept except
 * secrets); `…/delete` asks for the id to be typed, then deletes; `…/regenerate` asks, then makes
 * a new generated secret (the OIDC client secret, SecretSpec.generate) and shows it once on the
 * Connection page. Every change is audited with the operator as actor.
 */
import { Router, type Request, type Response } from 'express'
import { ValidationFailed, type FieldIssue } from '../../../errors/index.ts'
import type { IntegrationView } from '../../../integrations/registry.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { CONSOLE_ROUTES, consolePath } from '../../paths.ts'
import { keepForOneView } from '../../shown-once.ts'
import { consoleLocals, sendPage, type ConsolePage } from '../page.ts'
import {
  findIntegration,
  integrationForm,
  noticeOf,
  type ShownIntegration,
} from './integration-common.ts'
import { postedSettings, readSecrets, renderIntegrationForm } from './integration-form.ts'
import type { PostedForm } from './settings-form.ts'

const idOf = (req: Request) => String(req.params.id)

/**
 * The secrets of an integration that are generated (and so can be regenerated), by name: those
 * whose `generate` makes a value for its settings (a public OIDC client's makes none). The value
 * made to find out is thrown away.
 */
function generatedSecrets(shown: ShownIntegration): string[] {
  return Object.entries(shown.entry.type.secrets)
    .filter(([, spec]) => spec.generate?.(shown.view.settings) != null)
    .map(([name]) => name)
}

const label = (shown: ShownIntegration, name: string) =>
  shown.entry.guide.fields?.[name]?.label ?? name

/** The Edit page, with Delete and Regenerate. */
export const integrationEditPage: ConsolePage = {
  routes(deps) {
    const { services, site } = deps
    const router = Router()

    function editPage(
      req: Request,
      res: Response,
      shown: ShownIntegration,
      opts: {
        settings?: Record<string, unknown>
        form?: PostedForm
        issues?: FieldIssue[]
        status?: number
      } = {},
    ) {
      const { view, entry } = shown
      const id = view.id
      const regen = generatedSecrets(shown)
        .map(
          (name) =>
            `<a class="button secondary" href="${escapeHtml(consolePath('integrationRegenerate', { id }))}?secret=${encodeURIComponent(name)}">Regenerate ${escapeHtml(label(shown, name))}</a>`,
        )
        .join('')
      sendPage(req, res, site, {
        title: `${id}`,
        status: opts.status ?? 200,
        current: CONSOLE_ROUTES.integrations,
        body: raw(`${noticeOf(req)}<p>${escapeHtml(entry.guide.title)} · <code>${escapeHtml(view.type)}</code></p>
<nav aria-label="This integration"><ul class="links">
<li><a href="${escapeHtml(consolePath('integrationConnection', { id }))}">Connection</a></li>
<li><a href="${escapeHtml(consolePath('integrationTest', { id }))}">Test</a></li>
<li><a href="${escapeHtml(consolePath('integrationMapping', { id }))}">Mapping</a></li>
</ul></nav>
${renderIntegrationForm({
  entry,
  action: consolePath('integration', { id }),
  csrf: consoleLocals(res).csrf,
  current: view,
  settings: opts.settings ?? view.settings,
  ...(opts.form ? { form: opts.form } : {}),
  ...(opts.issues ? { issues: opts.issues } : {}),
  submit: 'Save changes',
})}
<section class="card" aria-labelledby="danger"><h2 id="danger">Delete or regenerate</h2>
<div class="actions">${regen}<a class="button secondary" href="${escapeHtml(consolePath('integrationDelete', { id }))}">Delete this integration…</a></div></section>`),
      })
    }

    router.get(CONSOLE_ROUTES.integration, noStore, async (req, res) => {
      editPage(req, res, await findIntegration(services, idOf(req)))
    })

    router.post(CONSOLE_ROUTES.integration, noStore, integrationForm, async (req, res) => {
      deps.csrf.check(req)
      const shown = await findIntegration(services, idOf(req))
      const { view, entry } = shown
      const body = (req.body ?? {}) as PostedForm
      const settings = postedSettings(entry, body)
      const { secrets, issues } = readSecrets(entry.type, body, view)
      const again = (found: FieldIssue[]) =>
        editPage(req, res, shown, { settings, form: body, issues: found, status: 400 })
      if (issues.length > 0) return again(issues)
      try {
        const { integration } = await services.integrations.put(
          view.id,
          { type: view.type, settings, secrets, mapping: view.mapping },
          { actor: consoleLocals(res).actor },
        )
        await afterSave(res, view.id, integration, 'saved')
      } catch (err) {
        if (err instanceof ValidationFailed) return again(err.issues)
        throw err
      }
    })

    /** Redirects after a save: to the Connection page with a secret to show once, else to Edit. */
    async function afterSave(
      res: Response,
      id: string,
      integration: IntegrationView,
      done: 'saved' | 'regenerated',
    ) {
      const generated = integration.generated_secrets
      if (generated && Object.keys(generated).length > 0) {
        const key = await keepForOneView(
          { kv: services.store, box: services.secrets },
          consoleLocals(res).session,
          id,
          generated,
        )
        return res.redirect(
          303,
          `${consolePath('integrationConnection', { id })}?done=${done}&shown=${key}`,
        )
      }
      res.redirect(303, `${consolePath('integration', { id })}?done=${done}`)
    }

    function deletePage(req: Request, res: Response, shown: ShownIntegration, error?: string) {
      const id = shown.view.id
      sendPage(req, res, site, {
        title: `Delete ${id}?`,
        status: error ? 400 : 200,
        current: CONSOLE_ROUTES.integrations,
        body: raw(`${error ? `<div class="error" role="alert" data-code="validation_failed"><p>Not deleted: ${escapeHtml(error)}</p><p><small>validation_failed</small></p></div>` : ''}
<form method="post" action="${escapeHtml(consolePath('integrationDelete', { id }))}" class="card">
<input type="hidden" name="csrf" value="${escapeHtml(consoleLocals(res).csrf)}">
<p>${escapeHtml(shown.entry.guide.title)}: its platform can no longer sign members in through it, and its settings and secrets are gone. This cannot be undone.</p>
<label for="f-confirm">Type the integration id, <code>${escapeHtml(id)}</code>, to confirm</label>
${error ? `<p class="field-error" id="f-confirm-error">${escapeHtml(error)}</p>` : ''}
<input type="text" id="f-confirm" name="confirm" value="" required spellcheck="false" autocomplete="off"${error ? ' aria-invalid="true" aria-describedby="f-confirm-error"' : ''}>
<div class="actions"><button type="submit" class="danger">Delete</button><a class="button secondary" href="${escapeHtml(consolePath('integration', { id }))}">Cancel</a></div>
</form>`),
      })
    }

    router.get(CONSOLE_ROUTES.integrationDelete, noStore, async (req, res) => {
      deletePage(req, res, await findIntegration(services, idOf(req)))
    })

    router.post(CONSOLE_ROUTES.integrationDelete, noStore, integrationForm, async (req, res) => {
      deps.csrf.check(req)
      const shown = await findIntegration(services, idOf(req))
      const confirm = (req.body as PostedForm | undefined)?.confirm
      if (typeof confirm !== 'string' || confirm.trim() !== shown.view.id)
        return deletePage(req, res, shown, "the id typed is not this integration's")
      await services.integrations.remove(shown.view.id, { actor: consoleLocals(res).actor })
      res.redirect(303, `${CONSOLE_ROUTES.integrations}?done=deleted`)
    })

    /** The secret `?secret=` / `secret=` names, if the integration generates it. */
    function regenerable(shown: ShownIntegration, name: unknown): string {
      if (typeof name !== 'string' || !generatedSecrets(shown).includes(name))
        throw new ValidationFailed(
          [{ path: 'secret', message: 'is not a secret this integration generates' }],
          'This integration has no such generated secret (a public client has none).',
        )
      return name
    }

    router.get(CONSOLE_ROUTES.integrationRegenerate, noStore, async (req, res) => {
      const shown = await findIntegration(services, idOf(req))
      const name = regenerable(shown, req.query.secret)
      const id = shown.view.id
      sendPage(req, res, site, {
        title: `Regenerate ${label(shown, name)}?`,
        current: CONSOLE_ROUTES.integrations,
        body: raw(`<form method="post" action="${escapeHtml(consolePath('integrationRegenerate', { id }))}" class="card">
<input type="hidden" name="csrf" value="${escapeHtml(consoleLocals(res).csrf)}">
<input type="hidden" name="secret" value="${escapeHtml(name)}">
<p>A new ${escapeHtml(label(shown, name))} is generated for <code>${escapeHtml(id)}</code> and shown once. The current one stops working at once: the platform cannot sign members in until the new one is pasted into it.</p>
<div class="actions"><button type="submit" class="danger">Regenerate</button><a class="button secondary" href="${escapeHtml(consolePath('integration', { id }))}">Cancel</a></div>
</form>`),
      })
    })

    router.post(
      CONSOLE_ROUTES.integrationRegenerate,
      noStore,
      integrationForm,
      async (req, res) => {
        deps.csrf.check(req)
        const shown = await findIntegration(services, idOf(req))
        const name = regenerable(shown, (req.body as PostedForm | undefined)?.secret)
        const { view } = shown
        // Removing it makes the registry generate a new one (SecretSpec.generate), as the admin
        // API's PUT with `null` does.
        const { integration } = await services.integrations.put(
          view.id,
          {
            type: view.type,
            settings: view.settings,
            secrets: { [name]: null },
            mapping: view.mapping,
          },
          { actor: consoleLocals(res).actor, action: 'integration_secret_regenerated' },
        )
        await afterSave(res, view.id, integration, 'regenerated')
      },
    )

    return router
  },
}
