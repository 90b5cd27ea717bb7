/**
 * @module console/routes/pages/member
 * One member (`/console/members/:id`, the external id): every field of the account, sign-ins and
 * tokens per integration (the events table, as `GET /api/v1/events?member=` reads it), live
 * sessions (bridge sessions, and what oidc-provider holds through a hook), and the actions:
 * edit (the admin API's PUT: same validation, same conflict rules), disable/enable, delete (a
 * confirmation page: type the username) and sign out everywhere (the admin API's
 * `DELETE /users/{id}/sessions`: login/sign-out.ts). Each change is written to the operator audit
 * log as `member_<what>` with the operator as actor and `member:<external_id>` as target.
 */
import { Router, urlencoded, type Request, type Response } from 'express'
import { RANKS, type Account } from '../../../accounts/types.ts'
import {
  AccountConflict,
  BridgeError,
  ValidationFailed,
  type FieldIssue,
} from '../../../errors/index.ts'
import { countSessionsOf } from '../../../login/session.ts'
import type { EventRecord } from '../../../store/ports.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw } from '../../../web/views.ts'
import { consolePath, CONSOLE_ROUTES } from '../../paths.ts'
import { consoleLocals, sendPage, type ConsolePage, type ConsolePageDeps } from '../page.ts'
import { noticeHtml, withNotice } from './notices.ts'

/** The text fields of the edit form, in the account table's order (store/account-fields.ts). */
const TEXT_FIELDS = [
  ['username', 'Username', 'text'],
  ['email', 'Email', 'email'],
  ['nickname', 'Nickname', 'text'],
  ['given_name', 'Given name', 'text'],
  ['family_name', 'Family name', 'text'],
  ['picture', 'Picture URL', 'url'],
  ['title', 'Title', 'text'],
  ['locale', 'Locale', 'text'],
  ['timezone', 'Time zone', 'text'],
] as const

/** Every field the edit form posts. */
type FormValues = Record<(typeof TEXT_FIELDS)[number][0] | 'rank' | 'profile', string> & {
  email_verified: boolean
}

/** How many of the member's latest events the page summarises. */
const EVENTS_READ = 500
/** How many of them it lists one by one. */
const EVENTS_LISTED = 20

const SIGN_IN_KINDS = new Set(['sign_in', 'ticket_redeemed'])
const ISSUE_KINDS = new Set(['oidc_token', 'platform_token', 'saml_response'])

/** The member page and its actions. */
export const memberPage: ConsolePage = {
  routes(deps) {
    const { services, csrf } = deps
    const { accounts } = services
    const router = Router()
    const form = urlencoded({ extended: false, limit: '96kb' })
    const idOf = (req: Request) => String(req.params.id)
    const audit = (res: Response, action: string, externalId: string) =>
      services.store.appendOperatorAudit({
        actor: consoleLocals(res).actor,
        action,
        target: `member:${externalId}`,
      })

    router.get(CONSOLE_ROUTES.member, noStore, async (req, res) => {
      const account = await accounts.get(idOf(req))
      await showMember(deps, req, res, account, valuesOf(account), [])
    })

    // Edit: the admin API's PUT with every field of the form (PUT replaces: absent fields would
    // take their defaults); the status and password stay as they are.
    router.post(CONSOLE_ROUTES.member, form, async (req, res) => {
      csrf.check(req)
      const account = await accounts.get(idOf(req))
      const values = valuesFrom(req.body as Record<string, unknown>)
      const issues: FieldIssue[] = []
      let conflict = false
      let profile: unknown
      try {
        profile = JSON.parse(values.profile || '{}')
      } catch {
        issues.push({ path: 'profile', message: 'must be a JSON object' })
      }
      if (issues.length === 0) {
        const body: Record<string, unknown> = {
          rank: values.rank,
          email_verified: values.email_verified,
          profile,
          status: account.status,
        }
        for (const [name] of TEXT_FIELDS) body[name] = values[name].trim() || null
        try {
          await accounts.put(account.external_id, body, consoleLocals(res).actor)
          await audit(res, 'member_updated', account.external_id)
          return res.redirect(
            303,
            withNotice(consolePath('member', { id: account.external_id }), 'member_saved'),
          )
        } catch (err) {
          if (err instanceof ValidationFailed) issues.push(...err.issues)
          else if (err instanceof AccountConflict) {
            conflict = true
            issues.push({ path: err.field, message: 'is already used by another member' })
          } else if (err instanceof BridgeError && err.code === 'ERR_JSON_TOO_DEEP')
            issues.push({ path: 'profile', message: err.message })
          else throw err
        }
      }
      await showMember(deps, req, res, account, values, issues, conflict ? 409 : 400)
    })

    // Disable also signs the member out everywhere: a disabled member keeps no session.
    router.post(CONSOLE_ROUTES.memberStatus, form, async (req, res) => {
      csrf.check(req)
      const account = await accounts.get(idOf(req))
      const status = (req.body as Record<string, unknown>).status
      if (status !== 'active' && status !== 'disabled')
        throw new ValidationFailed([{ path: 'status', message: 'must be active or disabled' }])
      await accounts.put(
        account.external_id,
        { ...editable(account), status },
        consoleLocals(res).actor,
      )
      if (status === 'disabled') await services.signOut.signOut({ account, reason: 'admin' })
      await audit(
        res,
        status === 'disabled' ? 'member_disabled' : 'member_enabled',
        account.external_id,
      )
      res.redirect(
        303,
        withNotice(
          consolePath('member', { id: account.external_id }),
          status === 'disabled' ? 'member_disabled' : 'member_enabled',
        ),
      )
    })

    router.post(CONSOLE_ROUTES.memberSessions, form, async (req, res) => {
      csrf.check(req)
      const account = await accounts.get(idOf(req))
      await services.signOut.signOut({ account, reason: 'admin' })
      await audit(res, 'member_signed_out', account.external_id)
      res.redirect(
        303,
        withNotice(consolePath('member', { id: account.external_id }), 'member_signed_out'),
      )
    })

    router.get(CONSOLE_ROUTES.memberDelete, noStore, async (req, res) => {
      const account = await accounts.get(idOf(req))
      showDelete(req, res, deps, account, '')
    })

    router.post(CONSOLE_ROUTES.memberDelete, form, async (req, res) => {
      csrf.check(req)
      const account = await accounts.get(idOf(req))
      const typed = (req.body as Record<string, unknown>).confirm
      if (typeof typed !== 'string' || typed.trim() !== confirmWord(account))
        return showDelete(req, res, deps, account, 'does not match: nothing was deleted', 400)
      await accounts.remove(account.external_id)
      await audit(res, 'member_deleted', account.external_id)
      res.redirect(303, withNotice(CONSOLE_ROUTES.members, 'member_deleted'))
    })

    return router
  },
}

/** What the delete confirmation asks to type: the username, or the external id without one. */
const confirmWord = (a: Account) => a.username ?? a.external_id

/** The fields PUT needs to keep the account as it is (PUT replaces every field). */
function editable(a: Account): Record<string, unknown> {
  return {
    username: a.username,
    email: a.email,
    email_verified: a.email_verified,
    nickname: a.nickname,
    given_name: a.given_name,
    family_name: a.family_name,
    picture: a.picture,
    rank: a.rank,
    title: a.title,
    locale: a.locale,
    timezone: a.timezone,
    profile: a.profile,
    status: a.status,
  }
}

function valuesOf(a: Account): FormValues {
  const v = {} as FormValues
  for (const [name] of TEXT_FIELDS) v[name] = a[name] ?? ''
  v.rank = a.rank
  v.email_verified = a.email_verified
  v.profile = JSON.stringify(a.profile, null, 2)
  return v
}

function valuesFrom(body: Record<string, unknown>): FormValues {
  const str = (k: string) => (typeof body[k] === 'string' ? body[k] : '')
  const v = {} as FormValues
  for (const [name] of TEXT_FIELDS) v[name] = str(name)
  v.rank = str('rank')
  v.profile = str('profile')
  v.email_verified = body.email_verified === 'on'
  return v
}

/** The member page: fields, activity, sessions and the action forms; `issues` at their fields. */
async function showMember(
  deps: ConsolePageDeps,
  req: Request,
  res: Response,
  account: Account,
  values: FormValues,
  issues: FieldIssue[],
  status = 200,
): Promise<void> {
  const { services, hooks } = deps
  const { csrf } = consoleLocals(res)
  const id = account.external_id
  const [events, bridgeSessions, oidc] = await Promise.all([
    services.events.list({ member: id, limit: String(EVENTS_READ) }),
    countSessionsOf(services.store, account.id),
    hooks.memberOidc?.(id),
  ])
  const errorsOf = (field: string) =>
    issues.filter((i) => i.path === field || i.path.startsWith(`${field}.`))
  const fieldError = (field: string) => {
    const mine = errorsOf(field)
    return mine.length
      ? `<p class="field-error" id="${field}-error" data-field="${field}">${escapeHtml(mine.map((i) => i.message).join('; '))}</p>`
      : ''
  }
  const invalid = (field: string) =>
    errorsOf(field).length ? ` aria-invalid="true" aria-describedby="${field}-error"` : ''
  const known = new Set([...TEXT_FIELDS.map(([n]) => n), 'rank', 'profile', 'email_verified'])
  const other = issues.filter((i) => !known.has(i.path.split('.')[0]!))
  const hidden = `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`
  const action = (route: 'member' | 'memberStatus' | 'memberSessions') =>
    escapeHtml(consolePath(route, { id }))

  const body = `${noticeHtml(req)}
${issues.length ? `<div class="error" role="alert" data-code="${status === 409 ? 'conflict' : 'validation_failed'}"><p>Not saved: ${issues.length === 1 ? 'one field needs' : 'some fields need'} attention.${other.length ? ` ${escapeHtml(other.map((i) => `${i.path}: ${i.message}`).join('; '))}` : ''}</p><p><small>${status === 409 ? 'conflict' : 'validation_failed'}</small></p></div>` : ''}
<p>${account.status === 'active' ? '<span class="badge ok" id="member-status">active</span>' : '<span class="badge bad" id="member-status">disabled</span>'} <span class="muted">External id</span> <code>${escapeHtml(id)}</code></p>

<h2 id="fields">Account</h2>
${fieldsList(account)}

<h2 id="sessions">Sessions</h2>
<div class="card">
<dl class="fields">
  <dt>Signed in at sso-bridge (browsers)</dt><dd id="bridge-sessions">${bridgeSessions}</dd>
  ${
    oidc
      ? `<dt>OpenID Connect sessions</dt><dd id="oidc-sessions">${oidc.sessions}</dd>
  <dt>OpenID Connect grants (apps the member allowed)</dt><dd>${oidc.grants}</dd>
  <dt>Live access / refresh tokens</dt><dd>${oidc.access_tokens} / ${oidc.refresh_tokens}</dd>`
      : ''
  }
</dl>
<form method="post" action="${action('memberSessions')}">${hidden}
  <p class="hint">Ends every session in every browser; relying parties with back-channel logout are told. Platform tokens already handed out (zero-click, JWT) stay valid until they expire.</p>
  <button type="submit" class="secondary" id="sign-out-everywhere">Sign out everywhere</button>
</form>
</div>

<h2 id="activity">Sign-ins and tokens by integration</h2>
${perIntegration(events.items)}
${recent(events.items)}

<h2 id="edit">Edit</h2>
<form class="card" method="post" action="${action('member')}" novalidate>${hidden}
${TEXT_FIELDS.map(
  ([name, label, type]) => `<label for="f-${name}">${label}</label>
<input type="${type}" id="f-${name}" name="${name}" value="${escapeHtml(values[name])}"${invalid(name)}>
${fieldError(name)}`,
).join('\n')}
<label for="f-rank">Rank</label>
<select id="f-rank" name="rank"${invalid('rank')}>${RANKS.map((r) => `<option value="${r}"${r === values.rank ? ' selected' : ''}>${r}</option>`).join('')}</select>
${fieldError('rank')}
<p><input type="checkbox" id="f-email_verified" name="email_verified"${values.email_verified ? ' checked' : ''}> <label for="f-email_verified" class="inline">Email verified</label></p>
${fieldError('email_verified')}
<label for="f-profile">Profile (JSON)<span class="hint">The site's own data, as mappings read it (profile.…).</span></label>
<textarea id="f-profile" name="profile" spellcheck="false"${invalid('profile')}>${escapeHtml(values.profile)}</textarea>
${fieldError('profile')}
<div class="actions"><button type="submit" class="primary">Save</button></div>
</form>

<h2 id="status">${account.status === 'active' ? 'Disable' : 'Enable'}</h2>
<form class="card" method="post" action="${action('memberStatus')}">${hidden}
${
  account.status === 'active'
    ? `<p>A disabled member cannot sign in anywhere; their sessions end now. The account and its data stay.</p>
<input type="hidden" name="status" value="disabled"><button type="submit" class="danger" id="disable">Disable member</button>`
    : `<p>The member may sign in again.</p>
<input type="hidden" name="status" value="active"><button type="submit" class="primary" id="enable">Enable member</button>`
}
</form>

<h2 id="delete">Delete</h2>
<p class="card">Deleting removes the account and signs the member out everywhere. <a href="${escapeHtml(consolePath('memberDelete', { id }))}">Delete this member…</a></p>`
  sendPage(req, res, deps.site, {
    title: account.username ?? account.external_id,
    body: raw(body),
    status,
    current: CONSOLE_ROUTES.members,
  })
}

/** Every field of the account as a definition list; the profile as JSON. */
function fieldsList(a: Account): string {
  const row = (label: string, value: string, id?: string) =>
    `<dt>${label}</dt><dd${id ? ` id="${id}"` : ''}>${value}</dd>`
  const text = (v: string | null) =>
    v === null ? '<span class="muted">none</span>' : escapeHtml(v)
  return `<div class="card"><dl class="fields">
${row('Internal id', `<code>${escapeHtml(a.id)}</code>`)}
${row('External id', `<code>${escapeHtml(a.external_id)}</code>`)}
${row('Username', text(a.username), 'field-username')}
${a.desired_username !== null ? row('Username the site asked for (held by another member)', text(a.desired_username)) : ''}
${row('Email', text(a.email), 'field-email')}
${a.desired_email !== null ? row('Email the site asked for (held by another member)', text(a.desired_email)) : ''}
${row('Email verified', a.email_verified ? 'yes' : 'no')}
${row('Nickname', text(a.nickname), 'field-nickname')}
${row('Given name', text(a.given_name))}
${row('Family name', text(a.family_name))}
${row('Picture', text(a.picture))}
${row('Rank', escapeHtml(a.rank), 'field-rank')}
${row('Title', text(a.title))}
${row('Locale', text(a.locale))}
${row('Time zone', text(a.timezone))}
${row('Status', escapeHtml(a.status))}
${row('Password set', a.has_password ? 'yes' : 'no')}
${row('Created', `<time datetime="${escapeHtml(a.created_at)}">${escapeHtml(a.created_at)}</time>`)}
${row('Updated', `<time datetime="${escapeHtml(a.updated_at)}">${escapeHtml(a.updated_at)}</time>`)}
</dl>
<p><strong>Profile</strong></p>
<pre id="field-profile">${escapeHtml(JSON.stringify(a.profile, null, 2))}</pre></div>`
}

/** Per integration: sign-ins, tokens/responses issued, refusals, the latest event. */
function perIntegration(events: EventRecord[]): string {
  if (events.length === 0)
    return '<p id="no-activity">No sign-in or token recorded for this member.</p>'
  const by = new Map<string, { signIns: number; issued: number; refused: number; last: string }>()
  for (const e of events) {
    const key = e.integration_id ?? ''
    const s = by.get(key) ?? { signIns: 0, issued: 0, refused: 0, last: e.at }
    if (e.result !== 'ok') s.refused++
    else if (SIGN_IN_KINDS.has(e.kind)) s.signIns++
    else if (ISSUE_KINDS.has(e.kind)) s.issued++
    if (e.at > s.last) s.last = e.at
    by.set(key, s)
  }
  const rows = [...by]
    .map(
      ([id, s]) => `<tr data-integration="${escapeHtml(id)}">
<th scope="row">${id ? `<a href="${escapeHtml(consolePath('integration', { id }))}">${escapeHtml(id)}</a>` : '<span class="muted">sso-bridge itself</span>'}</th>
<td class="sign-ins">${s.signIns}</td><td class="issued">${s.issued}</td><td>${s.refused}</td>
<td><time datetime="${escapeHtml(s.last)}">${escapeHtml(s.last)}</time></td></tr>`,
    )
    .join('')
  return `<div class="table-wrap" tabindex="0" role="region" aria-label="Sign-ins and tokens by integration">
<table id="per-integration">
<caption class="muted">From the member's latest ${events.length} events${events.length >= EVENTS_READ ? ` (older ones are in Activity)` : ''}.</caption>
<thead><tr><th scope="col">Integration</th><th scope="col">Sign-ins</th><th scope="col">Tokens and responses issued</th><th scope="col">Refused</th><th scope="col">Latest</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}

/** The latest events one by one. */
function recent(events: EventRecord[]): string {
  if (events.length === 0) return ''
  const rows = events
    .slice(0, EVENTS_LISTED)
    .map(
      (e) => `<tr><td><time datetime="${escapeHtml(e.at)}">${escapeHtml(e.at)}</time></td>
<td>${escapeHtml(e.door)}</td><td>${escapeHtml(e.kind)}</td><td>${escapeHtml(e.integration_id ?? '')}</td>
<td>${e.result === 'ok' ? '<span class="badge ok">ok</span>' : `<code>${escapeHtml(e.result)}</code>`}</td>
<td><code>${escapeHtml(e.request_id ?? '')}</code></td></tr>`,
    )
    .join('')
  return `<div class="table-wrap" tabindex="0" role="region" aria-label="Latest events">
<table id="recent-events">
<caption class="muted">Latest events</caption>
<thead><tr><th scope="col">When</th><th scope="col">Door</th><th scope="col">What</th><th scope="col">Integration</th><th scope="col">Result</th><th scope="col">Request id</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}

/** The delete confirmation: type the username (or external id) to confirm. */
function showDelete(
  req: Request,
  res: Response,
  deps: ConsolePageDeps,
  account: Account,
  error: string,
  status = 200,
): void {
  const { csrf } = consoleLocals(res)
  const word = confirmWord(account)
  const body = `${error ? `<div class="error" role="alert" data-code="validation_failed"><p>Not deleted: what you typed ${escapeHtml(error)}.</p><p><small>validation_failed</small></p></div>` : ''}
<form class="card" method="post" action="${escapeHtml(consolePath('memberDelete', { id: account.external_id }))}">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<p>This deletes the account <code>${escapeHtml(account.external_id)}</code> and everything sso-bridge holds for it: its sessions end everywhere, its OpenID Connect grants and tokens are revoked, and each platform forgets what it stored. It cannot be undone; the site can create the member again.</p>
<label for="confirm">Type <strong>${escapeHtml(word)}</strong> to confirm</label>
<input type="text" id="confirm" name="confirm" autocomplete="off" required${error ? ' aria-invalid="true" aria-describedby="confirm-error"' : ''}>
${error ? `<p class="field-error" id="confirm-error">Does not match.</p>` : ''}
<div class="actions"><button type="submit" class="danger">Delete member</button>
<a class="button secondary" href="${escapeHtml(consolePath('member', { id: account.external_id }))}">Cancel</a></div>
</form>`
  sendPage(req, res, deps.site, {
    title: `Delete ${word}?`,
    body: raw(body),
    status,
    current: CONSOLE_ROUTES.members,
  })
}
