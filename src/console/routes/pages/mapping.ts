/**
 * @module console/routes/pages/mapping
 * The mapping editor: the integration's mapping (JSON: output key → source, over the type's
 * default mapping; `null` removes a default key) beside the live preview for a chosen member
 * and its key-path table.
 *
 * - Preview (POST …/mapping/preview): the edited mapping compiled and applied, nothing saved.
 * - Save (POST …/mapping): through the registry's `put`, the same validation as
 *   PUT /api/v1/integrations/{id} (settings and secrets kept as they are), written to the
 *   operator audit log with the operator's actor, then 303 back with a notice.
 * Errors are shown at the key they concern (`mapping.<key>`, from compileMapping), with the
 * line of the textarea that key is on; a JSON syntax error with its line. Nothing is saved then.
 */
import { Router, urlencoded, type Request, type Response } from 'express'
import type { Account, JsonObject } from '../../../accounts/types.ts'
import { BridgeError, replyFor, ValidationFailed, type FieldIssue } from '../../../errors/index.ts'
import type { IntegrationView } from '../../../integrations/registry.ts'
import { compileMapping } from '../../../mapping/index.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { consolePath, CONSOLE_ROUTES } from '../../paths.ts'
import { consoleLocals, sendPage, type ConsolePage } from '../page.ts'
import { jsonBlock, pathTable } from './document-view.ts'
import { findMember, memberLabel, memberQuery } from './member-pick.ts'

/** The textarea's cap: far above any real mapping, far below the body limit. */
const MAX_MAPPING_CHARS = 60_000

/** The 1-based line of `text` where key `key` is written (`"key":`), if it is. */
function lineOf(text: string, key: string): number | undefined {
  const at = text.indexOf(`${JSON.stringify(key)}`)
  return at < 0 ? undefined : text.slice(0, at).split('\n').length
}

/** `text` parsed as JSON, or the issue at `mapping` with the line the parser stopped at. */
function parseMapping(text: string): { mapping: unknown } | { issue: FieldIssue } {
  if (text.length > MAX_MAPPING_CHARS)
    return { issue: { path: 'mapping', message: `is longer than ${MAX_MAPPING_CHARS} characters` } }
  if (text.trim() === '') return { mapping: null }
  try {
    return { mapping: JSON.parse(text) as unknown }
  } catch (err) {
    const pos = /position (\d+)/.exec((err as Error).message)?.[1]
    const line = pos ? text.slice(0, Number(pos)).split('\n').length : undefined
    return {
      issue: {
        path: 'mapping',
        message: `is not valid JSON${line ? ` (line ${line})` : ''}: ${(err as Error).message}`,
      },
    }
  }
}

/** The mapping editor (no nav entry: the integrations list links here). */
export const mappingPage: ConsolePage = {
  routes(deps) {
    const router = Router()
    const form = urlencoded({ extended: false, limit: '128kb' })
    const { services, site } = deps

    function definitionOf(integration: IntegrationView) {
      const def = services.integrations.types().find((t) => t.type === integration.type)
      if (!def) throw new BridgeError(`no type ${integration.type}`)
      return def
    }

    /** The editor page: textarea and member field, errors at their keys, the preview beside. */
    function show(
      req: Request,
      res: Response,
      integration: IntegrationView,
      o: {
        text: string
        query: string
        account: Account | null | undefined
        issues?: FieldIssue[]
        preview?: JsonObject
        notice?: string
        status?: number
        edited?: boolean
      },
    ) {
      const id = integration.id
      const { csrf } = consoleLocals(res)
      const def = definitionOf(integration)
      const issues = o.issues ?? []
      const items = issues
        .map((i) => {
          const key = i.path.startsWith('mapping.') ? i.path.slice('mapping.'.length) : undefined
          const line = key !== undefined ? lineOf(o.text, key) : undefined
          return `<li data-key="${escapeHtml(key ?? i.path)}"><code>${escapeHtml(key ?? i.path)}</code>${line ? ` (line ${line})` : ''}: ${escapeHtml(i.message)}</li>`
        })
        .join('')
      const errors = items
        ? `<div class="error" role="alert" id="mapping-errors" data-code="${escapeHtml(replyFor('ERR_VALIDATION').error)}"><p>The mapping was not ${o.edited ? 'applied' : 'saved'}: fix these keys.</p><ul>${items}</ul><p><small>${escapeHtml(replyFor('ERR_VALIDATION').error)}</small></p></div>`
        : ''
      const memberNotFound = o.account === null && o.query !== ''
      const preview =
        o.preview && o.account
          ? `<h2 id="preview">Preview for ${escapeHtml(memberLabel(o.account))}${o.edited ? ' (edited, not saved)' : ''}</h2>
${jsonBlock('document', o.preview, 'Preview document')}
<h3>Key paths</h3>${pathTable(o.preview, 'Key paths of the preview')}`
          : `<h2 id="preview">Preview</h2><p class="hint">Pick a member to see what this mapping produces for them.</p>`
      sendPage(req, res, site, {
        title: `Mapping of ${id}`,
        status: o.status ?? 200,
        body: raw(
          `<p>Integration <code>${escapeHtml(id)}</code> · type <code>${escapeHtml(integration.type)}</code> · <a href="${escapeHtml(consolePath('integrationTest', { id }))}${o.query ? `?member=${encodeURIComponent(o.query)}` : ''}">Test</a></p>
${o.notice ? `<p class="notice" role="status">${escapeHtml(o.notice)}</p>` : ''}
<div class="split"><div>
<form method="post" action="${escapeHtml(consolePath('integrationMapping', { id }))}" class="card">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<label for="mapping">Mapping<span class="hint">JSON: output key → source (a path such as <code>profile.nicknames.0</code>, or a rule with transforms); keys here override the type's defaults, <code>null</code> removes one.</span></label>
<textarea id="mapping" name="mapping" rows="14" spellcheck="false"${errors ? ' aria-invalid="true" aria-describedby="mapping-errors"' : ''}>${escapeHtml(o.text)}</textarea>
${errors}
<label for="member">Member for the preview<span class="hint">Username, email or external id</span></label>
<input type="search" id="member" name="member" value="${escapeHtml(o.query)}" maxlength="320" autocomplete="off"${memberNotFound ? ' aria-invalid="true" aria-describedby="member-error"' : ''}>
${memberNotFound ? `<p class="field-error" id="member-error" data-code="user_not_found">No member has that username, email or external id.</p>` : ''}
<div class="actions"><button type="submit" class="secondary" formaction="${escapeHtml(consolePath('integrationMappingPreview', { id }))}">Preview</button><button type="submit" class="primary">Save</button></div>
</form>
<details class="card"><summary>The type's default mapping</summary>${jsonBlock('defaults', def.defaultMapping, 'Default mapping')}</details>
</div>
<section aria-labelledby="preview">${preview}</section></div>`,
        ),
      })
    }

    /** The mapping applied to `account`, or the refusal (a missing field…) as a box. */
    function apply(integration: IntegrationView, mapping: unknown, account: Account) {
      const compiled = compileMapping(mapping, {
        defaults: definitionOf(integration).defaultMapping,
      })
      return compiled.apply(account)
    }

    async function member(query: string) {
      return query ? await findMember(services, query) : undefined
    }

    router.get(CONSOLE_ROUTES.integrationMapping, noStore, async (req, res) => {
      const integration = await services.integrations.get(String(req.params.id))
      const query = memberQuery(req.query.member)
      const account = await member(query)
      const text = JSON.stringify(integration.mapping ?? {}, null, 2)
      show(req, res, integration, {
        text,
        query,
        account,
        ...(account ? { preview: apply(integration, integration.mapping, account) } : {}),
        ...(req.query.saved === '1' ? { notice: 'Mapping saved.' } : {}),
        status: account === null && query ? 404 : 200,
      })
    })

    /** Preview and Save share the reading of the form. */
    async function read(req: Request) {
      deps.csrf.check(req)
      const body = req.body as Record<string, unknown>
      const integration = await services.integrations.get(String(req.params.id))
      const text = typeof body.mapping === 'string' ? body.mapping : ''
      const query = memberQuery(body.member)
      return { integration, text, query, account: await member(query), parsed: parseMapping(text) }
    }

    router.post(CONSOLE_ROUTES.integrationMappingPreview, noStore, form, async (req, res) => {
      const { integration, text, query, account, parsed } = await read(req)
      if ('issue' in parsed)
        return show(req, res, integration, {
          text,
          query,
          account,
          issues: [parsed.issue],
          status: 400,
          edited: true,
        })
      try {
        const preview = account ? apply(integration, parsed.mapping, account) : undefined
        show(req, res, integration, {
          text,
          query,
          account,
          ...(preview ? { preview } : {}),
          edited: true,
          status: account === null && query ? 404 : 200,
        })
      } catch (err) {
        if (!(err instanceof ValidationFailed)) throw err
        show(req, res, integration, {
          text,
          query,
          account,
          issues: err.issues,
          status: 400,
          edited: true,
        })
      }
    })

    router.post(CONSOLE_ROUTES.integrationMapping, noStore, form, async (req, res) => {
      const { integration, text, query, account, parsed } = await read(req)
      const fail = (issues: FieldIssue[], status = 400) =>
        show(req, res, integration, { text, query, account, issues, status })
      if ('issue' in parsed) return fail([parsed.issue])
      try {
        // The registry validates it all again, exactly as the admin API's PUT; the settings and
        // secrets stay as stored (omitted secrets are kept).
        // The configuration audit log records the save (integration_mapping_saved, with what
        // changed) with the operator as its actor, in the save's own transaction: one entry.
        await services.integrations.put(
          integration.id,
          { type: integration.type, settings: integration.settings, mapping: parsed.mapping },
          { actor: consoleLocals(res).actor, action: 'integration_mapping_saved' },
        )
      } catch (err) {
        if (err instanceof ValidationFailed) return fail(err.issues)
        if (err instanceof BridgeError) {
          const reply = replyFor(err.code)
          return fail(
            [{ path: 'mapping', message: `${err.message} (${reply.error})` }],
            reply.status,
          )
        }
        throw err
      }
      res.redirect(
        303,
        `${consolePath('integrationMapping', { id: integration.id })}?saved=1${query ? `&member=${encodeURIComponent(query)}` : ''}`,
      )
    })

    return router
  },
}
