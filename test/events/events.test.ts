/**
 * Events (issue #14) on the real server over each store (SQLite and PostgreSQL): a real OIDC
 * flow, a real SAML flow (node-saml as the SP), a platform token issued and refused, and a
 * refused site ticket are each listed by GET /api/v1/events with their codes; the filters and
 * the cursor work; retention prunes; no secret reaches the raw table.
 */
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pruneEvents } from '../../src/events/index.ts'
import { newId } from '../../src/store/ids.ts'
import type { EventRecord } from '../../src/store/ports.ts'
import { ADMIN_TOKEN } from '../helpers/app.ts'
import {
  Browser,
  callbackParams,
  createAccount,
  isConsentPage,
  isLoginPage,
  PASSWORD,
  registerClient,
  startOidcServer,
} from '../helpers/oidc.ts'
import { dropFreshSchemas, postgresUrl } from '../helpers/pg.ts'
import { BACKENDS, type Backend } from './backends.ts'
import { autoPost, nodeSamlSp, registerSp, signIn, type SamlServer } from '../saml/helpers.ts'
import { GENERIC_SECRET, integrations } from '../tokens/helpers/fixtures.ts'

const CALLBACK = 'https://rp.example/cb'
const TICKET_SECRET = 'site-ticket-secret-0123456789abcdef0123456789'

afterAll(() => dropFreshSchemas())

describe.each(BACKENDS)('events on %s', (name, makeBackend) => {
  let s: SamlServer
  let backend: Backend
  let clientSecret: string
  const secrets: string[] = [PASSWORD, ADMIN_TOKEN, GENERIC_SECRET, TICKET_SECRET]
  const requestIds: Record<string, string> = {}

  const events = async (query = '') => {
    const res = await fetch(`${s.url}/api/v1/events${query}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    return { status: res.status, body: (await res.json()) as any }
  }

  beforeAll(async () => {
    if (name === 'postgres' && !postgresUrl()) throw new Error('PostgreSQL not available')
    backend = await makeBackend()
    const o = await startOidcServer({
      store: backend.store,
      siteTicket: { secret: TICKET_SECRET, origins: [] },
    })
    s = {
      ...o,
      idpEntityId: `${o.issuer}/saml/metadata`,
      ssoUrl: `${o.issuer}/saml/sso`,
      sloUrl: `${o.issuer}/saml/slo`,
    }
    await createAccount(s, '1001', { username: 'robin', email: 'robin@example.test' })
    clientSecret = (await registerClient(s, 'rp', { redirect_uris: [CALLBACK] })).clientSecret!
    secrets.push(clientSecret)
    await registerSp(s, 'sp')
    expect((await s.admin('PUT', '/integrations/generic', integrations.generic)).status).toBe(201)

    // 1. A real OIDC flow: sign in with the password, allow, code for tokens.
    const b = new Browser(s.issuer)
    let page = await b.go(
      `${s.issuer}/auth?${new URLSearchParams({ response_type: 'code', client_id: 'rp', redirect_uri: CALLBACK, scope: 'openid', state: 'st' })}`,
    )
    expect(isLoginPage(page)).toBe(true)
    page = await b.login(page, 'robin', PASSWORD)
    expect(isConsentPage(page)).toBe(true)
    page = await b.consent(page, 'allow')
    const code = callbackParams(page).get('code')!
    secrets.push(code)
    const token = await fetch(`${s.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        client_id: 'rp',
        client_secret: clientSecret,
      }),
    })
    const tokens = (await token.json()) as { access_token: string; id_token: string }
    expect(token.status).toBe(200)
    requestIds.oidc = token.headers.get('x-request-id')!
    secrets.push(tokens.access_token, tokens.id_token)
    // The same code again: refused (invalid_grant).
    const again = await fetch(`${s.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        client_id: 'rp',
        client_secret: clientSecret,
      }),
    })
    expect(again.status).toBe(400)

    // 2. A real SAML flow: node-saml's AuthnRequest, sign in at /login, the Response it accepts.
    const sp = nodeSamlSp(s)
    const sb = new Browser(s.issuer)
    const post = autoPost(
      await signIn(sb, await sb.go(await sp.getAuthorizeUrlAsync('r', undefined, {}))),
    )
    secrets.push(post.fields.SAMLResponse!)
    expect((await sp.validatePostResponseAsync(post.fields)).profile?.uid).toBe('1001')

    // 3. A platform token issued, and one refused (no such member).
    const issue = async (external_id: string) =>
      fetch(`${s.url}/api/v1/integrations/generic/tokens`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ external_id }),
      })
    const issued = await issue('1001')
    expect(issued.status).toBe(200)
    requestIds.token = issued.headers.get('x-request-id')!
    secrets.push(((await issued.json()) as { token: string }).token)
    expect((await issue('nobody')).status).toBe(404)

    // 4. A refused site ticket.
    const ticket = 'not.a.ticket'
    const refused = await fetch(`${s.url}/ticket?ticket=${ticket}&return_to=/`)
    expect(refused.status).toBe(400)
    requestIds.ticket = refused.headers.get('x-request-id')!

    // 5. The site signs the member out with a logout ticket (HS256, the site's secret).
    const logoutTicket = await new SignJWT({
      aud: `${s.issuer}/logout`,
      external_id: '1001',
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(TICKET_SECRET))
    secrets.push(logoutTicket)
    const out = await fetch(`${s.url}/logout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ticket: logoutTicket }),
    })
    expect(out.status).toBe(204)

    secrets.push(
      ...[...b.setCookies, ...sb.setCookies].map((c) => c.value).filter((v) => v.length > 5),
    )
  })

  afterAll(async () => {
    await s?.close()
    await backend?.close()
  })

  it('lists every door’s work newest first, with its kind, result code, integration, member and request id', async () => {
    const { status, body } = await events()
    expect(status).toBe(200)
    const items = body.items as EventRecord[]
    const shape = items.map((e) => [e.door, e.kind, e.result, e.integration_id, e.member_id])
    // Oldest first here, to read in the order things were done.
    expect(shape.reverse()).toEqual([
      ['oidc', 'sign_in', 'ok', 'rp', '1001'],
      ['oidc', 'oidc_token', 'ok', 'rp', '1001'],
      ['oidc', 'refused', 'ERR_OIDC_INVALID_GRANT', 'rp', null],
      ['login', 'sign_in', 'ok', null, '1001'],
      ['saml', 'saml_response', 'ok', 'sp', '1001'],
      ['tokens', 'platform_token', 'ok', 'generic', '1001'],
      ['tokens', 'refused', 'ERR_ACCOUNT_NOT_FOUND', 'generic', 'nobody'],
      ['ticket', 'refused', 'ERR_TICKET_INVALID', null, null],
      ['ticket', 'logout', 'ok', null, '1001'],
    ])
    expect(body.next_cursor).toBeNull()
    const ids = items.map((e) => e.id)
    expect([...ids].sort().reverse()).toEqual(ids) // newest first: ids descend
    const byKind = (kind: string) => items.find((e) => e.kind === kind)!
    expect(byKind('oidc_token').request_id).toBe(requestIds.oidc)
    expect(byKind('platform_token').request_id).toBe(requestIds.token)
    expect(items.find((e) => e.door === 'ticket' && e.kind === 'refused')!.request_id).toBe(
      requestIds.ticket,
    )
    for (const e of items) expect(Date.parse(e.at)).not.toBeNaN()
  })

  it('filters by door, integration, member, result and time, and pages with the cursor', async () => {
    const kinds = async (q: string) =>
      ((await events(q)).body.items as EventRecord[]).map((e) => e.kind).reverse()
    expect(await kinds('?door=saml')).toEqual(['saml_response'])
    expect(await kinds('?integration=rp')).toEqual(['sign_in', 'oidc_token', 'refused'])
    expect(await kinds('?member=1001&door=oidc')).toEqual(['sign_in', 'oidc_token'])
    expect(await kinds('?result=ERR_TICKET_INVALID')).toEqual(['refused'])
    expect(await kinds('?until=2000-01-01T00:00:00Z')).toEqual([])
    const all = (await events()).body.items as EventRecord[]
    const middle = all[3]!.at
    expect(
      (await events(`?since=${encodeURIComponent(middle)}`)).body.items.length,
    ).toBeGreaterThanOrEqual(4)

    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const { status, body } = await events(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      expect(status).toBe(200)
      expect(body.items.length).toBeLessThanOrEqual(3)
      seen.push(...body.items.map((e: EventRecord) => e.id))
      cursor = body.next_cursor
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toEqual(all.map((e) => e.id))
  })

  it('bad filters answer 400 validation_failed naming the filter, and change nothing', async () => {
    const before = (await events()).body.items.length
    for (const [q, path] of [
      ['?door=nope', 'door'],
      ['?limit=0', 'limit'],
      ['?limit=501', 'limit'],
      ['?limit=abc', 'limit'],
      ['?since=yesterday', 'since'],
      ['?until=2026-13-99', 'until'],
      ['?result=bogus', 'result'],
      ['?cursor=xyz', 'cursor'],
      ['?door=oidc&door=saml', 'door'],
      [`?member=${'x'.repeat(201)}`, 'member'],
    ] as const) {
      const { status, body } = await events(q)
      expect(status, q).toBe(400)
      expect(body.error, q).toBe('validation_failed')
      expect(
        body.details.issues.map((i: { path: string }) => i.path),
        q,
      ).toContain(path)
    }
    expect((await events()).body.items.length).toBe(before)
    const noAuth = await fetch(`${s.url}/api/v1/events`)
    expect(noAuth.status).toBe(401)
  })

  it('no secret, token, password, code or cookie is in any row of the raw table', async () => {
    const rows = await backend.rawRows()
    expect(rows.length).toBeGreaterThanOrEqual(9)
    const text = JSON.stringify(rows)
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(5)
      expect(text).not.toContain(secret)
    }
    expect(Object.keys(rows[0]!).sort()).toEqual(
      ['at', 'door', 'id', 'integration_id', 'kind', 'member_id', 'request_id', 'result'].sort(),
    )
  })

  it('retention prunes what is older than the limit and keeps the rest', async () => {
    const DAY = 86_400_000
    const now = Date.now()
    const old = (days: number): EventRecord => ({
      id: newId(now - days * DAY),
      at: new Date(now - days * DAY).toISOString(),
      door: 'tokens',
      kind: 'platform_token',
      result: 'ok',
      integration_id: 'generic',
      member_id: 'old',
      request_id: null,
    })
    await backend.store.appendEvents([old(120), old(91), old(89)])
    const count = async () => (await events('?member=old')).body.items.length
    expect(await count()).toBe(3)
    const before = (await events()).body.items.length
    expect(await pruneEvents(backend.store, 90 * DAY, now)).toBe(2)
    expect(await count()).toBe(1)
    expect((await events()).body.items.length).toBe(before - 2)
    // Nothing more to prune: a second run (another instance) removes nothing.
    expect(await pruneEvents(backend.store, 90 * DAY, now)).toBe(0)
  })
})
