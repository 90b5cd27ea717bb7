/**
 * The create-user builder (src/tokens/builders/create-user.ts) under both of its platforms,
 * Dead Simple Chat and CometChat, on SQLite and PostgreSQL, through the token API of the real
 * app. What the platforms' own suites do not reach: an answer that is no token (not JSON, a
 * redirect, a 2xx without one) is 502 platform_unavailable with nothing stored, the claim
 * released for the next try, the redirect not followed and the secret nowhere; and `secrets
 * rekey` moves a stored CometChat token to the new key without a new call to the platform.
 *
 * The platform is a loopback server written here that answers as a misbehaving API would,
 * then as the documented one (deadsimplechat-sso-auth-token.txt; CometChat users/create).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import request from 'supertest'
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest'
import { createSecretBox } from '../../src/secrets/index.ts'
import type { Store } from '../../src/store/ports.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'

afterAll(dropFreshSchemas)

const DSC_KEY = 'dsc-private-key-create-user-0123456789'
const CC_KEY = 'cometchat-rest-key-create-user-0123456789'

/** How the stand-in answers the create call: as a broken API would, or as documented. */
type Mode = 'not-json' | 'redirect' | 'no-token' | 'ok'

interface Platform {
  server: Server
  url: string
  mode: Mode
  /** Create calls received, by path. */
  calls: string[]
  /** Whether anything followed a redirect to /elsewhere. */
  followed: boolean
  close: () => Promise<void>
}

async function startPlatform(): Promise<Platform> {
  let n = 0
  const p: Platform = {
    server: createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        const pathname = new URL(req.url ?? '/', 'http://x').pathname
        if (pathname === '/elsewhere') {
          p.followed = true
          res.writeHead(200, { 'Content-Type': 'application/json' })
          res.end(
            JSON.stringify({ accessToken: 'followed', userId: 'x', data: { authToken: 'x' } }),
          )
          return
        }
        p.calls.push(pathname)
        n++
        if (p.mode === 'redirect') {
          res.writeHead(302, { Location: `${p.url}/elsewhere` })
          res.end()
          return
        }
        if (p.mode === 'not-json') {
          res.writeHead(200, { 'Content-Type': 'text/html' })
          res.end('<html>maintenance</html>')
          return
        }
        res.writeHead(200, { 'Content-Type': 'application/json' })
        if (p.mode === 'no-token') res.end(JSON.stringify({ data: {} }))
        else if (pathname === '/consumer/api/v1/user')
          res.end(JSON.stringify({ accessToken: `dsc-${n}`, username: 'Rob', userId: `u${n}` }))
        else res.end(JSON.stringify({ data: { uid: 'rob-42', authToken: `cc-${n}` } }))
      })
    }),
    url: '',
    mode: 'ok',
    calls: [],
    followed: false,
    close: () => new Promise((r) => p.server.close(() => r())),
  }
  await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', r))
  p.url = `http://127.0.0.1:${(p.server.address() as { port: number }).port}`
  return p
}

/** The two platforms' integrations against the stand-in, their namespaces and secrets. */
const PLATFORMS = [
  {
    name: 'Dead Simple Chat',
    id: 'dsc',
    store: 'deadsimplechat',
    secret: DSC_KEY,
    integration: (url: string) => ({
      type: 'deadsimplechat',
      settings: { api_base_url: url, chat_room_url: 'https://deadsimplechat.com/CGOC0byXC' },
      secrets: { private_key: DSC_KEY },
    }),
  },
  {
    name: 'CometChat',
    id: 'chat',
    store: 'cometchat',
    secret: CC_KEY,
    integration: (url: string) => ({
      type: 'cometchat',
      settings: { app_id: 'abc', region: 'eu', api_base_url: `${url}/v3` },
      secrets: { rest_api_key: CC_KEY },
    }),
  },
] as const

/** A database of a kind, opened as often as a test likes. */
const databases: [string, () => Promise<() => Promise<Store>>][] = [
  [
    'SQLite',
    async () => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'sso-bridge-cu-')), 'db.sqlite')
      return async () => createSqliteStore(file)
    },
  ],
  [
    'PostgreSQL',
    async () => {
      if (inject('postgresUrl') === null) throw new Error(POSTGRES_MISSING)
      const { url } = await freshSchemaUrl('sso_cu')
      return () => createPostgresStore(url)
    },
  ],
]

for (const [db, database] of databases) {
  describe(`create-user builder (${db})`, () => {
    let open: () => Promise<Store>
    let api: Platform
    let t: TestApp
    beforeEach(async () => {
      open = await database()
      api = await startPlatform()
      t = makeTestApp({ store: await open() })
      await t.services.accounts.put('Rob-42', { username: 'Rob', nickname: 'Rob Roy' })
      for (const p of PLATFORMS) await t.services.integrations.put(p.id, p.integration(api.url))
    })
    afterEach(async () => {
      await t.close()
      await api.close()
    })

    for (const p of PLATFORMS) {
      it(`${p.name}: an answer that is no token is 502 platform_unavailable, nothing stored, the claim released, no redirect followed; then one good call is stored`, async () => {
        const account = await t.services.accounts.get('Rob-42')
        const issue = () =>
          request(t.app)
            .post(`/api/v1/integrations/${p.id}/tokens`)
            .set(auth)
            .send({ external_id: 'Rob-42' })
        const refusals: unknown[] = []
        for (const mode of ['not-json', 'redirect', 'no-token'] as const) {
          api.mode = mode
          const res = await issue()
          expect(res.status, `${mode}: ${JSON.stringify(res.body)}`).toBe(502)
          expect(res.body.error).toBe('platform_unavailable')
          refusals.push(res.body)
          expect(await t.services.store.kvGet(`tokens:${p.store}:${p.id}`, account.id)).toBeNull()
          // Released, not left to its lease: the next request calls at once.
          expect(
            await t.services.store.kvGet(`tokens:${p.store}-claims:${p.id}`, account.id),
          ).toBeNull()
        }
        expect(api.calls).toHaveLength(3)
        expect(api.followed).toBe(false)
        expect(`${JSON.stringify(refusals)}${t.logText()}`).not.toContain(p.secret)

        api.mode = 'ok'
        const first = await issue()
        expect(first.status, JSON.stringify(first.body)).toBe(200)
        const again = await issue()
        expect(again.body.token).toBe(first.body.token)
        expect(api.calls).toHaveLength(4)
        const stored = await t.services.store.kvGet(`tokens:${p.store}:${p.id}`, account.id)
        expect(JSON.stringify(stored)).not.toContain(first.body.token)
        expect(stored?.value).toMatchObject({ external_id: 'Rob-42' })
      })
    }

    it('secrets rekey reseals every stored token under the new key: the same tokens, no new call', async () => {
      const [oldKey, newKey] = [randomBytes(32), randomBytes(32)]
      await t.close()
      const issueAll = async (app: TestApp) => {
        const out: string[] = []
        for (const p of PLATFORMS) {
          const res = await request(app.app)
            .post(`/api/v1/integrations/${p.id}/tokens`)
            .set(auth)
            .send({ external_id: 'Rob-42' })
          expect(res.status, JSON.stringify(res.body)).toBe(200)
          out.push(res.body.token as string)
        }
        return out
      }
      const before = makeTestApp({ store: await open(), secrets: createSecretBox([oldKey]) })
      // The integrations' own secrets under the old key too, as a deployment's would be.
      for (const p of PLATFORMS)
        await before.services.integrations.put(p.id, p.integration(api.url))
      const tokens = await issueAll(before)
      await before.close()

      const both = makeTestApp({ store: await open(), secrets: createSecretBox([newKey, oldKey]) })
      const report = await both.services.rekeySecrets()
      expect(report.stored).toMatchObject({
        deadsimplechat: { resealed: 1 },
        cometchat: { resealed: 1 },
      })
      await both.close()

      // The old key is gone: the stored tokens open under the new one alone.
      t = makeTestApp({ store: await open(), secrets: createSecretBox([newKey]) })
      expect(await issueAll(t)).toEqual(tokens)
      expect(api.calls).toHaveLength(2)
    })
  })
}
