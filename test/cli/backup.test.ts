/**
 * `sso-bridge backup` and `restore` (issue #13, docs/backup.md).
 *
 * The main case runs real processes: a server (node src/main.ts) signs a member in through
 * OIDC with openid-client and hands out a refresh token; admin-API writes then run in loops
 * against it while `sso-bridge backup` (bin/sso-bridge.js, a process of its own beside the
 * server, as an operator runs it) copies the live database; the server stops, `restore` fills
 * a fresh DATA_DIR/KEYS_DIR, and a new server on them redeems the refresh token issued before
 * the backup (authenticating the client with its secret, which the store keeps encrypted under
 * KEYS_DIR/secrets-key: so the key came back with the database). The restored database passes SQLite's integrity check and holds every write
 * acknowledged before the backup started.
 *
 * The refusals (damaged, truncated, altered or foreign files, a newer schema, a non-empty
 * target, a running server, the wrong store kind) run the CLI in-process (test/helpers/cli.ts)
 * and check that nothing changed.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { createLocalJWKSet, jwtVerify } from 'jose'
import * as client from 'openid-client'
import * as tar from 'tar'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { latestSchemaVersion } from '../../src/store/index.ts'
import { cliSandbox, removeSandboxes, type Cli } from '../helpers/cli.ts'
import { Browser, isConsentPage, isLoginPage } from '../helpers/oidc.ts'
import { docPage, runBlock, shBlocks } from '../helpers/readme.ts'
import { NODE, startServer, stopServer, type ServerProcess } from '../helpers/server.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'
import { freePort } from '../setup/postgres.ts'
import { adminApi } from '../helpers/admin-api.ts'

const ADMIN_TOKEN = 'backup-test-admin-token-0123456789abcdef'
const PASSWORD = 'correct horse battery staple'
const RP_SECRET = 'backup-rp-client-secret-0123456789abcdef'
const RP_CB = 'https://rp.example/cb'
const BIN = path.resolve('bin/sso-bridge.js')
/** Concurrent admin-API writers during the backup. */
const WRITERS = 3

const made: string[] = []
const tempDir = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix))
  made.push(d)
  return d
}
let first: ServerProcess | undefined
let second: ServerProcess | undefined

afterAll(async () => {
  await stopServer(first)
  await stopServer(second)
  await removeSandboxes()
  for (const d of made) rmSync(d, { recursive: true, force: true })
}, PROCESS_TEST_TIMEOUT)

/** `npx sso-bridge …` as a process of its own, on the DATA_DIR/KEYS_DIR of `dir` (no .env in its cwd). */
function cliProcess(
  args: string[],
  dir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        DATA_DIR: path.join(dir, 'data'),
        KEYS_DIR: path.join(dir, 'keys'),
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

function admin(base: string, method: string, p: string, body?: unknown) {
  return adminApi(base, ADMIN_TOKEN)(method, p, body)
}

/** Every account of the server at `base`, through the admin API's pages. */
async function allAccounts(base: string): Promise<Map<string, Record<string, unknown>>> {
  const all = new Map<string, Record<string, unknown>>()
  let cursor: string | null = null
  do {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
    const page = await admin(base, 'GET', `/users?limit=500${q}`)
    expect(page.status).toBe(200)
    for (const a of page.body.items) all.set(a.external_id, a)
    cursor = page.body.next_cursor
  } while (cursor)
  return all
}

describe('backup under write load, restore, and a refresh token issued before the backup', () => {
  let issuer: string

  beforeAll(async () => {
    // The restored server keeps the first one's issuer (its tokens name it); only the first
    // one listens on its port, so the browser and openid-client see one origin.
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}`
    first = await startServer({ PORT: String(port), ISSUER: issuer, ADMIN_TOKEN })
  }, PROCESS_TEST_TIMEOUT)

  it(
    'the backup taken while writes run restores into a server that redeems the old refresh token and holds every acknowledged write',
    async () => {
      const s1 = first!
      expect(
        (
          await admin(s1.url, 'PUT', '/users/42', {
            username: 'Rob',
            email: 'rob@example.test',
            password: PASSWORD,
          })
        ).status,
      ).toBe(201)
      expect(
        (
          await admin(s1.url, 'PUT', '/integrations/rp', {
            type: 'oidc',
            settings: { redirect_uris: [RP_CB] },
            secrets: { client_secret: RP_SECRET },
          })
        ).status,
      ).toBe(201)

      // A member signs in (code + PKCE, openid-client) and the relying party keeps a refresh token.
      const config = await client.discovery(
        new URL(issuer),
        'rp',
        { client_secret: RP_SECRET },
        client.ClientSecretBasic(RP_SECRET),
        { execute: [client.allowInsecureRequests] },
      )
      const browser = new Browser(issuer)
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      let page = await browser.go(
        client.buildAuthorizationUrl(config, {
          redirect_uri: RP_CB,
          scope: 'openid profile email',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
        }),
      )
      expect(isLoginPage(page), `${page.url} ${page.status}`).toBe(true)
      page = await browser.login(page, 'rob', PASSWORD)
      if (isConsentPage(page)) page = await browser.consent(page, 'allow')
      const tokens = await client.authorizationCodeGrant(config, page.left!, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      })
      const refreshToken = tokens.refresh_token!
      expect(refreshToken).toBeTruthy()

      // Write load: each writer creates accounts and keeps updating one counter account.
      let stop = false
      let backupStarted = false
      const created: string[] = []
      const createdBefore = new Set<string>()
      const counterBefore = new Map<string, number>()
      let enough!: () => void
      const warmedUp = new Promise<void>((resolve) => (enough = resolve))
      const writer = async (w: number) => {
        for (let k = 0; !stop; k++) {
          const id = `load-${w}-${k}`
          const put = await admin(s1.url, 'PUT', `/users/${id}`, {
            username: `load${w}x${k}`,
            email: `load${w}x${k}@example.test`,
          })
          expect(put.status).toBe(201)
          const counter = await admin(s1.url, 'PUT', `/users/counter-${w}`, {
            username: `counter${w}`,
            title: `v${k}`,
          })
          expect([200, 201]).toContain(counter.status)
          created.push(id)
          if (!backupStarted) {
            createdBefore.add(id)
            counterBefore.set(`counter-${w}`, k)
          }
          if (created.length >= 10 * WRITERS) enough()
        }
      }
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w))
      await warmedUp

      const backupFile = path.join(tempDir('sso-bridge-backup-file-'), 'sso-bridge-backup.tar.gz')
      // Everything acknowledged up to here must be in the backup; the writers keep going.
      backupStarted = true
      const backedUp = await cliProcess(['backup', backupFile], s1.dir)
      stop = true
      await Promise.all(writers)
      expect(backedUp.code, backedUp.stderr).toBe(0)
      const report = JSON.parse(backedUp.stdout)
      expect(report).toMatchObject({
        file: backupFile,
        store: 'sqlite',
        schema_version: latestSchemaVersion('sqlite'),
      })
      expect(report.parts).toEqual(
        expect.arrayContaining(['database/sso-bridge.sqlite', 'keys/oidc-jwks.json']),
      )
      // It holds private keys: only its owner may read it.
      expect(statSync(backupFile).mode & 0o777).toBe(0o600)
      expect(createdBefore.size).toBeGreaterThanOrEqual(10 * WRITERS)

      // Stop the first server; restore into a fresh DATA_DIR/KEYS_DIR.
      await stopServer(first)
      const dir2 = tempDir('sso-bridge-restored-')
      const restored = await cliProcess(['restore', backupFile], dir2)
      expect(restored.code, restored.stderr).toBe(0)
      expect(JSON.parse(restored.stdout)).toMatchObject({
        store: 'sqlite',
        schema_version: latestSchemaVersion('sqlite'),
      })
      const dbFile = path.join(dir2, 'data', 'sso-bridge.sqlite')
      {
        const db = new DatabaseSync(dbFile)
        expect(db.prepare('PRAGMA integrity_check').all()).toEqual([{ integrity_check: 'ok' }])
        db.close()
      }
      expect(statSync(dbFile).mode & 0o777).toBe(0o600)
      // Every key file came back, private to its owner, byte for byte.
      const keys1 = path.join(s1.dir, 'keys')
      const keys2 = path.join(dir2, 'keys')
      const listKeys = (d: string) =>
        (readdirSync(d, { recursive: true, encoding: 'utf8' }) as string[])
          .filter((f) => statSync(path.join(d, f)).isFile())
          .sort()
      expect(listKeys(keys2)).toEqual(listKeys(keys1))
      for (const f of listKeys(keys1)) {
        expect(readFileSync(path.join(keys2, f)), f).toEqual(readFileSync(path.join(keys1, f)))
        expect(statSync(path.join(keys2, f)).mode & 0o777, f).toBe(0o600)
      }

      // A new server on the restored folders, same issuer.
      second = await startServer({ ISSUER: issuer, ADMIN_TOKEN }, dir2)
      const s2 = second
      expect((await fetch(`${s2.url}/readyz`)).status).toBe(200)

      // The refresh token issued before the backup works there (a plain RFC 6749 §6 request).
      const refreshed = await fetch(`${s2.url}/token`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`rp:${RP_SECRET}`).toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
        }).toString(),
      })
      const body = await refreshed.json()
      expect(refreshed.status, JSON.stringify(body)).toBe(200)
      expect(body.access_token).toBeTruthy()
      const jwks = createLocalJWKSet(await (await fetch(`${s2.url}/jwks`)).json())
      const { payload } = await jwtVerify(body.id_token, jwks, { issuer, audience: 'rp' })
      expect(payload.sub).toBe('42')
      const me = await fetch(`${s2.url}/me`, {
        headers: { Authorization: `Bearer ${body.access_token}` },
      })
      expect(me.status).toBe(200)
      expect(await me.json()).toMatchObject({ sub: '42' })

      // Every write acknowledged before the backup started is there.
      const accounts = await allAccounts(s2.url)
      const missing = [...createdBefore].filter((id) => !accounts.has(id))
      expect(missing).toEqual([])
      for (const [id, k] of counterBefore) {
        const title = String(accounts.get(id)?.title)
        expect(Number(title.slice(1)), id).toBeGreaterThanOrEqual(k)
      }
      // Writes acknowledged after it started may or may not be: never more than were made.
      expect(accounts.size).toBeLessThanOrEqual(2 + WRITERS + created.length)

      // While that server runs, even --force refuses to restore over it, and changes nothing:
      // an account written since the restore is still there, and every key file is as it was.
      expect(
        (await admin(s2.url, 'PUT', '/users/after-restore', { username: 'after' })).status,
      ).toBe(201)
      const keyBytes = () => listKeys(keys2).map((f) => readFileSync(path.join(keys2, f)))
      const keysBefore = keyBytes()
      const refused = await cliProcess(['restore', '--force', backupFile], dir2)
      expect(refused.code).toBe(1)
      expect(JSON.parse(refused.stderr)).toMatchObject({ error: 'store_in_use' })
      expect((await admin(s2.url, 'GET', '/users/after-restore')).status).toBe(200)
      // On disk too (a replaced file would not have it, whatever the server still holds open).
      const onDisk = new DatabaseSync(dbFile)
      expect(
        onDisk.prepare("SELECT 1 AS found FROM accounts WHERE external_id = 'after-restore'").get(),
      ).toEqual({ found: 1 })
      onDisk.close()
      expect(keyBytes()).toEqual(keysBefore)
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('restore refuses what it cannot trust, and changes nothing', () => {
  let source: { dir: string; cli: Cli }
  let backupFile: string
  let work: string

  beforeAll(async () => {
    source = await cliSandbox('sso-bridge-backup-src-')
    expect((await source.cli(['keys', 'generate'])).code).toBe(0)
    const put = await source.cli(['users', 'put', '7', '--data', '{"username": "ada"}'])
    expect(put.code, put.stderr).toBe(0)
    // What a first start without ADMIN_TOKEN leaves in DATA_DIR (admin-token.ts).
    writeFileSync(path.join(source.dir, 'data', 'admin-token'), `${ADMIN_TOKEN}\n`, {
      mode: 0o600,
    })
    work = tempDir('sso-bridge-backup-work-')
    backupFile = path.join(work, 'good.tar.gz')
    const r = await source.cli(['backup', backupFile])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).parts).toContain('data/admin-token')
  }, PROCESS_TEST_TIMEOUT)

  /** A fresh empty target; restores `file` into it and checks it is still empty afterwards. */
  async function refusedInto(file: string, extra: string[] = [], env: Record<string, string> = {}) {
    const target = await cliSandbox('sso-bridge-restore-target-')
    const r = await target.cli(['restore', ...extra, file], { env })
    expect(r.code, r.stdout).not.toBe(0)
    expect(existsSync(path.join(target.dir, 'data'))).toBe(false)
    expect(existsSync(path.join(target.dir, 'keys'))).toBe(false)
    return JSON.parse(r.stderr) as { error: string; message: string }
  }

  /** Unpacks the good backup, lets `change` edit the folder, packs it again as `name`. */
  async function repacked(name: string, change: (dir: string) => void): Promise<string> {
    const dir = tempDir('sso-bridge-repack-')
    await tar.extract({ file: backupFile, cwd: dir })
    change(dir)
    const out = path.join(work, name)
    const entries = (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter(
      (f) => statSync(path.join(dir, f)).isFile(),
    )
    await tar.create({ gzip: true, cwd: dir, file: out, portable: true }, entries)
    return out
  }

  it('the good file restores (the control for the cases below)', async () => {
    const target = await cliSandbox('sso-bridge-restore-target-')
    const r = await target.cli(['restore', backupFile])
    expect(r.code, r.stderr).toBe(0)
    const got = await target.cli(['users', 'get', '7'])
    expect(JSON.parse(got.stdout)).toMatchObject({ external_id: '7', username: 'ada' })
    const token = path.join(target.dir, 'data', 'admin-token')
    expect(readFileSync(token, 'utf8')).toBe(`${ADMIN_TOKEN}\n`)
    expect(statSync(token).mode & 0o777).toBe(0o600)
  })

  it('backup refuses a live database a newer build migrated (schema_too_new), and writes no file', async () => {
    const newer = await cliSandbox('sso-bridge-backup-newer-')
    expect((await newer.cli(['keys', 'generate'])).code).toBe(0)
    const db = new DatabaseSync(path.join(newer.dir, 'data', 'sso-bridge.sqlite'))
    db.prepare("INSERT INTO schema_migrations VALUES (?, 'from_the_future', '2030-01-01')").run(
      latestSchemaVersion('sqlite') + 1,
    )
    db.close()
    const out = path.join(work, 'newer.tar.gz')
    const r = await newer.cli(['backup', out])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stderr)).toMatchObject({ error: 'schema_too_new' })
    expect(existsSync(out)).toBe(false)
  })

  it('a damaged file (bytes flipped in the middle): backup_invalid', async () => {
    const bytes = readFileSync(backupFile)
    for (let i = 0; i < 16; i++) bytes[Math.floor(bytes.length / 2) + i]! ^= 0xff
    const file = path.join(work, 'damaged.tar.gz')
    writeFileSync(file, bytes)
    expect(await refusedInto(file)).toMatchObject({ error: 'backup_invalid' })
  })

  it('a truncated file, and a file that is no backup at all: backup_invalid', async () => {
    const bytes = readFileSync(backupFile)
    const truncated = path.join(work, 'truncated.tar.gz')
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)))
    expect(await refusedInto(truncated)).toMatchObject({ error: 'backup_invalid' })
    const text = path.join(work, 'notes.txt')
    writeFileSync(text, 'not a backup\n'.repeat(100))
    expect(await refusedInto(text)).toMatchObject({ error: 'backup_invalid' })
    expect(await refusedInto(path.join(work, 'absent.tar.gz'))).toMatchObject({
      error: 'backup_invalid',
    })
  })

  it('a part altered and packed again (its SHA-256 no longer matches): backup_invalid', async () => {
    const file = await repacked('altered.tar.gz', (dir) =>
      writeFileSync(path.join(dir, 'keys', 'cookie-secret'), 'x'.repeat(44)),
    )
    const refusal = await refusedInto(file)
    expect(refusal).toMatchObject({ error: 'backup_invalid' })
    expect(refusal.message).toContain('keys/cookie-secret')
  })

  it('a part the manifest does not list, or a manifest missing: backup_invalid', async () => {
    const extra = await repacked('extra.tar.gz', (dir) =>
      writeFileSync(path.join(dir, 'keys', 'planted'), 'x'),
    )
    expect(await refusedInto(extra)).toMatchObject({ error: 'backup_invalid' })
    const bare = await repacked('bare.tar.gz', (dir) => rmSync(path.join(dir, 'manifest.json')))
    expect(await refusedInto(bare)).toMatchObject({ error: 'backup_invalid' })
  })

  it('a database that fails its integrity check, its manifest updated to match: backup_invalid', async () => {
    const file = await repacked('corrupt-db.tar.gz', (dir) => {
      const db = path.join(dir, 'database', 'sso-bridge.sqlite')
      const bytes = readFileSync(db)
      // Page 2 onwards: damage a b-tree page, leave the header readable.
      for (let i = 4096 + 8; i < 4096 + 200; i++) bytes[i] = 0xa5
      writeFileSync(db, bytes)
      rehash(dir)
    })
    expect(await refusedInto(file)).toMatchObject({ error: 'backup_invalid' })
  })

  it('a database of a newer schema: schema_too_new, naming both versions', async () => {
    const newer = latestSchemaVersion('sqlite') + 1
    const file = await repacked('newer.tar.gz', (dir) => {
      const db = new DatabaseSync(path.join(dir, 'database', 'sso-bridge.sqlite'))
      db.prepare("INSERT INTO schema_migrations VALUES (?, 'from_the_future', '2030-01-01')").run(
        newer,
      )
      db.close()
      rehash(dir, { schema_version: newer })
    })
    const refusal = await refusedInto(file)
    expect(refusal).toMatchObject({ error: 'schema_too_new' })
    expect(refusal.message).toContain(`database schema ${newer} is newer than this sso-bridge (`)
  })

  it('a SQLite backup where DATABASE_URL selects PostgreSQL: backup_store_mismatch', async () => {
    expect(
      await refusedInto(backupFile, [], { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' }),
    ).toMatchObject({ error: 'backup_store_mismatch' })
  })

  it('over a non-empty DATA_DIR/KEYS_DIR: restore_target_not_empty, unless --force', async () => {
    const target = await cliSandbox('sso-bridge-restore-target-')
    expect((await target.cli(['keys', 'generate'])).code).toBe(0)
    expect((await target.cli(['users', 'put', '8', '--data', '{"username": "bob"}'])).code).toBe(0)
    const db = path.join(target.dir, 'data', 'sso-bridge.sqlite')
    const jwks = path.join(target.dir, 'keys', 'oidc-jwks.json')
    const digest = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex')
    const before = [digest(db), digest(jwks)]
    const r = await target.cli(['restore', backupFile])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stderr)).toMatchObject({ error: 'restore_target_not_empty' })
    expect([digest(db), digest(jwks)]).toEqual(before)

    // --force replaces them: the backup's account and keys, the other account gone.
    const forced = await target.cli(['restore', '--force', backupFile])
    expect(forced.code, forced.stderr).toBe(0)
    expect(JSON.parse((await target.cli(['users', 'get', '7'])).stdout)).toMatchObject({
      username: 'ada',
    })
    expect(JSON.parse((await target.cli(['users', 'get', '8'])).stderr)).toMatchObject({
      error: 'user_not_found',
    })
    expect(readFileSync(jwks)).toEqual(
      readFileSync(path.join(source.dir, 'keys', 'oidc-jwks.json')),
    )
  })

  it('backup refuses to overwrite a file unless --force', async () => {
    const r = await source.cli(['backup', backupFile])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stderr)).toMatchObject({ error: 'backup_file_exists' })
  })
})

describe('PostgreSQL: backup carries KEYS_DIR and says how to dump the database', () => {
  it('backup holds no database part and prints the pg_dump command; restore puts the keys back', async () => {
    // backup and restore never connect to PostgreSQL: the URL only selects the store kind.
    const env = { DATABASE_URL: 'postgres://sso@127.0.0.1:9/sso' }
    const source = await cliSandbox('sso-bridge-backup-pg-')
    expect((await source.cli(['keys', 'generate'])).code).toBe(0)
    const file = path.join(source.dir, 'pg-keys.tar.gz')
    const r = await source.cli(['backup', file], { env })
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({
      store: 'postgres',
      schema_version: null,
      database: { not_included: true, backup_with: expect.stringContaining('pg_dump') },
    })
    expect(report.parts).not.toContain('database/sso-bridge.sqlite')
    expect(report.parts).toContain('keys/oidc-jwks.json')

    const target = await cliSandbox('sso-bridge-restore-pg-')
    const restored = await target.cli(['restore', file], { env })
    expect(restored.code, restored.stderr).toBe(0)
    expect(JSON.parse(restored.stdout)).toMatchObject({
      database: { restore_with: expect.stringContaining('pg_restore') },
    })
    expect(readFileSync(path.join(target.dir, 'keys', 'oidc-jwks.json'))).toEqual(
      readFileSync(path.join(source.dir, 'keys', 'oidc-jwks.json')),
    )
    expect(existsSync(path.join(target.dir, 'data', 'sso-bridge.sqlite'))).toBe(false)
  })
})

describe('docs/backup.md: its examples', () => {
  it(
    'the SQLite backup and restore blocks run as written; the PostgreSQL ones are the commands the CLI prints',
    async () => {
      const blocks = shBlocks(docPage('backup'))
      expect(blocks).toHaveLength(4)
      const [backupBlock, restoreBlock, pgBackup, pgRestore] = blocks as [
        string,
        string,
        string,
        string,
      ]
      const source = await cliSandbox('sso-bridge-doc-backup-')
      expect((await source.cli(['keys', 'generate'])).code).toBe(0)
      expect((await source.cli(['users', 'put', '9', '--data', '{"username": "doc"}'])).code).toBe(
        0,
      )
      // runBlock runs `npx sso-bridge` in `dir` on dir/data and dir/keys (bash, set -e).
      const asServer = (dir: string) => ({ dir, url: 'http://unused.invalid' }) as ServerProcess
      const printed = JSON.parse(await runBlock(backupBlock, asServer(source.dir)))
      const file = /backup (\S+\.tar\.gz)/.exec(backupBlock)![1]!
      expect(printed).toMatchObject({ file: path.join(source.dir, file), store: 'sqlite' })

      const target = await cliSandbox('sso-bridge-doc-restore-')
      writeFileSync(path.join(target.dir, file), readFileSync(path.join(source.dir, file)))
      expect(JSON.parse(await runBlock(restoreBlock, asServer(target.dir)))).toMatchObject({
        store: 'sqlite',
      })
      expect(JSON.parse((await target.cli(['users', 'get', '9'])).stdout)).toMatchObject({
        username: 'doc',
      })

      const env = { DATABASE_URL: 'postgres://sso@127.0.0.1:9/sso' }
      const pg = await source.cli(['backup', path.join(source.dir, 'sso-bridge-keys.tar.gz')], {
        env,
      })
      expect(pgBackup).toContain(JSON.parse(pg.stdout).database.backup_with)
      expect(pgBackup).toContain('npx sso-bridge backup sso-bridge-keys.tar.gz')
      const pgTarget = await cliSandbox('sso-bridge-doc-restore-pg-')
      const back = await pgTarget.cli(
        ['restore', path.join(source.dir, 'sso-bridge-keys.tar.gz')],
        { env },
      )
      expect(pgRestore).toContain(JSON.parse(back.stdout).database.restore_with)
      expect(pgRestore).toContain('npx sso-bridge restore sso-bridge-keys.tar.gz')
    },
    PROCESS_TEST_TIMEOUT,
  )
})

/** Recomputes the manifest's sizes and SHA-256 after a deliberate edit (and merges `fields`). */
function rehash(dir: string, fields: Record<string, unknown> = {}): void {
  const file = path.join(dir, 'manifest.json')
  const manifest = JSON.parse(readFileSync(file, 'utf8'))
  for (const part of manifest.files) {
    const bytes = readFileSync(path.join(dir, part.path))
    part.size = bytes.length
    part.sha256 = createHash('sha256').update(bytes).digest('hex')
  }
  writeFileSync(file, JSON.stringify({ ...manifest, ...fields }))
}
