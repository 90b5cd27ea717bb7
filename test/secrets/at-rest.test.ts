/**
 * Secrets at rest (issue #13), on SQLite and on PostgreSQL: the raw tables of a database that
 * holds an OIDC client, a Minnit key and a Dead Simple Chat integration with a member's token
 * show none of those secrets; with the key the server works (openid-client's
 * client_secret_basic code exchange, a Dead Simple Chat token reused); without it the server
 * refuses with a stable code; with two keys the first seals and both open; `secrets rekey`
 * moves everything to the first, after which the old key can go; rows from before this change
 * (plain text) are read and then sealed.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import * as client from 'openid-client'
import pg from 'pg'
import request from 'supertest'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createServices } from '../../src/services.ts'
import { createSecretBox, secretsKeyId, type SecretBox } from '../../src/secrets/index.ts'
import type { Store } from '../../src/store/ports.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { auth, makeTestApp } from '../helpers/app.ts'
import { cliSandbox, removeSandboxes } from '../helpers/cli.ts'
import { Browser, isConsentPage, isLoginPage, PASSWORD, startOidcServer } from '../helpers/oidc.ts'
import { dropFreshSchemas, freshSchemaUrl, postgresUrl } from '../helpers/pg.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'
import { startDscServer, type DscServer } from '../tokens/helpers/dsc-server.ts'
import { DSC_KEY, integrations, MINNIT_KEY } from '../tokens/helpers/fixtures.ts'

const KEY_A = randomBytes(32)
const KEY_B = randomBytes(32)
const boxOf = (...keys: Buffer[]) => createSecretBox(keys)
const RP_CB = 'https://rp.example/cb'

/** One database of a kind: opened as often as a test likes, dumped raw, configured for the CLI. */
interface Db {
  open(): Promise<Store>
  /** Every row of every table, as text: what a copy of the database shows. */
  raw(): Promise<string>
  /** The CLI's environment for this database. */
  cliEnv: Record<string, string>
  drop(): Promise<void>
}

async function sqliteDb(): Promise<Db> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-at-rest-'))
  mkdirSync(path.join(dir, 'data'))
  const file = path.join(dir, 'data', 'sso-bridge.sqlite')
  return {
    open: async () => createSqliteStore(file),
    async raw() {
      const db = new DatabaseSync(file, { readOnly: true })
      try {
        const tables = db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
          .all()
          .map((r) => String(r.name))
        expect(tables).toEqual(expect.arrayContaining(['integrations', 'kv', 'kv_index']))
        return tables
          .map((t) => `${t}: ${JSON.stringify(db.prepare(`SELECT * FROM "${t}"`).all())}`)
          .join('\n')
      } finally {
        db.close()
      }
    },
    cliEnv: { DATA_DIR: path.join(dir, 'data') },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

async function postgresDb(): Promise<Db> {
  const { url, schema, drop } = await freshSchemaUrl('sso_secrets')
  return {
    open: () => createPostgresStore(url),
    async raw() {
      const pool = new pg.Pool({ connectionString: url, max: 1 })
      try {
        const { rows } = await pool.query<{ table_name: string }>(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
          [schema],
        )
        const tables = rows.map((r) => r.table_name)
        expect(tables).toEqual(expect.arrayContaining(['integrations', 'kv', 'kv_index']))
        const out: string[] = []
        for (const t of tables)
          out.push(`${t}: ${JSON.stringify((await pool.query(`SELECT * FROM "${t}"`)).rows)}`)
        return out.join('\n')
      } finally {
        await pool.end()
      }
    },
    cliEnv: { DATABASE_URL: url },
    drop,
  }
}

const kinds = [
  ['SQLite', sqliteDb],
  ['PostgreSQL', postgresDb],
] as const

let dsc: DscServer
beforeEach(async () => {
  dsc = await startDscServer(DSC_KEY)
})
afterEach(async () => {
  await dsc.close()
})
afterAll(async () => {
  await removeSandboxes()
  await dropFreshSchemas()
})

/**
 * Sets up the secrets the tests look for, through the real admin API under `box`: an OIDC
 * client (its secret generated), a Minnit key, a Dead Simple Chat key and one member's token.
 */
async function seed(store: Store, box: SecretBox) {
  const t = makeTestApp({ store, secrets: box })
  const put = async (id: string, body: object) => {
    const res = await request(t.app).put(`/api/v1/integrations/${id}`).set(auth).send(body)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body
  }
  await request(t.app)
    .put('/api/v1/users/42')
    .set(auth)
    .send({ username: 'rob', email: 'rob@example.test', password: PASSWORD, rank: 'moderator' })
    .expect(201)
  const rp = await put('rp', {
    type: 'oidc',
    settings: { redirect_uris: [RP_CB], first_party: true },
  })
  const clientSecret = rp.generated_secrets.client_secret as string
  await put('minnit', integrations.minnit)
  await put('dsc', integrations.dsc(dsc.url))
  const token = await issueDsc(t.app)
  expect(dsc.calls).toHaveLength(1)
  return { clientSecret, dscToken: token, secrets: [clientSecret, MINNIT_KEY, DSC_KEY, token] }
}

async function issueDsc(app: ReturnType<typeof makeTestApp>['app']): Promise<string> {
  const res = await request(app)
    .post('/api/v1/integrations/dsc/tokens')
    .set(auth)
    .send({ external_id: '42' })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.token as string
}

/**
 * openid-client's authorization code flow with client_secret_basic against a server over `store`
 * (a store of its own on the test's database: the server closes it when it stops).
 */
async function oidcCodeExchange(store: Store, box: SecretBox, clientSecret: string) {
  const s = await startOidcServer({ store, secrets: box })
  try {
    // The member seed() made signs in (re-writing it would change their Create User request).
    const config = await client.discovery(
      new URL(s.issuer),
      'rp',
      { client_secret: clientSecret },
      client.ClientSecretBasic(clientSecret),
      { execute: [client.allowInsecureRequests] },
    )
    const verifier = client.randomPKCECodeVerifier()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: RP_CB,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    const b = new Browser(s.issuer)
    let page = await b.go(url)
    if (isLoginPage(page)) page = await b.login(page, 'rob', PASSWORD)
    if (isConsentPage(page)) page = await b.consent(page, 'allow')
    expect(page.left?.href.startsWith(RP_CB), `${page.url} ${page.status}`).toBe(true)
    const tokens = await client.authorizationCodeGrant(config, page.left!, {
      pkceCodeVerifier: verifier,
    })
    expect(tokens.access_token).toEqual(expect.any(String))
    expect(tokens.claims()?.sub).toEqual(expect.any(String))
    return {
      log: s.t.logText(),
      bearer: [tokens.access_token, page.left!.searchParams.get('code')!],
    }
  } finally {
    await s.close()
  }
}

for (const [kind, makeDb] of kinds) {
  if (kind === 'PostgreSQL' && postgresUrl() === null) {
    // globalSetup already threw under CI; elsewhere say so as a failure, never a skip.
    it(`secrets at rest on ${kind}`, () => {
      throw new Error(POSTGRES_MISSING)
    })
    continue
  }
  describe(`secrets at rest on ${kind}`, () => {
    let db: Db
    const opened: Store[] = []
    const open = async () => {
      const store = await db.open()
      opened.push(store)
      return store
    }
    beforeEach(async () => {
      db = await makeDb()
    })
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => {})
      await db.drop()
    })

    it('the raw tables hold none of the secrets; with the key, client_secret_basic and the stored DSC token work', async () => {
      const store = await open()
      const seeded = await seed(store, boxOf(KEY_A))
      const raw = await db.raw()
      // The rows are there (the dump can see them), sealed under key A …
      expect(raw).toContain('"dsc"')
      expect(raw).toContain(`sb1:${secretsKeyId(KEY_A)}:`)
      // … and no secret is readable in them.
      for (const secret of seeded.secrets) expect(raw).not.toContain(secret)

      const { log, bearer } = await oidcCodeExchange(
        await db.open(),
        boxOf(KEY_A),
        seeded.clientSecret,
      )
      expect(log).not.toContain(seeded.clientSecret)
      // The access token and code it stored are there only as hashes (oidc/adapter.ts).
      const afterFlow = await db.raw()
      expect(afterFlow).toContain('oidc:AccessToken')
      for (const value of bearer) expect(afterFlow).not.toContain(value)
      // The member's stored token is handed out again: no second Create User call.
      const t = makeTestApp({ store, secrets: boxOf(KEY_A) })
      expect(await issueDsc(t.app)).toBe(seeded.dscToken)
      expect(dsc.calls).toHaveLength(1)
      // The admin API shows where a secret comes from, never its value.
      const listed = await request(t.app).get('/api/v1/integrations').set(auth).expect(200)
      for (const secret of seeded.secrets) expect(listed.text).not.toContain(secret)
      expect(listed.text).not.toContain('sb1:')
    })

    it('without the key the server refuses with ERR_SECRETS_KEY_MISSING; two keys open both; rekey moves all to the first, then the old key can go', async () => {
      const store = await open()
      const seeded = await seed(store, boxOf(KEY_A))

      // Only key B: refused at start, naming key A's id, and at use with a stable code.
      const onlyB = createServices(store, { readSecretEnv: () => undefined, secrets: boxOf(KEY_B) })
      await expect(onlyB.integrations.checkSealed()).rejects.toMatchObject({
        code: 'ERR_SECRETS_KEY_MISSING',
        keyId: secretsKeyId(KEY_A),
      })
      const wrong = makeTestApp({ store, secrets: boxOf(KEY_B) })
      const refused = await request(wrong.app)
        .post('/api/v1/integrations/dsc/tokens')
        .set(auth)
        .send({ external_id: '42' })
      expect(refused.status).toBe(503)
      expect(refused.body).toMatchObject({ error: 'secrets_key_missing' })
      expect(refused.body.message).toContain(secretsKeyId(KEY_A))
      const tokenRefused = await request(wrong.app)
        .post('/token')
        .auth('rp', seeded.clientSecret)
        .type('form')
        .send({ grant_type: 'authorization_code', code: 'x', redirect_uri: RP_CB })
      expect(tokenRefused.status).toBe(503)
      expect(tokenRefused.body).toMatchObject({ error: 'temporarily_unavailable' })
      expect(tokenRefused.body.error_description).toContain('secrets_key_missing')
      for (const res of [refused, tokenRefused]) {
        expect(res.text).not.toMatch(/\n\s+at /) // no stack
        for (const secret of seeded.secrets) expect(res.text).not.toContain(secret)
      }
      expect(wrong.logText()).toContain('ERR_SECRETS_KEY_MISSING')
      for (const secret of seeded.secrets) expect(wrong.logText()).not.toContain(secret)
      expect(dsc.calls).toHaveLength(1) // no Create User for a token it could not read

      // B first, A second: what A sealed opens, and a new secret is sealed under B.
      const both = makeTestApp({ store, secrets: boxOf(KEY_B, KEY_A) })
      expect(await issueDsc(both.app)).toBe(seeded.dscToken)
      await request(both.app)
        .put('/api/v1/integrations/generic')
        .set(auth)
        .send(integrations.generic)
        .expect(201)
      const generic = await store.getIntegration('generic')
      expect(generic!.secrets.secret).toEqual({
        sealed: expect.stringMatching(new RegExp(`^sb1:${secretsKeyId(KEY_B)}:`)),
      })

      // rekey under B,A: everything sealed under A is sealed again under B; counts only.
      const { cli } = await cliSandbox()
      const env = {
        ...db.cliEnv,
        SECRETS_KEY: `${KEY_B.toString('base64url')},${KEY_A.toString('hex')}`,
      }
      const first = await cli(['secrets', 'rekey'], { env })
      expect(first.stderr).toBe('')
      expect(first.code).toBe(0)
      const report = JSON.parse(first.stdout)
      expect(report).toMatchObject({
        key_id: secretsKeyId(KEY_B),
        decrypt_key_ids: [secretsKeyId(KEY_B), secretsKeyId(KEY_A)],
        integration_secrets: { integrations: 4, sealed: 0, resealed: 3, current: 1 },
        stored: { deadsimplechat: { integrations: 1, sealed: 0, resealed: 1, current: 0 } },
      })
      for (const secret of seeded.secrets) expect(first.stdout).not.toContain(secret)
      // Safe to run again: nothing left to do.
      const again = JSON.parse((await cli(['secrets', 'rekey'], { env })).stdout)
      expect(again).toMatchObject({
        integration_secrets: { updated: 0, sealed: 0, resealed: 0, current: 4 },
        stored: { deadsimplechat: { sealed: 0, resealed: 0, current: 1 } },
      })
      // The CLI shows where each secret comes from, never a value or a ciphertext.
      const listed = await cli(['integrations', 'list'], { env })
      expect(listed.code).toBe(0)
      expect(JSON.parse(listed.stdout).items).toHaveLength(4)
      expect(listed.stdout).not.toContain('sb1:')
      for (const secret of seeded.secrets) expect(listed.stdout).not.toContain(secret)
      const raw = await db.raw()
      expect(raw).not.toContain(`sb1:${secretsKeyId(KEY_A)}:`)
      for (const secret of seeded.secrets) expect(raw).not.toContain(secret)

      // Key A removed: the server starts and works with B alone.
      const onlyBNow = createServices(store, {
        readSecretEnv: () => undefined,
        secrets: boxOf(KEY_B),
      })
      await expect(onlyBNow.integrations.checkSealed()).resolves.toEqual({ checked: 4 })
      await oidcCodeExchange(await db.open(), boxOf(KEY_B), seeded.clientSecret)
      const after = makeTestApp({ store, secrets: boxOf(KEY_B) })
      expect(await issueDsc(after.app)).toBe(seeded.dscToken)
      expect(dsc.calls).toHaveLength(1)
    })

    it('rows from before secrets at rest (plain text) are read, then sealed by the first start', async () => {
      const store = await open()
      // As an older version wrote them: inline secrets as { value }, the token in plain text.
      await store.putIntegration({
        id: 'minnit',
        type: 'minnit-zero-click',
        settings: integrations.minnit.settings,
        secrets: { encryption_key: { value: MINNIT_KEY } },
        mapping: null,
      })
      await store.putIntegration({
        id: 'dsc',
        type: 'deadsimplechat',
        settings: { ...integrations.dsc(dsc.url).settings },
        secrets: { private_key: { value: DSC_KEY } },
        mapping: null,
      })
      const services = createServices(store, {
        readSecretEnv: () => undefined,
        secrets: boxOf(KEY_A),
      })
      await services.accounts.put('42', { username: 'rob' })
      const account = await services.accounts.get('42')
      const legacyToken = `legacy-${randomBytes(12).toString('hex')}`
      await store.kvSet(
        'tokens:deadsimplechat:dsc',
        account.id,
        {
          accessToken: legacyToken,
          userId: 'u-legacy',
          request: 'r',
          external_id: '42',
          created_at: '2026-01-01T00:00:00.000Z',
        },
        { indexes: { token: createHash('sha256').update(legacyToken).digest('base64url') } },
      )
      const before = await db.raw()
      for (const secret of [MINNIT_KEY, DSC_KEY, legacyToken]) expect(before).toContain(secret)

      // Read as they are.
      expect((await services.integrations.load('minnit')).secret('encryption_key')).toBe(MINNIT_KEY)
      expect((await services.tokens.inspect('dsc', legacyToken)).payload).toMatchObject({
        userId: 'u-legacy',
        external_id: '42',
      })

      // The first start seals them (once per database for the account walk).
      const sealed = await services.sealPlaintextOnce()
      expect(sealed.walked).toMatchObject({
        integration_secrets: { sealed: 2, updated: 2 },
        stored: { deadsimplechat: { sealed: 1, current: 0 } },
      })
      expect((await services.sealPlaintextOnce()).walked).toBeNull()
      const after = await db.raw()
      for (const secret of [MINNIT_KEY, DSC_KEY, legacyToken]) expect(after).not.toContain(secret)

      // Still the same secrets and token, from fresh services over the same database.
      const fresh = createServices(store, {
        readSecretEnv: () => undefined,
        secrets: boxOf(KEY_A),
      })
      expect((await fresh.integrations.load('minnit')).secret('encryption_key')).toBe(MINNIT_KEY)
      expect((await fresh.tokens.inspect('dsc', legacyToken)).payload).toMatchObject({
        userId: 'u-legacy',
      })
    })

    it('a ciphertext copied into another row does not open there (ERR_SECRET_UNREADABLE)', async () => {
      const store = await open()
      const box = boxOf(KEY_A)
      const services = createServices(store, { readSecretEnv: () => undefined, secrets: box })
      await services.integrations.put('boost-a', integrations.boostgpt)
      await services.integrations.put('boost-b', {
        ...integrations.boostgpt,
        secrets: { sso_secret: 'b'.repeat(64) },
      })
      const a = (await store.getIntegration('boost-a'))!
      const b = (await store.getIntegration('boost-b'))!
      // Someone with database access copies a's ciphertext over b's, hoping b signs with a's key.
      await store.putIntegration({ ...b, secrets: { sso_secret: a.secrets.sso_secret! } })
      const fresh = createServices(store, { readSecretEnv: () => undefined, secrets: box })
      const loaded = await fresh.integrations.load('boost-b')
      expect(() => loaded.secret('sso_secret')).toThrow(
        expect.objectContaining({ code: 'ERR_SECRET_UNREADABLE' }),
      )
      await expect(fresh.integrations.checkSealed()).rejects.toMatchObject({
        code: 'ERR_SECRET_UNREADABLE',
      })
    })
  })
}
