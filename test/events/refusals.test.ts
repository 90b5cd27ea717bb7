/**
 * Refusals answered by the HTTP error handler are events too (issue #14), on each store: an
 * expired OIDC interaction, a token API body that is not JSON, a SAML request that is not one and
 * a redirect_uri the client never registered are each listed with their door, integration (when
 * the path names it), code and request id — once, whether the door recorded it or the handler
 * did — and neither the SAMLRequest nor the body reaches the table. The admin API's refusals are
 * no door's and are not recorded.
 *
 * The flood bound: under a fixed clock (so the sampling's minute cannot roll over mid-test,
 * whatever the machine's speed) a flood of identical refusals writes
 * REFUSALS_PER_KEY_PER_MINUTE rows, a flood of distinct ones no more than REFUSALS_PER_MINUTE in
 * all; the metrics still count every one, and the next minute writes again and logs how many
 * were not written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  REFUSALS_PER_KEY_PER_MINUTE,
  REFUSALS_PER_MINUTE,
  createEventLog,
} from '../../src/events/index.ts'
import { ADMIN_TOKEN } from '../helpers/app.ts'
import { registerClient, startOidcServer, type OidcServer } from '../helpers/oidc.ts'
import { dropFreshSchemas, postgresUrl } from '../helpers/pg.ts'
import { integrations } from '../tokens/helpers/fixtures.ts'
import { BACKENDS, sqliteBackend, type Backend } from './backends.ts'

const CALLBACK = 'https://rp.example/cb'
/** A SAMLRequest value that must never reach the table. */
const SAML_BODY = 'bm90LWEtc2FtbC1yZXF1ZXN0LXNlY3JldC1tYXJrZXI'
/** A token API body that must never reach the table. */
const TOKEN_BODY = '{"external_id": "body-secret-marker"'

afterAll(() => dropFreshSchemas())

describe.each(BACKENDS)('refusal events on %s', (name, makeBackend) => {
  let s: OidcServer
  let backend: Backend
  // The sampling's clock, moved by hand.
  let clock = Date.parse('2026-12-05T10:00:30Z')

  const rows = async () => {
    await s.t.services.events.flush()
    return (await backend.rawRows()) as Record<string, string | null>[]
  }
  const withRequest = async (id: string | null) => (await rows()).filter((r) => r.request_id === id)

  beforeAll(async () => {
    if (name === 'postgres' && !postgresUrl()) throw new Error('PostgreSQL not available')
    backend = await makeBackend()
    s = await startOidcServer({ store: backend.store, now: () => clock })
    await registerClient(s, 'rp', { redirect_uris: [CALLBACK] })
    expect((await s.admin('PUT', '/integrations/generic', integrations.generic)).status).toBe(201)
  })

  afterAll(async () => {
    await s?.close()
    await backend?.close()
  })

  it('records each refusal the error handler answers once, with its door, integration, code and request id, and nothing of the request', async () => {
    // An OIDC interaction that does not exist (oidc-provider's SessionNotFound, thrown in our route).
    const gone = await fetch(`${s.url}/interaction/no-such-uid`, {
      headers: { Accept: 'text/html' },
    })
    expect(gone.status).toBe(400)
    // A token API body that is not JSON (body-parser's error, before the route runs).
    const bad = await fetch(`${s.url}/api/v1/integrations/generic/tokens`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: TOKEN_BODY,
    })
    expect(bad.status).toBe(400)
    // A SAMLRequest that is not one: the SAML door records it, the handler answers it.
    const saml = await fetch(`${s.url}/saml/sso?SAMLRequest=${SAML_BODY}`, {
      headers: { Accept: 'text/html' },
    })
    expect(saml.status).toBe(400)
    // A redirect_uri the client never registered: oidc-provider's renderError, its own event.
    const auth = await fetch(
      `${s.url}/auth?${new URLSearchParams({ response_type: 'code', client_id: 'rp', scope: 'openid', redirect_uri: 'https://evil.example/cb' })}`,
      { headers: { Accept: 'text/html' }, redirect: 'manual' },
    )
    expect(auth.status).toBe(400)
    // The admin API's own refusal: no door's, not recorded.
    const admin = await fetch(`${s.url}/api/v1/events?door=nope`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    expect(admin.status).toBe(400)

    const one = async (res: Response) => {
      const found = await withRequest(res.headers.get('x-request-id'))
      expect(found, JSON.stringify(found)).toHaveLength(1)
      return found[0]!
    }
    expect(await one(gone)).toMatchObject({
      door: 'oidc',
      kind: 'refused',
      result: 'ERR_OIDC_INVALID_REQUEST',
      integration_id: null,
    })
    expect(await one(bad)).toMatchObject({
      door: 'tokens',
      kind: 'refused',
      result: 'ERR_INVALID_JSON',
      integration_id: 'generic',
    })
    expect(await one(saml)).toMatchObject({ door: 'saml', kind: 'refused' })
    expect((await one(saml)).result).toMatch(/^ERR_SAML_/)
    expect(await one(auth)).toMatchObject({
      door: 'oidc',
      kind: 'refused',
      result: 'ERR_OIDC_INVALID_REDIRECT_URI',
      integration_id: 'rp',
    })
    expect(await withRequest(admin.headers.get('x-request-id'))).toEqual([])

    const text = JSON.stringify(await rows())
    for (const marker of [SAML_BODY, 'body-secret-marker', 'evil.example', ADMIN_TOKEN])
      expect(text).not.toContain(marker)
  })

  it('a flood is sampled: identical refusals up to the per-key cap, all refusals up to the per-minute cap; metrics count every one; the next minute writes again', async () => {
    // A fresh minute for this test.
    clock = Date.parse('2026-12-05T10:01:10Z')
    const refused = async () => (await rows()).filter((r) => r.kind === 'refused').length
    const before = await refused()
    const unauthorized = (id: string) =>
      fetch(`${s.url}/api/v1/integrations/${id}/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"external_id":"x"}',
      }).then(async (res) => {
        await res.arrayBuffer()
        return res.status
      })
    const flood = async (ids: string[]) => {
      for (let i = 0; i < ids.length; i += 25)
        expect(new Set(await Promise.all(ids.slice(i, i + 25).map(unauthorized)))).toEqual(
          new Set([401]),
        )
    }
    const IDENTICAL = 200
    await flood(Array.from({ length: IDENTICAL }, () => 'generic'))
    const identical = (await rows()).filter(
      (r) => r.result === 'ERR_UNAUTHORIZED' && r.integration_id === 'generic',
    )
    expect(identical).toHaveLength(REFUSALS_PER_KEY_PER_MINUTE)
    expect(await refused()).toBe(before + REFUSALS_PER_KEY_PER_MINUTE)

    // Distinct keys (an attacker chooses the ids): the minute's total cap holds.
    await flood(Array.from({ length: REFUSALS_PER_MINUTE + 50 }, (_, i) => `made-up-${i}`))
    expect(await refused()).toBe(before + REFUSALS_PER_MINUTE)

    // Every refusal is still counted by the metrics.
    const metrics = await fetch(`${s.url}/metrics`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    const line = (await metrics.text())
      .split('\n')
      .find(
        (l) =>
          l.startsWith('sso_bridge_failures_total{') &&
          l.includes('door="tokens"') &&
          l.includes('integration="generic"') &&
          l.includes('code="ERR_UNAUTHORIZED"'),
      )
    expect(line, 'failures counter for the flood').toBeDefined()
    expect(Number(line!.split(' ').at(-1))).toBe(IDENTICAL)

    // The next minute: written again, and the last minute's sampling is logged with its count.
    clock += 60_000
    const logsBefore = s.t.logs.length
    expect(await unauthorized('generic')).toBe(401)
    expect(await refused()).toBe(before + REFUSALS_PER_MINUTE + 1)
    const sampled = s.t.logs.slice(logsBefore).filter((l) => l.code === 'EVENTS_REFUSALS_SAMPLED')
    expect(sampled).toHaveLength(1)
    expect(sampled[0]).toMatchObject({
      written: REFUSALS_PER_MINUTE,
      not_written: IDENTICAL + REFUSALS_PER_MINUTE + 50 - REFUSALS_PER_MINUTE,
    })
  })
})

describe('the event log on its own (SQLite)', () => {
  it('recordRefusal skips a request whose refusal the door recorded, and records one it did not', async () => {
    const backend = await sqliteBackend()
    const events = createEventLog({ store: backend.store, now: () => 0 })
    events.record({
      door: 'saml',
      kind: 'refused',
      result: 'ERR_SAML_MALFORMED',
      requestId: 'r1',
    })
    expect(
      events.recordRefusal({ door: 'saml', result: 'ERR_SAML_MALFORMED', requestId: 'r1' }),
    ).toBe(false)
    expect(events.recordRefusal({ door: 'oidc', result: 'ERR_CSRF_FAILED', requestId: 'r2' })).toBe(
      true,
    )
    await events.flush()
    const written = (await backend.rawRows()).map((r) => [r.request_id, r.door, r.result])
    expect(written.sort()).toEqual([
      ['r1', 'saml', 'ERR_SAML_MALFORMED'],
      ['r2', 'oidc', 'ERR_CSRF_FAILED'],
    ])
    await backend.store.close()
  })
})
