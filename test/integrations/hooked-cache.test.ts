/**
 * Every account write and every sign-out asks which integrations have a hook (Discourse's
 * sync_sso and log_out: services.ts). With none, that costs no listing of the integrations per
 * call: the registry keeps the hooked list until an integration change is heard — from any
 * instance on the same PostgreSQL (LISTEN/NOTIFY), or, on SQLite, through the same service at once
 * and another process's within RECORD_TTL_MS. Two real PostgreSQL stores on one schema stand for
 * two instances; a loopback stand-in of Discourse's admin API records what reaches the forum.
 * The listings are counted on the real store (wrapped, never replaced).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createServices } from '../../src/services.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import type { Store } from '../../src/store/ports.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { testSecretBox } from '../helpers/secrets.ts'
import { WAIT_TIMEOUT } from '../helpers/timeouts.ts'

const SECRET = 'discourse-connect-secret-0123456789'
const API_KEY = 'discourse-api-key-0123456789abcdef0123456789'

let forum: http.Server
let forumUrl: string
/** What reached the stand-in forum: `POST /admin/users/sync_sso`, `POST /admin/users/7/log_out`… */
let calls: string[] = []

beforeAll(async () => {
  forum = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`)
    req.resume()
    if (req.url?.startsWith('/u/by-external/'))
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"user":{"id":7}}')
    else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"success":"OK"}')
  })
  await new Promise<void>((r) => forum.listen(0, '127.0.0.1', r))
  forumUrl = `http://127.0.0.1:${(forum.address() as AddressInfo).port}`
})

const opened: Store[] = []
afterEach(async () => {
  calls = []
  for (const s of opened.splice(0)) await s.close()
})
afterAll(async () => {
  await dropFreshSchemas()
  await new Promise((r) => forum.close(r))
})

/** The real store, with its integration listings counted. */
function counted(store: Store): { store: Store; listings: () => number } {
  let n = 0
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver)
      if (prop === 'listIntegrations')
        return () => {
          n++
          return target.listIntegrations()
        }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { store: wrapped, listings: () => n }
}

const servicesOver = (store: Store) =>
  createServices(store, { readSecretEnv: () => undefined, secrets: testSecretBox() })

const discourse = () => ({
  type: 'discourse',
  settings: { discourse_url: forumUrl },
  secrets: { connect_secret: SECRET, discourse_api_key: API_KEY },
})

const member = (nickname: string) => ({ username: 'ada', email: 'ada@example.com', nickname })

describe('the hooked integrations are listed once, not on every write or sign-out', () => {
  it("PostgreSQL: no listing per sign-out or write; a second instance's new Discourse integration is told the first's next write and sign-out", async () => {
    const { url } = await freshSchemaUrl('sso_hooked')
    const rawA = await createPostgresStore(url)
    const rawB = await createPostgresStore(url)
    opened.push(rawA, rawB)
    const a = counted(rawA)
    const A = servicesOver(a.store)
    const B = servicesOver(rawB)
    const account = (await B.accounts.put('m1', member('first'))).account

    // A's registry starts listening on its first use; until the feed is up no cache is trusted
    // (each call lists, as a load reads the store), so wait for it, then fill the cache once.
    await expect(A.integrations.load('none')).rejects.toMatchObject({
      code: 'ERR_INTEGRATION_NOT_FOUND',
    })
    while (!(await rawA.integrationChanges!.sync())) await new Promise((r) => setTimeout(r, 20))
    await A.signOut.signOut({ account, reason: 'admin' }) // awaited: its listing has happened
    const settled = a.listings()
    for (let i = 0; i < 5; i++) await A.signOut.signOut({ account, reason: 'admin' })
    expect(a.listings()).toBe(settled) // without the cache: one per sign-out (5)

    await B.integrations.put('forum', discourse())
    for (let i = 0; i < 3; i++) await A.accounts.put('m1', member(`write ${i}`))
    // Told in the background, in order, each write once.
    await expect
      .poll(() => calls.filter((c) => c === 'POST /admin/users/sync_sso').length, {
        timeout: WAIT_TIMEOUT,
      })
      .toBe(3)
    await A.signOut.signOut({ account, reason: 'admin' })
    expect(calls).toContain('POST /admin/users/7/log_out')
    // One listing for B's change (A dropped its list when it heard it), none for the three
    // writes and the sign-out after it (without the cache: 4).
    expect(a.listings()).toBe(settled + 1)

    await B.integrations.remove('forum')
    const told = calls.length
    await A.signOut.signOut({ account, reason: 'admin' })
    expect(calls.length).toBe(told)
    expect(a.listings()).toBe(settled + 2)
  })

  it('SQLite: a change through the same service counts at once; writes in between list nothing', async () => {
    const s = counted(createSqliteStore(':memory:'))
    opened.push(s.store)
    const services = servicesOver(s.store)
    const account = (await services.accounts.put('m1', member('first'))).account
    await services.signOut.signOut({ account, reason: 'admin' })
    const settled = s.listings()
    for (let i = 0; i < 5; i++) await services.signOut.signOut({ account, reason: 'admin' })
    expect(s.listings()).toBe(settled)

    await services.integrations.put('forum', discourse())
    await services.signOut.signOut({ account, reason: 'admin' })
    expect(calls).toContain('POST /admin/users/7/log_out')
    expect(s.listings()).toBe(settled + 1)
  })
})
