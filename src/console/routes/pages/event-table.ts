/**
 * @module console/routes/pages/event-table
 * Events as table rows, the same on the Overview (recent errors) and on Activity: time, door,
 * kind, result (the refusal's wire code and `ERR_*` code), integration and member (linked to
 * their console pages), request id. Every value is escaped: a refused request's ids come from
 * the client.
 */
import { hasCode, isBridgeErrorCode, replyFor } from '../../../errors/index.ts'
import type { Services } from '../../../services.ts'
import type { EventRecord } from '../../../store/ports.ts'
import { escapeHtml } from '../../../web/views.ts'
import { consolePath } from '../../paths.ts'

/** The header row of an event table. */
export const EVENT_TABLE_HEAD =
  '<tr><th scope="col">Time (UTC)</th><th scope="col">Door</th><th scope="col">What</th><th scope="col">Result</th><th scope="col">Integration</th><th scope="col">Member</th><th scope="col">Request id</th></tr>'

/** What each event kind is called on a page. */
export const KIND_LABELS: Record<string, string> = {
  sign_in: 'Sign-in',
  ticket_redeemed: 'Site ticket (hand-off)',
  oidc_token: 'OIDC token',
  saml_response: 'SAML response',
  platform_token: 'Platform token',
  logout: 'Sign-out',
  refused: 'Refusal',
}

/** What each door is called on a page. */
export const DOOR_LABELS: Record<string, string> = {
  oidc: 'OpenID Connect',
  saml: 'SAML',
  tokens: 'Platform tokens',
  ticket: 'Site tickets',
  login: 'Sign-in page',
}

/** An event's result as a page shows it: `ok`, or the wire code with the `ERR_*` code. */
function resultCell(result: string): string {
  if (result === 'ok') return '<span class="badge ok">ok</span>'
  const wire = isBridgeErrorCode(result) ? replyFor(result).error : result
  return `<span class="badge bad">${escapeHtml(wire)}</span> <small><code>${escapeHtml(result)}</code></small>`
}

/**
 * The rows of `events`, newest first as given.
 * @param members each member id's username where known (shown as the link text)
 */
export function eventRows(events: readonly EventRecord[], members: Record<string, string>): string {
  return events
    .map((e) => {
      const integration = e.integration_id
        ? `<a href="${escapeHtml(consolePath('integration', { id: e.integration_id }))}">${escapeHtml(e.integration_id)}</a>`
        : '<span class="muted">—</span>'
      const username = e.member_id ? members[e.member_id] : undefined
      const member = e.member_id
        ? `<a href="${escapeHtml(consolePath('member', { id: e.member_id }))}" data-member="${escapeHtml(e.member_id)}">${escapeHtml(username ?? e.member_id)}</a>${username !== undefined ? ` <small class="mono">${escapeHtml(e.member_id)}</small>` : ''}`
        : '<span class="muted">—</span>'
      return `<tr data-event="${escapeHtml(e.id)}"><td><time datetime="${escapeHtml(e.at)}">${escapeHtml(e.at.slice(0, 19).replace('T', ' '))}</time></td><td>${escapeHtml(DOOR_LABELS[e.door] ?? e.door)}</td><td>${escapeHtml(KIND_LABELS[e.kind] ?? e.kind)}</td><td>${resultCell(e.result)}</td><td>${integration}</td><td>${member}</td><td><code>${escapeHtml(e.request_id ?? '—')}</code></td></tr>`
    })
    .join('')
}

/**
 * The usernames of the members among `events`, by external id, read through the account
 * service; a member since deleted keeps only its id.
 */
export async function memberNames(
  accounts: Pick<Services['accounts'], 'get'>,
  events: readonly EventRecord[],
): Promise<Record<string, string>> {
  const ids = [...new Set(events.map((e) => e.member_id).filter((id) => id !== null))]
  const names: Record<string, string> = {}
  await Promise.all(
    ids.map(async (id) => {
      try {
        const account = await accounts.get(id)
        if (account.username) names[id] = account.username
      } catch (err) {
        if (!hasCode(err, 'ERR_ACCOUNT_NOT_FOUND')) throw err
      }
    }),
  )
  return names
}
