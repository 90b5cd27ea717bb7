/**
 * @module console/routes/pages/member-pick
 * "Pick a member" for the Test page and the mapping editor: one field that takes a username, an
 * email or an external id (a GET form, so it works without JavaScript), resolved by the rules a
 * member's own sign-in uses, so the operator finds exactly the account that member would be.
 */
import type { Account } from '../../../accounts/types.ts'
import { hasCode } from '../../../errors/index.ts'
import type { Services } from '../../../services.ts'
import { escapeHtml } from '../../../web/views.ts'

/** The longest text the field takes (an email is at most 254). */
const MAX_QUERY = 320

/**
 * The account `query` names: its external id first, then (as at sign-in) its email or username.
 * Null when none does, or the query is empty or too long.
 */
export async function findMember(services: Services, query: string): Promise<Account | null> {
  const q = query.trim()
  if (q === '' || q.length > MAX_QUERY) return null
  try {
    return await services.accounts.get(q)
  } catch (err) {
    if (!hasCode(err, 'ERR_ACCOUNT_NOT_FOUND')) throw err
  }
  const { accountId } = await services.accounts.resolveSignIn(q)
  return accountId ? services.accounts.getById(accountId) : null
}

/** The query parameter or form field `member`, as one string (absent, repeated or odd: ''). */
export const memberQuery = (value: unknown): string => (typeof value === 'string' ? value : '')

/**
 * The member field as a GET form to `action` (the page itself); `notFound` shows the refusal at
 * the field.
 */
export function memberForm(action: string, query: string, notFound: boolean): string {
  const error = notFound
    ? `<p class="field-error" id="member-error" data-code="user_not_found">No member has that username, email or external id.</p>`
    : ''
  return `<form method="get" action="${escapeHtml(action)}" class="card" role="search">
<label for="member">Member<span class="hint">Username, email or external id</span></label>
<input type="search" id="member" name="member" value="${escapeHtml(query)}" maxlength="${MAX_QUERY}" autocomplete="off"${notFound ? ' aria-invalid="true" aria-describedby="member-error"' : ''}>
${error}<div class="actions"><button type="submit" class="primary">Show</button></div>
</form>`
}

/** How the pages name a member: username (external id). */
export const memberLabel = (a: Account): string =>
  a.username ? `${a.username} (${a.external_id})` : a.external_id
