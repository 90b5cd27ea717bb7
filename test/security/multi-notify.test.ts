/**
 * Regression (issue #10, "Several instances"): on PostgreSQL an integration change reached the
 * other instances only when their cache ran out (up to a second): a rotated client secret kept
 * working there. Now every write notifies in its own transaction (LISTEN/NOTIFY) and a cached
 * record is used only after the feed confirms it has heard every change committed before the
 * load. Two real PostgreSQL stores (two connections, as two instances have) on one schema; the
 * process-level version (rotate on instance A, use on instance B) is in multi-instance.test.ts.
 */
import { testSecretBox } from '../helpers/secrets.ts'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createIntegrationService } from '../../src/integrations/registry.ts'
import { INTEGRATION_TYPES } from '../../src/services.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { LISTEN_APPLICATION_NAME } from '../../src/store/postgres/changes.ts'
import type { Store } from '../../src/store/ports.ts'
import { dropFreshSchemas, freshSchemaUrl, postgresUrl } from '../helpers/pg.ts'

const opened: Store[] = []
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close()
})
afterAll(dropFreshSchemas)

async function twoInstances() {
  const { url, schema } = await freshSchemaUrl('sso_multinotify')
  const a = await createPostgresStore(url)
  const b = await createPostgresStore(url)
  opened.push(a, b)
  const registry = (store: Store) =>
    createIntegrationService({
      store,
      types: INTEGRATION_TYPES,
      readSecretEnv: () => undefined,
      secrets: testSecretBox(),
    })
  return { schema, a, b, ra: registry(a), rb: registry(b) }
}

const client = (secret: string, redirects = ['https://rp.example/cb']) => ({
  type: 'oidc',
  settings: { redirect_uris: redirects },
  secrets: { client_secret: secret },
})
const OLD = 'old-client-secret-0123456789abcdef0123'
const NEW = 'new-client-secret-0123456789abcdef0123'

/** Waits for `cond` (no deadline of its own: the test's timeout is the limit). */
async function until(cond: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 20))
}

describe('integration changes reach every instance as the write returns (LISTEN/NOTIFY)', () => {
  it('a secret rotated and a redirect URI removed on A are what B loads next, though B had them cached', async () => {
    const { ra, rb, b } = await twoInstances()
    await ra.put('rp', client(OLD, ['https://rp.example/cb', 'https://rp.example/old']))
    await rb.load('rp') // B starts listening on its first load
    await until(() => b.integrationChanges!.sync())
    expect((await rb.load('rp')).secret('client_secret')).toBe(OLD) // now cached on B
    expect((await rb.load('rp')).secret('client_secret')).toBe(OLD)

    await ra.put('rp', client(NEW))
    const loaded = await rb.load('rp')
    expect(loaded.secret('client_secret')).toBe(NEW)
    expect(loaded.record.settings.redirect_uris).toEqual(['https://rp.example/cb'])

    await ra.remove('rp')
    await expect(rb.load('rp')).rejects.toMatchObject({ code: 'ERR_INTEGRATION_NOT_FOUND' })
  })

  it("B hears A's write, and only its own schema's: a write under another schema on the same database is not delivered", async () => {
    const one = await twoInstances()
    const other = await twoInstances()
    const heard: (string | null)[] = []
    one.b.integrationChanges!.subscribe((id) => heard.push(id))
    await until(() => one.b.integrationChanges!.sync())
    heard.length = 0
    await other.a.putIntegration({
      id: 'elsewhere',
      type: 'oidc',
      settings: { redirect_uris: ['https://x.example/cb'] },
      secrets: {},
      mapping: null,
    })
    await one.a.putIntegration({
      id: 'here',
      type: 'oidc',
      settings: { redirect_uris: ['https://x.example/cb'] },
      secrets: {},
      mapping: null,
    })
    expect(await one.b.integrationChanges!.sync()).toBe(true)
    expect(heard).toEqual(['here'])
    await one.a.deleteIntegration('here')
    expect(await one.b.integrationChanges!.sync()).toBe(true)
    expect(heard).toEqual(['here', 'here'])
  })

  it('a lost listening connection (what a PostgreSQL restart does to it) is noticed, nothing cached is trusted meanwhile, and it reconnects', async () => {
    const { ra, rb, a, b, schema } = await twoInstances()
    const heard: (string | null)[] = []
    b.integrationChanges!.subscribe((id) => heard.push(id))
    a.integrationChanges!.subscribe(() => {})
    await until(
      async () => (await a.integrationChanges!.sync()) && (await b.integrationChanges!.sync()),
    )
    await ra.put('rp', client(OLD))
    expect((await rb.load('rp')).secret('client_secret')).toBe(OLD)

    // End B's listening session from the server side, as a restart does (57P01 admin_shutdown).
    const admin = new pg.Client({ connectionString: postgresUrl()! })
    await admin.connect()
    try {
      const ended = await admin.query(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [`${LISTEN_APPLICATION_NAME} ${schema}`],
      )
      expect(ended.rows.length).toBe(2) // A's and B's
      await until(() => heard.includes(null))
      // While B is not listening, or once it listens again, the rotation on A holds on B.
      await ra.put('rp', client(NEW))
      expect((await rb.load('rp')).secret('client_secret')).toBe(NEW)
      // It listens again.
      await until(() => b.integrationChanges!.sync())
      const back = await admin.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [`${LISTEN_APPLICATION_NAME} ${schema}`],
      )
      expect(back.rows[0].n).toBeGreaterThanOrEqual(1)
      await ra.put('rp', client(OLD))
      expect((await rb.load('rp')).secret('client_secret')).toBe(OLD)
    } finally {
      await admin.end()
    }
  })
})
