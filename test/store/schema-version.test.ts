/**
 * Versioned, forward-only migrations (issue #13): the schema version is the highest version in
 * `schema_migrations`, and a store (so a server, and the CLI) refuses a database a newer build
 * migrated — simulated by recording a version above this build's newest migration — with
 * `ERR_SCHEMA_TOO_NEW` and a message naming both schema versions and this build's version,
 * changing nothing. On both stores; the server process's refusal is checked on SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createStore } from '../../src/store/index.ts'
import { latestSchemaVersion, listMigrations } from '../../src/store/migrations/index.ts'
import { VERSION } from '../../src/version.ts'
import { cliSandbox, removeSandboxes } from '../helpers/cli.ts'
import { dropFreshSchemas, freshSchemaUrl, postgresUrl } from '../helpers/pg.ts'
import { runServer, startServer, stopServer, type ServerProcess } from '../helpers/server.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  await removeSandboxes()
  await dropFreshSchemas()
})

const NEWER = 900 + latestSchemaVersion('sqlite')

/** The refusal every store and process gives for a database at `newer`. */
const refusal = (newer: number, dialect: 'sqlite' | 'postgres') =>
  `database schema ${newer} is newer than this sso-bridge (${VERSION}, schema ${latestSchemaVersion(dialect)})`

describe('schema version', () => {
  it('is the newest migration of each dialect, and both dialects have the same versions', () => {
    const sqlite = listMigrations('sqlite').map((m) => m.version)
    expect(sqlite.length).toBeGreaterThan(0)
    expect(listMigrations('postgres').map((m) => m.version)).toEqual(sqlite)
    expect(latestSchemaVersion('sqlite')).toBe(Math.max(...sqlite))
  })
})

describe('SQLite: a database migrated by a newer build', () => {
  function newerDatabase(): { dataDir: string; file: string } {
    const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-schema-'))
    dirs.push(dir)
    const dataDir = path.join(dir, 'data')
    return { dataDir, file: path.join(dataDir, 'sso-bridge.sqlite') }
  }
  async function migrateThenMarkNewer(file: string): Promise<void> {
    const store = await createStore({ kind: 'sqlite', file })
    await store.close()
    const db = new DatabaseSync(file)
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(
      NEWER,
      'from_the_future',
      new Date().toISOString(),
    )
    db.close()
  }
  const versions = (file: string) => {
    const db = new DatabaseSync(file)
    try {
      return (
        db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
          version: number
        }[]
      ).map((r) => r.version)
    } finally {
      db.close()
    }
  }

  it('the store refuses to open it with ERR_SCHEMA_TOO_NEW naming both versions, and changes nothing', async () => {
    const { file } = newerDatabase()
    await migrateThenMarkNewer(file)
    const before = versions(file)
    await expect(createStore({ kind: 'sqlite', file })).rejects.toMatchObject({
      code: 'ERR_SCHEMA_TOO_NEW',
      databaseSchema: NEWER,
      buildSchema: latestSchemaVersion('sqlite'),
      message: expect.stringContaining(refusal(NEWER, 'sqlite')),
    })
    expect(versions(file)).toEqual(before)
  })

  it("a database at this build's version opens again, its versions unchanged", async () => {
    const { file } = newerDatabase()
    await (await createStore({ kind: 'sqlite', file })).close()
    expect(versions(file)).toEqual(listMigrations('sqlite').map((m) => m.version))
    await (await createStore({ kind: 'sqlite', file })).close()
    expect(versions(file)).toEqual(listMigrations('sqlite').map((m) => m.version))
  })

  it(
    'the server process refuses to start (exit 1, ERR_SCHEMA_TOO_NEW and both versions in the log)',
    async () => {
      const { dataDir, file } = newerDatabase()
      await migrateThenMarkNewer(file)
      const { code, output } = await runServer({ DATA_DIR: dataDir })
      expect(code).toBe(1)
      const fatal = output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'cannot start')
      expect(fatal).toMatchObject({ code: 'ERR_SCHEMA_TOO_NEW' })
      expect(output).toContain(refusal(NEWER, 'sqlite'))
      expect(output).not.toContain('sso-bridge listening')
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    '/readyz: ready while the migrations are current; 503 schema_too_new once a newer build migrates the database under the running server',
    async () => {
      let server: ServerProcess | undefined
      try {
        server = await startServer()
        const ready = await fetch(`${server.url}/readyz`)
        expect(ready.status).toBe(200)
        expect(await ready.json()).toEqual({ status: 'ready', store: 'sqlite' })
        // What a newer instance's migration leaves behind (WAL: written beside the server).
        const db = new DatabaseSync(path.join(server.dir, 'data', 'sso-bridge.sqlite'))
        db.exec('PRAGMA busy_timeout = 5000')
        db.prepare("INSERT INTO schema_migrations VALUES (?, 'from_the_future', '2030-01-01')").run(
          NEWER,
        )
        db.close()
        const stale = await fetch(`${server.url}/readyz`)
        expect(stale.status).toBe(503)
        expect(await stale.json()).toEqual({
          status: 'unavailable',
          store: 'sqlite',
          error: 'schema_too_new',
        })
      } finally {
        await stopServer(server)
      }
    },
    PROCESS_TEST_TIMEOUT,
  )

  it('the CLI refuses too (schema_too_new, exit 1)', async () => {
    const { cli, dir } = await cliSandbox()
    const file = path.join(dir, 'data', 'sso-bridge.sqlite')
    await migrateThenMarkNewer(file)
    const r = await cli(['users', 'list'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stderr)).toEqual({
      error: 'schema_too_new',
      message: expect.stringContaining(refusal(NEWER, 'sqlite')),
    })
    expect(versions(file)).toContain(NEWER)
  })
})

describe('PostgreSQL: a database migrated by a newer build', () => {
  if (postgresUrl() === null) {
    it('PostgreSQL schema version suite', () => {
      throw new Error(POSTGRES_MISSING)
    })
    return
  }

  it(
    'the store and a server process refuse it with ERR_SCHEMA_TOO_NEW naming both versions, and change nothing',
    async () => {
      const { url } = await freshSchemaUrl('sso_schema')
      const store = await createStore({ kind: 'postgres', url, file: '' })
      await store.close()
      const newer = 900 + latestSchemaVersion('postgres')
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from_the_future', now())",
          [newer],
        )
        const before = (await client.query('SELECT version FROM schema_migrations ORDER BY 1')).rows
        await expect(createStore({ kind: 'postgres', url, file: '' })).rejects.toMatchObject({
          code: 'ERR_SCHEMA_TOO_NEW',
          databaseSchema: newer,
          buildSchema: latestSchemaVersion('postgres'),
          message: expect.stringContaining(refusal(newer, 'postgres')),
        })
        expect(
          (await client.query('SELECT version FROM schema_migrations ORDER BY 1')).rows,
        ).toEqual(before)
        // And a server process on it refuses to start, naming both versions.
        const { code, output } = await runServer({ DATABASE_URL: url })
        expect(code).toBe(1)
        expect(output).toContain('"code":"ERR_SCHEMA_TOO_NEW"')
        expect(output).toContain(refusal(newer, 'postgres'))
        expect(output).not.toContain('sso-bridge listening')
      } finally {
        await client.end()
      }
    },
    PROCESS_TEST_TIMEOUT,
  )

  it('ping (what /readyz asks) fails with ERR_SCHEMA_TOO_NEW once a newer build migrates the database under a running store', async () => {
    const { url } = await freshSchemaUrl('sso_schema')
    const store = await createStore({ kind: 'postgres', url, file: '' })
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await store.ping()
      const newer = 900 + latestSchemaVersion('postgres')
      await client.query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from_the_future', now())",
        [newer],
      )
      await expect(store.ping()).rejects.toMatchObject({
        code: 'ERR_SCHEMA_TOO_NEW',
        message: expect.stringContaining(refusal(newer, 'postgres')),
      })
    } finally {
      await client.end()
      await store.close()
    }
  })

  it("a database at this build's version opens again", async () => {
    const { url } = await freshSchemaUrl('sso_schema')
    await (await createStore({ kind: 'postgres', url, file: '' })).close()
    const again = await createStore({ kind: 'postgres', url, file: '' })
    await again.ping()
    await again.close()
  })
})
