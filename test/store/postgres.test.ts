/**
 * The store contract against PostgreSQL, plus what only PostgreSQL has (a server to miss,
 * concurrent migrators, savepoint-based batches), on the server globalSetup provides.
 *
 * Every store opens on something empty, so every open really runs the migrations: the
 * contract gets a fresh schema per store (`CREATE SCHEMA`, ~0 ms; the store's URL sets
 * `search_path` to it through the `options` parameter), the migration tests a fresh database
 * (`CREATE DATABASE`, 30-300 ms on a busy 2-core machine, so used sparingly) to cover the
 * default `public` schema too. Everything is dropped afterwards. With TEST_DATABASE_URL, the
 * role needs CREATE on that database and CREATEDB.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { AccountConflict } from '../../src/errors/index.ts'
import { listMigrations } from '../../src/store/migrations/index.ts'
import { ACCOUNT_UNIQUE_CONSTRAINTS, uniqueColumnOf } from '../../src/store/postgres/constraints.ts'
import { culprit } from '../../src/store/postgres/batch-writer.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import type { Store } from '../../src/store/ports.ts'
import { defineStoreContract } from '../contract/store.contract.ts'
import { accountWrite } from '../fixtures/accounts.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'
import { freePort } from '../setup/postgres.ts'

const baseUrl = inject('postgresUrl')

if (baseUrl === null) {
  // globalSetup already threw under CI; elsewhere say so as a failure, never a silent pass.
  it('PostgreSQL store suite', () => {
    throw new Error(POSTGRES_MISSING)
  })
} else {
  const run = randomBytes(3).toString('hex')
  const databases: string[] = []
  let admin: pg.Client
  let n = 0

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: baseUrl })
    await admin.connect()
  })
  afterAll(async () => {
    await dropFreshSchemas()
    for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
    await admin.end()
  })

  const freshSchema = async () => (await freshSchemaUrl()).url

  /** A new, empty database on the test server; returns its URL. */
  async function freshDatabase(): Promise<string> {
    const name = `sso_t_${run}_${n++}`
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`)
    databases.push(name)
    const url = new URL(baseUrl!)
    url.pathname = `/${name}`
    return url.toString()
  }

  defineStoreContract('postgres', async () => createPostgresStore(await freshSchema()))

  describe('postgres store specifics', () => {
    it('reopens a migrated database without re-running migrations and keeps the data', async () => {
      const url = await freshDatabase()
      const a = await createPostgresStore(url)
      await a.putIntegration({ id: 'x', type: 'jwt', settings: {}, secrets: {}, mapping: null })
      await a.close()
      const b = await createPostgresStore(url)
      expect(await b.getIntegration('x')).not.toBeNull()
      await b.close()
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      const { rows } = await c.query('SELECT version, name FROM schema_migrations ORDER BY version')
      await c.end()
      expect(rows).toEqual(
        listMigrations('postgres').map((m) => ({ version: m.version, name: m.name })),
      )
    })

    it('two stores opening the same fresh database at once both succeed, migrating once', async () => {
      const url = await freshDatabase()
      const stores = await Promise.all([
        createPostgresStore(url),
        createPostgresStore(url),
        createPostgresStore(url),
      ])
      await stores[0]!.upsertAccount(accountWrite({ external_id: 'a' }))
      for (const s of stores) expect(await s.countAccounts()).toBe(1)
      await Promise.all(stores.map((s) => s.close()))
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      const { rows } = await c.query('SELECT count(*)::int AS n FROM schema_migrations')
      await c.end()
      expect(rows[0].n).toBe(listMigrations('postgres').length)
    })

    it('an unreachable server is ERR_STORE_UNAVAILABLE, and the message never shows the password', async () => {
      const port = await freePort()
      const url = `postgres://someone:Sup3r-S3cret-pw@127.0.0.1:${port}/nowhere`
      const err = await createPostgresStore(url).then(
        () => expect.unreachable('should not open'),
        (e: unknown) => e as Error & { code: string },
      )
      expect(err.code).toBe('ERR_STORE_UNAVAILABLE')
      expect(err.message).toContain(`127.0.0.1:${port}/nowhere`)
      expect(err.message).not.toContain('Sup3r-S3cret-pw')
    })

    it('a refused login (unknown database) is ERR_STORE_UNAVAILABLE without echoing the password', async () => {
      // The test server trusts everyone (no wrong password possible): a missing database is
      // the server refusing the login, with a password in the URL all the same.
      const url = new URL(baseUrl!)
      url.password = 'An0ther-S3cret'
      url.pathname = '/no_such_database'
      const err = (await createPostgresStore(url.toString()).catch((e: unknown) => e)) as Error & {
        code: string
      }
      expect(err.code).toBe('ERR_STORE_UNAVAILABLE')
      expect(err.message).toMatch(/no_such_database/)
      expect(err.message).not.toContain('An0ther-S3cret')
    })

    it('ping fails with ERR_STORE_UNAVAILABLE once the pool is closed', async () => {
      const store = await createPostgresStore(await freshSchema())
      await store.close()
      await expect(store.ping()).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' })
      await store.close() // idempotent
    })

    describe('duplicate keys by constraint name (issue #11: not by parsing the message text)', () => {
      it('every constraint name constraints.ts relies on is one the migrations create, on the column it says', async () => {
        const url = await freshSchema()
        const store = await createPostgresStore(url)
        await store.close()
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        const { rows } = await c.query(
          `SELECT con.conname AS name, att.attname AS column FROM pg_constraint con
           JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY(con.conkey)
           WHERE con.conrelid = 'accounts'::regclass AND con.contype = 'u'`,
        )
        await c.end()
        expect(Object.fromEntries(rows.map((r) => [r.name, r.column]))).toEqual(
          ACCOUNT_UNIQUE_CONSTRAINTS,
        )
      })

      it('a real unique violation is placed by its constraint, even with its message and detail text gone', async () => {
        const url = await freshSchema()
        const store = await createPostgresStore(url)
        await store.upsertAccount(
          accountWrite({ external_id: 'holder', username: 'Taken', email: 'held@example.com' }),
        )
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        const err = await c
          .query(
            `INSERT INTO accounts (id, external_id, username_key, created_at, updated_at) VALUES ('x', 'other', 'taken', now(), now())`,
          )
          .then(
            () => null,
            (e: unknown) => e as pg.DatabaseError,
          )
        await c.end()
        await store.close()
        expect(err).toBeInstanceOf(pg.DatabaseError)
        // What a server with translated messages (lc_messages) would leave the old regex: nothing it can read.
        err!.message = 'doppelter Schlüsselwert verletzt Unique-Constraint'
        err!.detail = undefined
        expect(uniqueColumnOf(err!)).toBe('username_key')
        const writes = [
          accountWrite({ external_id: 'a', username: 'Free' }),
          accountWrite({ external_id: 'holder', username: 'Renamed' }), // the holder itself: no clash
          accountWrite({ external_id: 'b', username: 'Taken' }),
          accountWrite({ external_id: 'c', username: 'Taken' }),
        ]
        const held = new Map([['taken', 'holder']])
        expect(culprit('username_key', held, writes, 0, writes.length)).toBe(2)
        // A key repeated inside the window points at its second setter.
        expect(
          culprit(
            'username_key',
            new Map(),
            [writes[0]!, accountWrite({ external_id: 'd', username: 'free' })],
            0,
            2,
          ),
        ).toBe(1)
        // A violation on no key column (or none named) gives no hint: the caller retries a smaller window.
        expect(culprit(null, held, writes, 0, writes.length)).toBeNull()
        expect(culprit('email_key', held, writes, 0, writes.length)).toBeNull()
      })
    })

    describe('large batches', () => {
      let store: Store
      beforeAll(async () => {
        store = await createPostgresStore(await freshSchema())
      })
      afterAll(() => store.close())

      it('2,000 non-atomic upserts with a few conflicting records report exactly those', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'holder-u', username: 'Taken' }))
        await store.upsertAccount(
          accountWrite({ external_id: 'holder-e', email: 'taken@example.test' }),
        )
        const bad = new Map<number, 'username' | 'email'>([
          [0, 'username'], // clashes with an existing account
          [7, 'email'],
          [999, 'username'],
          [1000, 'email'], // first record of the second chunk
          [1500, 'username'], // clashes with record 1499, written earlier in the same batch
          [1999, 'email'],
        ])
        const writes = Array.from({ length: 2000 }, (_, i) => {
          const field = bad.get(i)
          if (i === 1500) return accountWrite({ external_id: `b${i}`, username: 'USER-B1499' })
          return accountWrite({
            external_id: `b${i}`,
            ...(field === 'username' ? { username: 'TAKEN' } : {}),
            ...(field === 'email' ? { email: 'Taken@Example.test' } : {}),
          })
        })
        // Observed, not replaced: every statement the store sends still reaches the server.
        const sent = vi.spyOn(pg.Client.prototype, 'query')
        let results
        let statements: number
        try {
          results = await store.upsertAccounts(writes, { atomic: false })
          statements = sent.mock.calls.length
        } finally {
          sent.mockRestore()
        }
        // Multi-row statements, cut around the clashing records: a few dozen round trips. Row at a
        // time would be 2,000 upserts at least (each under its savepoint: three statements).
        expect(statements).toBeLessThan(writes.length / 20)
        expect(results).toHaveLength(2000)
        const failed = results.flatMap((r, i) => (r.ok ? [] : [i]))
        expect(failed).toEqual([...bad.keys()])
        for (const [i, field] of bad) {
          const r = results[i]!
          expect(r.ok).toBe(false)
          if (r.ok) continue
          expect(r.error).toBeInstanceOf(AccountConflict)
          expect(r.error).toMatchObject({ code: 'ERR_ACCOUNT_CONFLICT', field })
        }
        const holderU = await store.getAccountByExternalId('holder-u')
        const b1499 = await store.getAccountByExternalId('b1499')
        expect(results[0]).toMatchObject({ error: { existingId: holderU!.id } })
        expect(results[1500]).toMatchObject({ error: { existingId: b1499!.id } })
        expect(results.filter((r) => r.ok && r.created)).toHaveLength(2000 - bad.size)
        expect(await store.countAccounts()).toBe(2 + 2000 - bad.size)
        for (const i of bad.keys()) expect(await store.getAccountByExternalId(`b${i}`)).toBeNull()
      })

      it('a multi-row batch round-trips awkward text exactly (quotes, backslashes, braces, "NULL")', async () => {
        const awkward = [
          'NULL',
          'null',
          '',
          ' ',
          'a,b',
          '{x}',
          'say "hi"',
          'back\\slash\\',
          '\\"',
          'tab\tnew\nline',
          'Zoë 𝔘 ☃',
        ]
        const writes = awkward.map((text, i) =>
          accountWrite({
            external_id: `awk-${i}-${text}`,
            nickname: text,
            title: text,
            given_name: null,
            profile: { text, list: [text] },
            email_verified: i % 2 === 0,
          }),
        )
        const results = await store.upsertAccounts(writes, { atomic: true })
        expect(results.every((r) => r.ok && r.created)).toBe(true)
        for (const [i, text] of awkward.entries()) {
          expect(await store.getAccountByExternalId(`awk-${i}-${text}`)).toMatchObject({
            nickname: text,
            title: text,
            given_name: null,
            profile: { text, list: [text] },
            email_verified: i % 2 === 0,
          })
        }
      })

      it('concurrent batches over the same keys in opposite orders neither deadlock nor double-book', async () => {
        // Each batch takes one shared name first and the other last, with enough in between
        // that both are mid-transaction at once: unserialised, each would wait for the other.
        const batch = (tag: string, first: string, last: string) =>
          Array.from({ length: 3000 }, (_, i) =>
            accountWrite({
              external_id: `${tag}${i}`,
              username: i === 0 ? first : i === 2999 ? last : `${tag}-own-${i}`,
              email: null,
            }),
          )
        const [a, b] = await Promise.all([
          store.upsertAccounts(batch('cf', 'Shared-A', 'Shared-B'), { atomic: false }),
          store.upsertAccounts(batch('cb', 'SHARED-B', 'SHARED-A'), { atomic: false }),
        ])
        const failed = [a, b].map((rs) => rs.flatMap((r, i) => (r.ok ? [] : [i])))
        // Whichever ran second lost both shared names and nothing else.
        expect(failed.map((f) => f.length).sort()).toEqual([0, 2])
        expect(failed.flat()).toEqual([0, 2999])
        expect(await store.findCredentials({ username_key: 'shared-a' })).not.toBeNull()
        expect(await store.findCredentials({ username_key: 'shared-b' })).not.toBeNull()
      })

      it('a batch repeating an external_id applies the records in order, like single writes', async () => {
        const results = await store.upsertAccounts(
          [
            accountWrite({ external_id: 'rep', nickname: 'one', password_hash: 'h1' }),
            accountWrite({ external_id: 'rep', nickname: 'two' }), // keeps h1
            accountWrite({ external_id: 'rep-2' }),
            accountWrite({ external_id: 'rep', nickname: 'three', password_hash: null }), // clears
          ],
          { atomic: false },
        )
        expect(results).toEqual([
          { ok: true, created: true, external_id: 'rep', resolutions: [] },
          { ok: true, created: false, external_id: 'rep', resolutions: [] },
          { ok: true, created: true, external_id: 'rep-2', resolutions: [] },
          { ok: true, created: false, external_id: 'rep', resolutions: [] },
        ])
        expect(await store.getAccountByExternalId('rep')).toMatchObject({
          nickname: 'three',
          has_password: false,
        })
      })

      it('a batch where a record frees a username that a later record takes succeeds', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'swap-a', username: 'Swapped' }))
        const results = await store.upsertAccounts(
          [
            accountWrite({ external_id: 'swap-a', username: 'Other' }),
            accountWrite({ external_id: 'swap-b', username: 'swapped' }),
          ],
          { atomic: true },
        )
        expect(results.map((r) => r.ok)).toEqual([true, true])
        expect(
          (await store.findCredentials({ username_key: 'swapped' }))!.account.external_id,
        ).toBe('swap-b')
      })

      it('a batch failing on something other than a clash (a CHECK) throws and writes nothing', async () => {
        const before = await store.countAccounts()
        const bad = {
          ...accountWrite({ external_id: 'chk-2' }),
          rank: 'emperor',
        } as unknown as ReturnType<typeof accountWrite>
        await expect(
          store.upsertAccounts([accountWrite({ external_id: 'chk-1' }), bad], { atomic: false }),
        ).rejects.toMatchObject({ code: '23514' })
        expect(await store.countAccounts()).toBe(before)
      })

      it('mixed password modes in one batch keep, set and clear hashes per record', async () => {
        await store.upsertAccounts(
          Array.from({ length: 6 }, (_, i) =>
            accountWrite({ external_id: `pw${i}`, password_hash: `h${i}` }),
          ),
          { atomic: true },
        )
        const modes = [undefined, 'new1', null, undefined, null, 'new5'] as const
        await store.upsertAccounts(
          modes.map((password_hash, i) => accountWrite({ external_id: `pw${i}`, password_hash })),
          { atomic: false },
        )
        const hashes = await Promise.all(
          modes.map(
            async (_, i) =>
              (await store.findCredentials({ username_key: `user-pw${i}` }))!.password_hash,
          ),
        )
        expect(hashes).toEqual(['h0', 'new1', null, 'h3', null, 'new5'])
      })
    })
  })
}
