/**
 * The PostgreSQL variant of backup and restore (docs/backup.md, "PostgreSQL"), run as the page
 * writes it: its two `sh` blocks (`pg_dump` + `npx sso-bridge backup`, then `npx sso-bridge
 * restore` + `pg_restore`) in bash, with PostgreSQL's own client tools, against a real server
 * process on a database of its own. A server started on the restored database and KEYS_DIR
 * starts (the keys match the fingerprints the dump recorded), publishes the same keys and holds
 * the account written before the dump.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { linkCliInto } from '../helpers/cli.ts'
import { postgresUrl } from '../helpers/pg.ts'
import { docPage, shBlocks } from '../helpers/readme.ts'
import { startServer, stopServer, type ServerProcess } from '../helpers/server.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'
import { findPostgresBin } from '../setup/postgres.ts'

const ADMIN_TOKEN = 'backup-pg-admin-token-0123456789abcdef'
const baseUrl = postgresUrl()

if (baseUrl === null) {
  it('PostgreSQL backup suite', () => {
    throw new Error(POSTGRES_MISSING)
  })
} else {
  const run = randomBytes(3).toString('hex')
  const databases: string[] = []
  const dirs: string[] = []
  let admin: pg.Client
  const servers: (ServerProcess | undefined)[] = []

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: baseUrl })
    await admin.connect()
  })
  afterAll(async () => {
    for (const s of servers) await stopServer(s)
    for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
    await admin.end()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }, PROCESS_TEST_TIMEOUT)

  /** A new, empty database on the test server (the documented commands dump a whole one). */
  async function freshDatabase(): Promise<string> {
    const name = `sso_backup_${run}_${databases.length}`
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`)
    databases.push(name)
    const url = new URL(baseUrl!)
    url.pathname = `/${name}`
    return url.toString()
  }

  function tempDir(): string {
    const d = mkdtempSync(path.join(tmpdir(), 'sso-bridge-backup-pg-'))
    dirs.push(d)
    linkCliInto(d)
    return d
  }

  /** Runs one documented block in bash (set -e) in `dir`, as an operator's shell would. */
  function bash(script: string, dir: string, databaseUrl: string): Promise<string> {
    const pgBin = findPostgresBin()
    const env = {
      PATH: [path.resolve('node_modules/.bin'), ...(pgBin ? [pgBin] : []), process.env.PATH].join(
        path.delimiter,
      ),
      HOME: dir,
      DATABASE_URL: databaseUrl,
      DATA_DIR: path.join(dir, 'data'),
      KEYS_DIR: path.join(dir, 'keys'),
      LOG_LEVEL: 'silent',
      npm_config_yes: 'false',
      npm_config_offline: 'true',
    }
    return new Promise((resolve, reject) =>
      execFile(
        'bash',
        ['-euo', 'pipefail', '-c', script],
        { cwd: dir, env, encoding: 'utf8', timeout: PROCESS_TEST_TIMEOUT },
        (err, stdout, stderr) =>
          err
            ? reject(new Error(`${script}\n--- stderr ---\n${stderr}`, { cause: err }))
            : resolve(stdout),
      ),
    )
  }

  describe('PostgreSQL: pg_dump and the keys backup, as docs/backup.md writes them', () => {
    it(
      'a server restored from the dump and the keys file starts, with the same keys and the account written before',
      async () => {
        const blocks = shBlocks(docPage('backup'))
        const pgBackup = blocks.find((b) => b.includes('pg_dump'))!
        const pgRestore = blocks.find((b) => b.includes('pg_restore'))!
        expect(pgBackup).toBeDefined()
        expect(pgRestore).toBeDefined()

        const db1 = await freshDatabase()
        const dir1 = tempDir()
        const first = await startServer({ DATABASE_URL: db1, ADMIN_TOKEN }, dir1)
        servers.push(first)
        const put = await fetch(`${first.url}/api/v1/users/pg-7`, {
          method: 'PUT',
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'grace', email: 'grace@example.test' }),
        })
        expect(put.status).toBe(201)
        const jwks = await (await fetch(`${first.url}/jwks`)).json()

        // Taken while the server runs, as pg_dump allows.
        const printed = await bash(pgBackup, dir1, db1)
        expect(printed).toContain('"store": "postgres"')
        await stopServer(first)

        const db2 = await freshDatabase()
        const dir2 = tempDir()
        for (const f of ['sso-bridge.pgdump', 'sso-bridge-keys.tar.gz'])
          copyFileSync(path.join(dir1, f), path.join(dir2, f))
        await bash(pgRestore, dir2, db2)

        const second = await startServer({ DATABASE_URL: db2, ADMIN_TOKEN }, dir2)
        servers.push(second)
        expect((await fetch(`${second.url}/readyz`)).status).toBe(200)
        expect(await (await fetch(`${second.url}/jwks`)).json()).toEqual(jwks)
        const got = await fetch(`${second.url}/api/v1/users/pg-7`, {
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        })
        expect(got.status).toBe(200)
        expect(await got.json()).toMatchObject({ external_id: 'pg-7', username: 'grace' })
      },
      PROCESS_TEST_TIMEOUT,
    )
  })
}
