/**
 * @module console/routes/pages/overview
 * `GET /console`: the Overview (issue #14). Each door and its health — what `/readyz` checks
 * (the store answers, its migrations are current: store/readiness.ts) and the keys the door
 * signs with, through the `doorFacts` hook; sign-ins, tokens issued and failures per integration
 * over the last 24 hours (hourly) and 30 days (daily), each view one grouped query
 * (`services.events.counts`), drawn as server-side SVG with its numbers as text (chart.ts); and
 * the latest refusals with their codes.
 */
import { Router } from 'express'
import { replyFor } from '../../../errors/index.ts'
import type { Services } from '../../../services.ts'
import type { EventCount, EventCountQuery } from '../../../store/ports.ts'
import { checkReadiness, type Readiness } from '../../../store/readiness.ts'
import { noStore } from '../../../web/no-store.ts'
import { escapeHtml, raw, render } from '../../../web/views.ts'
import { CONSOLE_ROUTES, consolePath } from '../../paths.ts'
import { consoleLocals, sendPage, type ConsolePage, type DoorFacts } from '../page.ts'
import { chartWithTable, noCounts, SERIES, sparkChart, type Bucket } from './chart.ts'
import { eventRows, EVENT_TABLE_HEAD, memberNames } from './event-table.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** How many refusals "Recent errors" lists. */
const RECENT_ERRORS = 10

/** The overview's page. */
export const overviewPage: ConsolePage = {
  nav: { label: 'Overview', path: CONSOLE_ROUTES.home, order: 0 },
  routes({ site, services, hooks }) {
    const router = Router()
    router.get(CONSOLE_ROUTES.home, noStore, async (req, res) => {
      const now = Date.now()
      // The current hour and today are included: the windows end at the next boundary.
      const hourEnd = Math.floor(now / HOUR) * HOUR + HOUR
      const dayEnd = Math.floor(now / DAY) * DAY + DAY
      const hours: EventCountQuery = {
        since: new Date(hourEnd - 24 * HOUR).toISOString(),
        until: new Date(hourEnd).toISOString(),
        bucket: 'hour',
      }
      const days: EventCountQuery = {
        since: new Date(dayEnd - 30 * DAY).toISOString(),
        until: new Date(dayEnd).toISOString(),
        bucket: 'day',
      }
      const [readiness, integrations, operators, hourly, daily, errors] = await Promise.all([
        checkReadiness(services.store),
        services.integrations.list(),
        services.operators.list(),
        services.events.counts(hours),
        services.events.counts(days),
        services.events.list({ kind: 'refused', limit: String(RECENT_ERRORS) }),
      ])
      const body = [
        render('console-home', { name: consoleLocals(res).operator.name }),
        '<h2 id="doors">Doors</h2>',
        doorsTable(readiness, hooks.doorFacts?.(), services, {
          byType: countBy(integrations.map((i) => i.type)),
          operators: operators.length,
        }),
        view('day', 'Last 24 hours', 'hour', 'Hour (UTC)', hourly, hours, HOUR, 24),
        view('month', 'Last 30 days', 'day', 'Day (UTC)', daily, days, DAY, 30),
        '<h2 id="errors">Recent errors</h2>',
        errors.items.length === 0
          ? '<p>No refusals recorded.</p>'
          : `<div class="table-wrap" tabindex="0" role="region" aria-labelledby="errors"><table><thead>${EVENT_TABLE_HEAD}</thead><tbody>${eventRows(errors.items, await memberNames(services.accounts, errors.items))}</tbody></table></div>
<p><a href="${CONSOLE_ROUTES.activity}?kind=refused">Every refusal in Activity</a></p>`,
      ].join('\n')
      sendPage(req, res, site, { title: 'Overview', body: raw(body) })
    })
    return router
  },
}

const countBy = (keys: string[]) => {
  const m = new Map<string, number>()
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1)
  return m
}

/** Which door serves an integration type: OIDC, SAML, or the token door for every other. */
const doorOfType = (type: string) =>
  type === 'oidc' ? 'oidc' : type === 'saml' ? 'saml' : 'tokens'

/** One door's row: its name, a badge, and what was checked. */
function doorRow(name: string, ok: boolean, checks: string[]): string {
  return `<tr><th scope="row">${escapeHtml(name)}</th><td><span class="badge ${ok ? 'ok' : 'bad'}">${ok ? 'OK' : 'Not ready'}</span></td><td><ul class="checks">${checks.map((c) => `<li>${c}</li>`).join('')}</ul></td></tr>`
}

function doorsTable(
  readiness: Readiness,
  facts: DoorFacts | undefined,
  services: Services,
  counts: { byType: Map<string, number>; operators: number },
): string {
  const storeOk = readiness.ready
  const store = storeOk
    ? `Store (${escapeHtml(services.store.kind)}) answers, migrations current`
    : `Store: <strong>${escapeHtml(replyFor(readiness.code).error)}</strong> <small>(${escapeHtml(readiness.code)})</small>`
  const integrationsOf = (door: string) => {
    let n = 0
    for (const [type, c] of counts.byType) if (doorOfType(type) === door) n += c
    return `${n} integration${n === 1 ? '' : 's'}`
  }
  const oidcKeys = facts?.oidcSigningKeys ?? []
  const samlCert = facts?.samlCertificate ?? null
  const sealKeys = services.secrets.keyIds.length
  const rows = [
    doorRow('OpenID Connect', storeOk && oidcKeys.length > 0, [
      store,
      oidcKeys.length > 0
        ? `${oidcKeys.length} signing key${oidcKeys.length === 1 ? '' : 's'} loaded (${escapeHtml([...new Set(oidcKeys.map((k) => k.alg))].join(', '))}); signs with <code>${escapeHtml(oidcKeys[0]!.kid)}</code>`
        : '<strong>No signing key loaded</strong>',
      integrationsOf('oidc'),
    ]),
    doorRow('SAML 2.0', storeOk && samlCert !== null, [
      store,
      samlCert
        ? `Signing certificate loaded (SHA-256 <code>${escapeHtml(samlCert.fingerprintSha256)}</code>, made ${escapeHtml(samlCert.createdAt)})`
        : '<strong>No signing certificate loaded</strong>',
      integrationsOf('saml'),
    ]),
    doorRow('Platform tokens', storeOk && sealKeys > 0, [
      store,
      `${sealKeys} secrets-at-rest key${sealKeys === 1 ? '' : 's'} loaded (first seals: <code>${escapeHtml(services.secrets.keyIds[0] ?? '—')}</code>)`,
      integrationsOf('tokens'),
    ]),
    doorRow('Sign-in and hand-off', storeOk, [
      store,
      facts?.siteLoginUrl
        ? `Hands off to the site: <code>${escapeHtml(facts.siteLoginUrl)}</code>; password form ${facts.passwordSignIn ? 'on' : 'off'}`
        : 'Password form (no SITE_LOGIN_URL)',
      facts?.siteTickets ? 'Site tickets accepted' : 'Site tickets off (no key)',
    ]),
    doorRow('Operator console', storeOk, [
      store,
      `${counts.operators} operator${counts.operators === 1 ? '' : 's'}`,
      facts?.requireTotp ? 'TOTP required' : 'TOTP optional',
    ]),
  ]
  return `<div class="table-wrap" tabindex="0" role="region" aria-labelledby="doors"><table><thead><tr><th scope="col">Door</th><th scope="col" class="nowrap">Health</th><th scope="col">Checked</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
}

/** The buckets of one window, oldest first, each with zero counts. */
function emptyBuckets(query: EventCountQuery, step: number, n: number): Map<string, Bucket> {
  const start = Date.parse(query.since)
  const m = new Map<string, Bucket>()
  for (let i = 0; i < n; i++) {
    const iso = new Date(start + i * step).toISOString()
    m.set(iso, {
      label:
        query.bucket === 'hour' ? iso.slice(0, 13).replace('T', ' ') + ':00' : iso.slice(0, 10),
      counts: noCounts(),
    })
  }
  return m
}

/** One window: its chart of every integration, then a row per integration with its own. */
function view(
  id: string,
  title: string,
  unit: string,
  bucketHeader: string,
  counts: EventCount[],
  query: EventCountQuery,
  step: number,
  n: number,
): string {
  const all = emptyBuckets(query, step, n)
  const per = new Map<string, Map<string, Bucket>>()
  for (const c of counts) {
    const key = c.integration_id ?? ''
    if (!per.has(key)) per.set(key, emptyBuckets(query, step, n))
    const bucket = per.get(key)!.get(c.bucket)
    const total = all.get(c.bucket)
    // A bucket outside the window cannot come back from the query; guard anyway.
    if (!bucket || !total) continue
    bucket.counts[c.category] += c.count
    total.counts[c.category] += c.count
  }
  const sum = (m: Map<string, Bucket>) => {
    const s = noCounts()
    for (const b of m.values()) for (const k of SERIES) s[k.key] += b.counts[k.key]
    return s
  }
  const totals = sum(all)
  const rows = [...per.entries()]
    .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
    .map(([integration, buckets]) => {
      const s = sum(buckets)
      const name =
        integration === ''
          ? '<span class="muted">None, or not an integration</span>'
          : `<a href="${escapeHtml(consolePath('integration', { id: integration }))}">${escapeHtml(integration)}</a>`
      return `<tr data-integration="${escapeHtml(integration)}"><th scope="row">${name}</th>${SERIES.map((k) => `<td data-series="${k.key}">${s[k.key]}</td>`).join('')}<td>${sparkChart(integration === '' ? 'None, or not an integration' : `Integration ${integration}`, unit, [...buckets.values()])}</td></tr>`
    })
  return `<h2 id="${id}">${escapeHtml(title)}</h2>
<p class="totals" data-window="${id}">${SERIES.map((k) => `<span data-series="${k.key}">${escapeHtml(k.label)}: <strong>${totals[k.key]}</strong></span>`).join(' · ')}</p>
${chartWithTable(`chart-${id}`, `${title}, every integration, per ${unit}`, bucketHeader, [...all.values()])}
${
  rows.length === 0
    ? '<p>Nothing recorded in this window.</p>'
    : `<div class="table-wrap" tabindex="0" role="region" aria-label="${escapeHtml(`${title} per integration`)}"><table data-window="${id}"><thead><tr><th scope="col">Integration</th>${SERIES.map((k) => `<th scope="col">${escapeHtml(k.label)}</th>`).join('')}<th scope="col">Per ${escapeHtml(unit)}</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
}`
}
