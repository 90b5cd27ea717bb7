/**
 * @module console/routes/pages/integration-test
 * "Test Integration" (Minnit's button, for every type): pick a member and see exactly what the
 * platform would receive — nothing is sent unless the operator asks.
 *
 * - `oidc`: the user-info document the mapping produces and its key paths; a live round trip
 *   (POST …/test/oidc, the OIDC door's hook: discovery, authorize, token, ID token, user-info).
 * - `saml`: the NameID with its format and the attribute statement; the SP's metadata fetched
 *   and compared with the settings (POST …/test/saml-metadata, the SAML door's hook).
 * - token types: the token door's dry run (a token made now, nothing sent or stored), read back
 *   with the integration's own key (the decrypted zero-click payload, the verified JWT claims),
 *   its embed snippet; a platform that makes its token itself (Dead Simple Chat's Create User):
 *   the request that would be sent, and "Send for real" (POST …/test/send), which sends it as a
 *   member's first sign-in would.
 * A missing required field, a conflict or a platform failure shows in place with its code,
 * never as a 500; an unknown integration is a refusal page (404 integration_not_found).
 */
import { Router, urlencoded, type Request, type Response } from 'express'
import type { Account } from '../../../accounts/types.ts'
import { BridgeError, replyFor, ValidationFailed } from '../../../errors/index.ts'
import { previewIntegration } from '../../../integrations/preview.ts'
import type { IntegrationView } from '../../../integrations/registry.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { consolePath, CONSOLE_ROUTES } from '../../paths.ts'
import { consoleLocals, sendPage, type ConsolePage, type ConsolePageDeps } from '../page.ts'
import { errorBox, jsonBlock, pathTable } from './document-view.ts'
import { findMember, memberForm, memberLabel, memberQuery } from './member-pick.ts'

/** A BridgeError as an in-page box (status kept for the answer); anything else is a bug. */
function refusal(err: unknown): { status: number; html: string } {
  if (!(err instanceof BridgeError)) throw err
  const reply = replyFor(err.code)
  const field = (err as { field?: unknown }).field
  return {
    status: reply.status,
    html: errorBox(reply.error, err.message, typeof field === 'string' ? field : undefined),
  }
}

/** The Test page (no nav entry: the integrations list links here). */
export const integrationTestPage: ConsolePage = {
  routes(deps) {
    const router = Router()
    const form = urlencoded({ extended: false, limit: '16kb' })
    const { services, site, hooks } = deps

    /** The page around `sections`: the member field first. */
    function show(
      req: Request,
      res: Response,
      integration: IntegrationView,
      query: string,
      opts: { account?: Account | null; sections?: string; status?: number; notice?: string },
    ) {
      const id = integration.id
      const links = `<p><a href="${escapeHtml(consolePath('integrationMapping', { id }))}${query ? `?member=${encodeURIComponent(query)}` : ''}">Edit the mapping</a></p>`
      sendPage(req, res, site, {
        title: `Test ${id}`,
        status: opts.status ?? 200,
        body: raw(
          `<p>Integration <code>${escapeHtml(id)}</code> · type <code>${escapeHtml(integration.type)}</code>. What the platform would receive for one member; nothing is sent unless you ask.</p>
${links}
${opts.notice ? `<p class="notice" role="status">${escapeHtml(opts.notice)}</p>` : ''}
${memberForm(consolePath('integrationTest', { id }), query, opts.account === null && query !== '')}
${opts.sections ?? ''}`,
        ),
      })
    }

    /** What the platform would receive for `account` (see the module doc), and its status. */
    async function receives(
      integration: IntegrationView,
      account: Account,
      csrf: string,
    ): Promise<{ status: number; html: string }> {
      const id = integration.id
      const who = escapeHtml(memberLabel(account))
      const member = `<input type="hidden" name="member" value="${escapeHtml(account.external_id)}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`
      try {
        if (integration.type === 'oidc') {
          const p = await previewIntegration(services, id, account.external_id)
          return {
            status: 200,
            html: `<section aria-labelledby="receives"><h2 id="receives">User-info document for ${who}</h2>
<p class="hint">The claims the mapping produces: what the user-info URL answers (each claim within the scopes the client was granted; <code>sub</code> is the external id).</p>
${jsonBlock('document', p.document, 'User-info document')}
<h3>Key paths</h3>${pathTable(p.document, 'Key paths of the user-info document')}</section>
<section aria-labelledby="live"><h2 id="live">Live check</h2>
<p class="hint">A real authorization-code round trip through this server's public URL for this member: discovery, authorize, token, ID token, user-info. It proves the server side of a sign-in works end to end for this client; it does not sign the member in anywhere, and does not prove the platform's own handling of the answer.</p>
<form method="post" action="${escapeHtml(consolePath('integrationTestOidc', { id }))}">${member}<div class="actions"><button type="submit" class="primary">Run the round trip</button></div></form></section>`,
          }
        }
        if (integration.type === 'saml') {
          if (!hooks.samlPreview) throw notFor('the SAML door is not available here')
          const p = await hooks.samlPreview(id, account)
          const rows = p.attributes
            .map(
              (a) =>
                `<tr><th scope="row"><code>${escapeHtml(a.name)}</code></th><td>${a.values.map((v) => `<code>${escapeHtml(v)}</code>`).join('<br>')}</td></tr>`,
            )
            .join('')
          return {
            status: 200,
            html: `<section aria-labelledby="receives"><h2 id="receives">Assertion for ${who}</h2>
<dl><dt>NameID</dt><dd><code id="name-id">${escapeHtml(p.nameId)}</code></dd><dt>Format</dt><dd><code>${escapeHtml(p.nameIdFormat)}</code></dd>${p.acsUrl ? `<dt>Sent to (ACS, HTTP-POST)</dt><dd><code>${escapeHtml(p.acsUrl)}</code></dd>` : ''}</dl>
<h3>Attribute statement</h3>
<div class="table-wrap" tabindex="0" role="region" aria-label="Attribute statement"><table data-attributes><thead><tr><th scope="col">Attribute</th><th scope="col">Values</th></tr></thead><tbody>${rows || '<tr><td colspan="2">(none)</td></tr>'}</tbody></table></div></section>
${samlCheckForm(id, csrf)}`,
          }
        }
        // Token types: the token door's dry run (tokens/dry-run.ts, the same as
        // POST /api/v1/integrations/{id}/dry-run): a token made now, nothing sent or stored.
        const dry = await services.tokens.dryRun(id, { external_id: account.external_id })
        const notes = dry.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')
        if (dry.token === null) {
          // The platform makes the token itself (Dead Simple Chat's Create User): the request.
          return {
            status: 200,
            html: `<section aria-labelledby="receives"><h2 id="receives">The request for ${who}</h2>
<p><code>${escapeHtml(dry.algorithm)}</code></p>
${jsonBlock('document', dry.payload, 'Request body')}
<h3>Key paths</h3>${pathTable(dry.payload, 'Key paths of the request body')}
${notes ? `<ul class="hint">${notes}</ul>` : ''}
<form method="post" action="${escapeHtml(consolePath('integrationTestSend', { id }))}">${member}<div class="actions"><button type="submit" class="danger">Send for real</button></div>
<p class="hint">Sends it now, as this member's first sign-in would (a user made on the platform stays: its API deletes none). A stored user made from this same request is handed out again instead, and nothing is sent.</p></form></section>`,
          }
        }
        // Read back with the integration's own key where the door can (inspect: decrypt or
        // verify); otherwise the payload as the dry run built it.
        const read = await services.tokens.inspect(id, dry.token).catch((err: unknown) => {
          if (err instanceof BridgeError) return null
          throw err
        })
        const title = read
          ? dry.algorithm === 'AES-256-GCM'
            ? 'Decrypted zero-click payload'
            : dry.header
              ? 'Verified JWT claims'
              : 'Token content, read back with the key'
          : `Token payload (${dry.algorithm})`
        const payload = read?.payload ?? dry.payload
        const expires = read?.expires_at ?? dry.expires_at
        return {
          status: 200,
          html: `<section aria-labelledby="receives"><h2 id="receives">${escapeHtml(title)} for ${who}</h2>
<p class="hint">A token made now${read ? " and read back with this integration's key, as the platform reads it" : ''} (${escapeHtml(dry.algorithm)})${expires ? `; it expires at ${escapeHtml(expires)}` : ''}. Nothing was sent.</p>
${jsonBlock('document', payload, title)}
<h3>Key paths</h3>${pathTable(payload, `Key paths of the ${title.toLowerCase()}`)}
${dry.snippet.html ? `<h3>Embed snippet</h3>${textBlock('embed', dry.snippet.html, 'Embed snippet')}` : ''}
${!dry.snippet.html && dry.snippet.url ? `<h3>URL</h3>${textBlock('embed-url', dry.snippet.url, 'URL')}` : ''}
${dry.snippet.script ? `<h3>Script</h3>${textBlock('script', dry.snippet.script, 'Script')}` : ''}
${notes ? `<ul class="hint">${notes}</ul>` : ''}</section>`,
        }
      } catch (err) {
        return refusal(err)
      }
    }

    function samlCheckForm(id: string, csrf: string, url = ''): string {
      return `<section aria-labelledby="live"><h2 id="live">Live check: the SP's metadata</h2>
<form method="post" action="${escapeHtml(consolePath('integrationTestSaml', { id }))}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<label for="metadata_url">Metadata URL<span class="hint">Where the service provider publishes its SAML metadata; fetched now and compared with this integration's settings.</span></label>
<input type="url" id="metadata_url" name="metadata_url" value="${escapeHtml(url)}" required>
<div class="actions"><button type="submit" class="primary">Fetch and compare</button></div></form></section>`
    }

    /** Loads the integration (404 refusal page when unknown) and the member of the request. */
    async function context(req: Request, from: unknown) {
      const integration = await services.integrations.get(String(req.params.id))
      const query = memberQuery(from)
      const account = query ? await findMember(services, query) : undefined
      return { integration, query, account }
    }

    router.get(CONSOLE_ROUTES.integrationTest, noStore, async (req, res) => {
      const { integration, query, account } = await context(req, req.query.member)
      const { csrf } = consoleLocals(res)
      if (!account) {
        const saml = integration.type === 'saml' ? samlCheckForm(integration.id, csrf) : ''
        return show(req, res, integration, query, {
          account: account ?? null,
          sections: saml,
          status: query && account === null ? 404 : 200,
        })
      }
      const out = await receives(integration, account, csrf)
      const sent = typeof req.query.sent === 'string' ? req.query.sent : undefined
      show(req, res, integration, query, {
        account,
        sections: out.html,
        status: out.status,
        ...(sent
          ? {
              notice:
                req.query.fresh === '1'
                  ? `Create User answered: user ${sent} was created.`
                  : `A stored user (${sent}) with this same request was reused: nothing was sent.`,
            }
          : {}),
      })
    })

    // Dead Simple Chat: Create User for real, through the token door's own issue (the same claim
    // and storage as a member's sign-in), then back to the page with what it answered.
    router.post(CONSOLE_ROUTES.integrationTestSend, noStore, form, async (req, res) => {
      deps.csrf.check(req)
      const body = req.body as Record<string, unknown>
      const { integration, query, account } = await context(req, body.member)
      if (!account) return show(req, res, integration, query, { account: null, status: 404 })
      const started = Date.now()
      try {
        const dry = await services.tokens.dryRun(integration.id, {
          external_id: account.external_id,
        })
        if (dry.token !== null)
          throw notFor(`${integration.type} tokens are made here: there is no request to send`)
        const issued = await services.tokens.issue(integration.id, account.external_id)
        const user = (await services.tokens.inspect(integration.id, issued.token)).payload
        // Created by this call, or a stored user handed out again (no call made).
        const fresh = Date.parse(String(user.created_at)) >= started
        await audit(deps, res, integration.id, 'integration_test_sent')
        const to = `${consolePath('integrationTest', { id: integration.id })}?member=${encodeURIComponent(account.external_id)}&sent=${encodeURIComponent(String(user.userId))}${fresh ? '&fresh=1' : ''}`
        res.redirect(303, to)
      } catch (err) {
        const r = refusal(err)
        show(req, res, integration, query, { account, sections: r.html, status: r.status })
      }
    })

    router.post(CONSOLE_ROUTES.integrationTestOidc, noStore, form, async (req, res) => {
      deps.csrf.check(req)
      const body = req.body as Record<string, unknown>
      const { integration, query, account } = await context(req, body.member)
      if (!account) return show(req, res, integration, query, { account: null, status: 404 })
      try {
        if (integration.type !== 'oidc' || !hooks.oidcLiveCheck)
          throw notFor('the live round trip is for oidc integrations')
        const check = await hooks.oidcLiveCheck(integration.id, account.external_id)
        // The operator acted for a member (a real token exchange): on the record, with whom.
        await deps.services.store.appendOperatorAudit({
          actor: consoleLocals(res).actor,
          action: 'integration_oidc_live_check',
          target: `integration:${integration.id} member:${account.external_id}`,
        })
        const passed = check.steps.every((s) => s.ok)
        show(req, res, integration, query, {
          account,
          status: 200,
          sections: `<section aria-labelledby="result"><h2 id="result">Round trip for ${escapeHtml(memberLabel(account))}: ${passed ? 'passed' : 'failed'}</h2>
${stepTable(check.steps)}
${check.userinfo ? `<h3>User-info that came back</h3>${jsonBlock('userinfo', check.userinfo, 'User-info that came back')}<h3>Key paths</h3>${pathTable(check.userinfo, 'Key paths of the user-info that came back')}` : ''}
${check.idToken ? `<h3>ID token claims (verified)</h3>${jsonBlock('id-token', check.idToken, 'ID token claims')}` : ''}</section>`,
        })
      } catch (err) {
        const r = refusal(err)
        show(req, res, integration, query, { account, sections: r.html, status: r.status })
      }
    })

    router.post(CONSOLE_ROUTES.integrationTestSaml, noStore, form, async (req, res) => {
      deps.csrf.check(req)
      const body = req.body as Record<string, unknown>
      const integration = await services.integrations.get(String(req.params.id))
      const url = typeof body.metadata_url === 'string' ? body.metadata_url.trim() : ''
      const { csrf } = consoleLocals(res)
      try {
        if (integration.type !== 'saml' || !hooks.samlMetadataCheck)
          throw notFor('the metadata check is for saml integrations')
        const check = await hooks.samlMetadataCheck(integration.id, url)
        const all = check.items.every((i) => i.match)
        const rows = check.items
          .map(
            (i) =>
              `<tr data-match="${i.match}"><th scope="row"><code>${escapeHtml(i.setting)}</code></th><td><code>${escapeHtml(i.ours)}</code></td><td><code>${escapeHtml(i.theirs)}</code></td><td><span class="badge ${i.match ? 'ok' : 'bad'}">${i.match ? 'match' : 'mismatch'}</span></td></tr>`,
          )
          .join('')
        show(req, res, integration, '', {
          sections: `${samlCheckForm(integration.id, csrf, url)}<section aria-labelledby="result"><h2 id="result">Metadata ${all ? 'matches the settings' : 'differs from the settings'}</h2>
<div class="table-wrap" tabindex="0" role="region" aria-label="Settings against the metadata"><table data-metadata-check><thead><tr><th scope="col">Setting</th><th scope="col">This integration</th><th scope="col">The metadata</th><th scope="col">Result</th></tr></thead><tbody>${rows}</tbody></table></div></section>`,
        })
      } catch (err) {
        const r = refusal(err)
        const issues = (err as { issues?: { path: string; message: string }[] }).issues
        const atField = issues?.find((i) => i.path === 'metadata_url')
        show(req, res, integration, '', {
          status: r.status,
          sections: `${samlCheckForm(integration.id, csrf, url)}${atField ? errorBox(replyFor('ERR_VALIDATION').error, atField.message, 'metadata_url') : r.html}`,
        })
      }
    })

    return router
  },
}

/** A check asked of an integration whose type has none: 400 at `integration`. */
const notFor = (message: string) => new ValidationFailed([{ path: 'integration', message }])

/** Text (HTML source, a script) shown as text, with a copy button. */
function textBlock(id: string, text: string, label: string): string {
  return `<pre id="${escapeHtml(id)}" tabindex="0" aria-label="${escapeHtml(label)}">${escapeHtml(text)}</pre>
<button type="button" class="copy" data-copy="#${escapeHtml(id)}" hidden>Copy</button>`
}

function stepTable(steps: { name: string; ok: boolean; detail: string }[]): string {
  const rows = steps
    .map(
      (s) =>
        `<tr data-ok="${s.ok}"><th scope="row">${escapeHtml(s.name)}</th><td><span class="badge ${s.ok ? 'ok' : 'bad'}">${s.ok ? 'ok' : 'failed'}</span></td><td>${escapeHtml(s.detail)}</td></tr>`,
    )
    .join('')
  return `<div class="table-wrap" tabindex="0" role="region" aria-label="Steps of the round trip"><table data-steps><thead><tr><th scope="col">Step</th><th scope="col">Result</th><th scope="col">Detail</th></tr></thead><tbody>${rows}</tbody></table></div>`
}

/** Writes a change made from this page to the operator audit log with the operator's actor. */
async function audit(deps: ConsolePageDeps, res: Response, integrationId: string, action: string) {
  await deps.services.store.appendOperatorAudit({
    actor: consoleLocals(res).actor,
    action,
    target: `integration:${integrationId}`,
  })
}
