/**
 * The console's Audit page (issue #14) on each store (SQLite and PostgreSQL): configuration
 * changes made with the admin token, from the CLI and by an operator are listed with their
 * actors and what they changed (names, never a value), beside the conflict resolutions and the
 * operators' own sign-ins, newest first; the filters narrow; the cursor pages through once; bad
 * filters answer 400 at the field.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { operatorActor } from '../../src/operators/service.ts'
import { createStore } from '../../src/store/index.ts'
import type { Store } from '../../src/store/ports.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { cliSandbox } from '../helpers/cli.ts'
import { consoleAgent, type ConsoleAgent } from '../helpers/console.ts'
import { dropFreshSchemas, freshSchemaUrl, postgresUrl } from '../helpers/pg.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

/** A secret value given inline: it must never be shown. */
const SECRET = 'inline-client-secret-0123456789abcdef-do-not-show'

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-audit-'))
  return createStore({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') })
}
async function postgresStore(): Promise<Store> {
  if (!postgresUrl()) throw new Error('PostgreSQL not available')
  const { url } = await freshSchemaUrl('sso_audit')
  return createStore({ kind: 'postgres', url, file: '' })
}
const STORES: [string, () => Promise<Store>][] = [
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
]
afterAll(() => dropFreshSchemas())

const rowsOf = (html: string) => html.match(/<tr data-entry="[^"]+"[\s\S]*?<\/tr>/g) ?? []
const actionsOf = (html: string) =>
  rowsOf(html).map((r) => /<td><code>([a-z_]+)<\/code><\/td>/.exec(r)![1]!)

describe.each(STORES)('Audit on %s', (_name, makeStore) => {
  let t: TestApp
  let c: ConsoleAgent
  let html: string

  beforeAll(async () => {
    t = makeTestApp({
      store: await makeStore(),
      conflicts: { username: 'suffix', email: 'reject' },
    })
    const api = request(t.app)
    // With the admin token: created, updated (a setting and the secret), deleted.
    const body = { type: 'oidc', settings: { redirect_uris: ['https://chat.example/cb'] } }
    await api.put('/api/v1/integrations/chat').set(auth).send(body).expect(201)
    await api
      .put('/api/v1/integrations/chat')
      .set(auth)
      .send({
        ...body,
        settings: { redirect_uris: ['https://chat.example/cb2'] },
        secrets: { client_secret: SECRET },
      })
      .expect(200)
    await api.delete('/api/v1/integrations/chat').set(auth).expect(204)
    // A conflict resolved by the suffix rule (the accounts' own audit log).
    await api.put('/api/v1/users/1').set(auth).send({ username: 'sam' }).expect(201)
    await api.put('/api/v1/users/2').set(auth).send({ username: 'sam' }).expect(201)
    // The operator signs in (the operator log), then changes an integration as the console's
    // pages do: through the same service, with the operator as the actor.
    c = await consoleAgent(t, 'alice')
    await t.services.integrations.put('forum', body, { actor: operatorActor('alice') })
    // What a build before this one also wrote for that change (a mirror in the operator log),
    // and a record only the operator log has (the Test page's "send for real").
    await t.services.store.appendOperatorAudit({
      actor: operatorActor('alice'),
      action: 'integration_updated',
      target: 'integration:forum',
    })
    await t.services.store.appendOperatorAudit({
      actor: operatorActor('alice'),
      action: 'integration_test_sent',
      target: 'integration:forum',
    })
    html = (await c.agent.get('/console/audit').expect(200)).text
  })
  afterAll(() => t?.close())

  it('lists each change with its actor, newest first, across the three logs', () => {
    const rows = rowsOf(html)
    const find = (action: string, target: string) =>
      rows.find((r) => r.includes(`<code>${action}</code>`) && r.includes(`<code>${target}</code>`))
    expect(find('integration_created', 'integration:forum')).toContain(
      '<td class="actor"><code>operator:alice</code></td>',
    )
    for (const action of ['integration_created', 'integration_updated', 'integration_deleted'])
      expect(find(action, 'integration:chat'), action).toContain(
        '<td class="actor"><code>admin-api</code></td>',
      )
    expect(find('console_sign_in', 'operator:alice')).toContain('<code>operator:alice</code>')
    expect(find('conflict_resolved', 'account:2')).toContain('<code>admin-api</code>')
    // Newest first: the operator's test send, its change, its sign-in, its creation (by the
    // test, as the CLI would), the conflict, ... the first admin change last. The operator's
    // change is listed once (the configuration log's entry, with the operator as actor): the
    // mirror an older build wrote to the operator log is left out, the test send is kept.
    expect(actionsOf(html)).toEqual([
      'integration_test_sent',
      'integration_created',
      'console_sign_in',
      'operator_added',
      'conflict_resolved',
      'integration_deleted',
      'integration_updated',
      'integration_created',
    ])
  })

  it('says what a change changed, by name, never a value', () => {
    const updated = rowsOf(html).find((r) => r.includes('<code>integration_updated</code>'))!
    expect(updated).toContain('<dt>settings</dt><dd>redirect_uris</dd>')
    expect(updated).toContain('<dt>secrets</dt><dd>client_secret: inline</dd>')
    expect(html).not.toContain(SECRET)
    expect(html).not.toContain('chat.example/cb2')
    // The conflict's detail: the field, the rule and the values it resolved.
    const conflict = rowsOf(html).find((r) => r.includes('<code>conflict_resolved</code>'))!
    expect(conflict).toContain('<dt>policy</dt><dd>suffix</dd>')
    expect(conflict).toContain('<dt>requested_value</dt><dd>sam</dd>')
    // Targets link to their console pages.
    expect(conflict).toContain('<a href="/console/members/2"><code>account:2</code></a>')
  })

  it('filters by log, actor, action, target and time', async () => {
    const get = async (q: string) =>
      actionsOf((await c.agent.get(`/console/audit?${q}`).expect(200)).text)
    expect(await get('source=config')).toEqual([
      'integration_created',
      'integration_deleted',
      'integration_updated',
      'integration_created',
    ])
    expect(await get('source=operator')).toEqual([
      'integration_test_sent',
      'console_sign_in',
      'operator_added',
    ])
    expect(await get('source=conflict')).toEqual(['conflict_resolved'])
    expect(await get('actor=operator%3Aalice')).toEqual([
      'integration_test_sent',
      'integration_created',
      'console_sign_in',
    ])
    expect(await get('target=integration%3Aforum')).toEqual([
      'integration_test_sent',
      'integration_created',
    ])
    expect(await get('action=integration_deleted')).toEqual(['integration_deleted'])
    expect(await get('target=integration%3Achat')).toEqual([
      'integration_deleted',
      'integration_updated',
      'integration_created',
    ])
    // A conflict is found by either account: the incoming one and the holder.
    expect(await get('target=account%3A1')).toEqual(['conflict_resolved'])
    expect(await get('since=2999-01-01T00:00')).toEqual([])
    expect(await get('until=2000-01-01T00:00')).toEqual([])
  })

  it('answers bad filters with 400 at the field', async () => {
    const res = await c.agent.get('/console/audit?source=everything&since=soon').expect(400)
    expect(res.text).toContain('data-code="validation_failed"')
    expect(res.text).toContain('id="f-source-error"')
    expect(res.text).toContain('id="f-since-error"')
    expect(rowsOf(res.text)).toEqual([])
    await c.agent.get('/console/audit?cursor=nope').expect(400)
  })

  it('pages through every entry once by the cursor', async () => {
    for (let i = 0; i < 55; i++)
      await t.services.integrations.put(
        `bulk-${i}`,
        {
          type: 'oidc',
          settings: { redirect_uris: ['https://bulk.example/cb'] },
        },
        { actor: 'cli' },
      )
    const all = (await t.services.audit.list({ limit: '500' })).items.map((e) => e.id)
    expect(all.length).toBe(63)
    const seen: string[] = []
    let url: string | null = '/console/audit'
    while (url) {
      const page: string = (await c.agent.get(url).expect(200)).text
      seen.push(...rowsOf(page).map((r) => /data-entry="([^"]+)"/.exec(r)![1]!))
      url = /rel="next" href="([^"]+)"/.exec(page)?.[1]?.replaceAll('&amp;', '&') ?? null
    }
    expect(seen).toEqual(all)
  })

  it('is behind the console sign-in', async () => {
    const res = await request(t.app).get('/console/audit').expect(303)
    expect(res.headers.location).toBe('/console/login')
  })
})

describe('a change made from the CLI', () => {
  it(
    'is listed with the actor cli',
    async () => {
      const { dir, cli } = await cliSandbox()
      const put = await cli([
        'integrations',
        'put',
        'from-cli',
        '--data',
        JSON.stringify({ type: 'oidc', settings: { redirect_uris: ['https://cli.example/cb'] } }),
      ])
      expect(put.code, put.stderr).toBe(0)
      const t = makeTestApp({
        store: createSqliteStore(path.join(dir, 'data', 'sso-bridge.sqlite')),
      })
      try {
        const c = await consoleAgent(t)
        const page = (await c.agent.get('/console/audit?source=config').expect(200)).text
        const rows = rowsOf(page)
        expect(rows).toHaveLength(1)
        expect(rows[0]).toContain('<td class="actor"><code>cli</code></td>')
        expect(rows[0]).toContain('<code>integration:from-cli</code>')
      } finally {
        await t.close()
      }
    },
    PROCESS_TEST_TIMEOUT,
  )
})
