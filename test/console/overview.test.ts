/**
 * The console's Overview (issue #14) on each store (SQLite and PostgreSQL): after real sign-ins
 * (the OIDC door's password form and code exchange), platform tokens issued and refused, the
 * page counts them per integration for the last 24 hours and 30 days, draws each window as an
 * SVG chart whose numbers are also text, lists each door's health and the latest refusals with
 * their codes. The store's grouped count is also checked with events of known times
 * (known-answer), the same on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/store/ids.ts'
import { createStore } from '../../src/store/index.ts'
import type { EventCount, EventRecord, Store } from '../../src/store/ports.ts'
import { ADMIN_TOKEN } from '../helpers/app.ts'
import { consoleAgent, type ConsoleAgent } from '../helpers/console.ts'
import {
  Browser,
  callbackParams,
  createAccount,
  isConsentPage,
  isLoginPage,
  PASSWORD,
  registerClient,
  startOidcServer,
  type OidcServer,
} from '../helpers/oidc.ts'
import { dropFreshSchemas, freshSchemaUrl, postgresUrl } from '../helpers/pg.ts'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { integrations } from '../tokens/helpers/fixtures.ts'

const CALLBACK = 'https://rp.example/cb'

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-overview-'))
  return createStore({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') })
}

async function postgresStore(): Promise<Store> {
  if (!postgresUrl()) throw new Error('PostgreSQL not available')
  const { url } = await freshSchemaUrl('sso_overview')
  return createStore({ kind: 'postgres', url, file: '' })
}

const STORES: [string, () => Promise<Store>][] = [
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
]

afterAll(() => dropFreshSchemas())

/** The numbers of one integration's row in one window's table (`day`: 24 h, `month`: 30 d). */
function rowCounts(html: string, window: 'day' | 'month', integration: string) {
  const table = new RegExp(`<table data-window="${window}">([\\s\\S]*?)</table>`).exec(html)?.[1]
  expect(table, `the ${window} table`).toBeDefined()
  const row = new RegExp(`<tr data-integration="${integration}">([\\s\\S]*?)</tr>`).exec(
    table!,
  )?.[1]
  if (!row) return null
  const cell = (series: string) =>
    Number(new RegExp(`data-series="${series}">(\\d+)<`).exec(row)?.[1] ?? NaN)
  return { sign_in: cell('sign_in'), token: cell('token'), failure: cell('failure'), row }
}

describe.each(STORES)('the Overview on %s', (_name, makeStore) => {
  let s: OidcServer
  let c: ConsoleAgent
  let html: string

  beforeAll(async () => {
    s = await startOidcServer({ store: await makeStore() })
    await createAccount(s, '1001', { username: 'robin', email: 'robin@example.test' })
    const { clientSecret } = await registerClient(s, 'rp', { redirect_uris: [CALLBACK] })
    expect((await s.admin('PUT', '/integrations/generic', integrations.generic)).status).toBe(201)

    // A real OIDC flow: the password form (sign_in), Allow, the code for tokens (oidc_token);
    // the same code again is refused (a failure for rp).
    const b = new Browser(s.issuer)
    let page = await b.go(
      `${s.issuer}/auth?${new URLSearchParams({ response_type: 'code', client_id: 'rp', redirect_uri: CALLBACK, scope: 'openid', state: 'st' })}`,
    )
    expect(isLoginPage(page)).toBe(true)
    page = await b.login(page, 'robin', PASSWORD)
    expect(isConsentPage(page)).toBe(true)
    page = await b.consent(page, 'allow')
    const code = callbackParams(page).get('code')!
    const exchange = () =>
      fetch(`${s.url}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: CALLBACK,
          client_id: 'rp',
          client_secret: clientSecret!,
        }),
      })
    expect((await exchange()).status).toBe(200)
    expect((await exchange()).status).toBe(400)

    // Platform tokens: two issued, one refused (no such member).
    const issue = (external_id: string) =>
      fetch(`${s.url}/api/v1/integrations/generic/tokens`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ external_id }),
      })
    expect((await issue('1001')).status).toBe(200)
    expect((await issue('1001')).status).toBe(200)
    expect((await issue('nobody')).status).toBe(404)

    // A refusal naming a client id no integration has: counted with the rest, not a row of its own.
    const madeUp = await fetch(`${s.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'made-up-client',
        client_secret: 'x',
      }),
    })
    expect(madeUp.status).toBe(401)

    c = await consoleAgent(s.t)
    const res = await c.agent.get('/console').expect(200)
    html = res.text
  })
  afterAll(() => s?.close())

  it('counts sign-ins, tokens issued and failures per integration, for 24 hours and 30 days', () => {
    for (const window of ['day', 'month'] as const) {
      expect(rowCounts(html, window, 'rp'), window).toMatchObject({
        sign_in: 1,
        token: 1,
        failure: 1,
      })
      expect(rowCounts(html, window, 'generic'), window).toMatchObject({
        sign_in: 0,
        token: 2,
        failure: 1,
      })
    }
    expect(rowCounts(html, 'day', 'made-up-client')).toBeNull()
    expect(rowCounts(html, 'day', '')).toMatchObject({ sign_in: 0, token: 0, failure: 1 })
    // The integrations link to their console pages.
    expect(html).toContain('<a href="/console/integrations/generic">generic</a>')
  })

  it('draws each window as an SVG chart with its numbers as text', () => {
    for (const id of ['day', 'month']) {
      const svg = new RegExp(`<svg class="chart-large"[^>]*aria-describedby="chart-${id}-table"`)
      expect(html).toMatch(svg)
      expect(html).toContain(`<table id="chart-${id}-table">`)
    }
    // 24 hourly and 30 daily rows in the text alternatives; the busiest bucket has all 7 events.
    const rows = (id: string) =>
      new RegExp(`<table id="chart-${id}-table">([\\s\\S]*?)</table>`)
        .exec(html)![1]!
        .match(/<tr><th scope="row">/g)!.length
    expect(rows('day')).toBe(24)
    expect(rows('month')).toBe(30)
    // The SVG carries no style attribute or script (the CSP forbids them).
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g)!
    expect(svgs.length).toBeGreaterThanOrEqual(2)
    for (const svg of svgs) expect(svg).not.toMatch(/style=|<script/i)
    // Each row's small chart says its numbers in its label: 24 per series, summing to the row's.
    const label = /<svg class="chart-small"[^>]*role="img" aria-label="([^"]*)"/.exec(
      rowCounts(html, 'day', 'generic')!.row,
    )![1]!
    expect(label).toMatch(/^Integration generic, per hour, oldest first\. /)
    const series = (name: string) =>
      new RegExp(`${name}: ([\\d ]+)\\.`).exec(label)![1]!.split(' ').map(Number)
    for (const [name, total] of [
      ['Sign-ins', 0],
      ['Tokens issued', 2],
      ['Failures', 1],
    ] as const) {
      expect(series(name)).toHaveLength(24)
      expect(
        series(name).reduce((a, b) => a + b, 0),
        name,
      ).toBe(total)
    }
  })

  it('shows each door healthy: the store answers and the keys are loaded', () => {
    const doors = /<h2 id="doors">[\s\S]*?<\/table>/.exec(html)![0]
    for (const door of [
      'OpenID Connect',
      'SAML 2.0',
      'Platform tokens',
      'Sign-in and hand-off',
      'Operator console',
    ])
      expect(doors).toMatch(
        new RegExp(`<th scope="row">${door}</th><td><span class="badge ok">OK</span>`),
      )
    expect(doors).toContain('answers, migrations current')
    expect(doors).toMatch(/signing key[s]? loaded/)
  })

  it('lists the latest refusals with their codes and request ids', () => {
    const errors = /<h2 id="errors">[\s\S]*?<\/table>/.exec(html)![0]
    expect(errors).toContain('<code>ERR_ACCOUNT_NOT_FOUND</code>')
    expect(errors).toContain('<code>ERR_OIDC_INVALID_GRANT</code>')
    expect(errors).toContain('<code>ERR_OIDC_INVALID_CLIENT</code>')
    expect(errors.match(/<tr data-event=/g)!.length).toBe(3)
  })
})

describe.each(STORES)('countEvents on %s (known answer)', (_name, makeStore) => {
  let store: Store
  beforeAll(async () => {
    store = await makeStore()
    // `chat` is an integration; `other` is an id no integration has (a refused request's, say).
    await store.putIntegration({
      id: 'chat',
      type: 'oidc',
      settings: {},
      secrets: {},
      mapping: null,
    })
    const at = (iso: string, kind: string, result = 'ok', integration: string | null = 'chat') =>
      ({
        id: newId(Date.parse(iso)),
        at: iso,
        door: 'oidc',
        kind,
        result,
        integration_id: integration,
        member_id: '1',
        request_id: null,
      }) satisfies EventRecord
    await store.appendEvents([
      at('2026-03-01T10:05:00.000Z', 'sign_in'),
      at('2026-03-01T10:59:59.999Z', 'ticket_redeemed'),
      at('2026-03-01T11:00:00.000Z', 'oidc_token'),
      at('2026-03-01T11:30:00.000Z', 'platform_token', 'ok', 'other'),
      at('2026-03-01T11:31:00.000Z', 'refused', 'ERR_TOKEN_INVALID', null),
      at('2026-03-01T11:32:00.000Z', 'logout'),
      at('2026-03-02T00:00:00.000Z', 'saml_response'),
      // Outside both windows' ends (exclusive `until`).
      at('2026-03-03T00:00:00.000Z', 'sign_in'),
    ])
  })
  afterAll(() => store?.close())

  const sorted = (rows: EventCount[]) =>
    [...rows].sort((a, b) =>
      `${a.bucket}${a.integration_id}${a.category}`.localeCompare(
        `${b.bucket}${b.integration_id}${b.category}`,
      ),
    )

  it('groups by hour', async () => {
    const rows = await store.countEvents({
      since: '2026-03-01T10:00:00.000Z',
      until: '2026-03-03T00:00:00.000Z',
      bucket: 'hour',
    })
    expect(sorted(rows)).toEqual(
      sorted([
        {
          bucket: '2026-03-01T10:00:00.000Z',
          integration_id: 'chat',
          category: 'sign_in',
          count: 2,
        },
        { bucket: '2026-03-01T11:00:00.000Z', integration_id: 'chat', category: 'token', count: 1 },
        {
          bucket: '2026-03-01T11:00:00.000Z',
          integration_id: null,
          category: 'token',
          count: 1,
        },
        { bucket: '2026-03-01T11:00:00.000Z', integration_id: null, category: 'failure', count: 1 },
        { bucket: '2026-03-02T00:00:00.000Z', integration_id: 'chat', category: 'token', count: 1 },
      ]),
    )
  })

  it('groups by day, the window start inclusive and its end exclusive', async () => {
    const rows = await store.countEvents({
      since: '2026-03-01T10:05:00.000Z',
      until: '2026-03-03T00:00:00.000Z',
      bucket: 'day',
    })
    expect(sorted(rows)).toEqual(
      sorted([
        {
          bucket: '2026-03-01T00:00:00.000Z',
          integration_id: 'chat',
          category: 'sign_in',
          count: 2,
        },
        { bucket: '2026-03-01T00:00:00.000Z', integration_id: 'chat', category: 'token', count: 1 },
        {
          bucket: '2026-03-01T00:00:00.000Z',
          integration_id: null,
          category: 'token',
          count: 1,
        },
        { bucket: '2026-03-01T00:00:00.000Z', integration_id: null, category: 'failure', count: 1 },
        { bucket: '2026-03-02T00:00:00.000Z', integration_id: 'chat', category: 'token', count: 1 },
      ]),
    )
  })
})
