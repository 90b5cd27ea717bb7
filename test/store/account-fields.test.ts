/**
 * Issue #11: the field table (store/account-fields.ts) and the migrated `accounts` table agree,
 * on SQLite and on PostgreSQL (the server globalSetup provides): same columns, each stored as its
 * kind says, NOT NULL exactly where the field is not nullable; and every field's example goes
 * through each store's write and read converters unchanged. Migrations stay SQL files; this is
 * what holds them and the table together.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { ACCOUNT_FIELD_NAMES, fieldSpec, type AccountData } from '../../src/accounts/types.ts'
import { ACCOUNT_WRITE_COLUMNS } from '../../src/store/columns.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import type { Store } from '../../src/store/ports.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { accountWrite } from '../fixtures/accounts.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'

interface Column {
  name: string
  type: string
  notNull: boolean
}

/** Every column an account row has: id, the write columns, the hash and the timestamps. */
const EXPECTED_COLUMNS = [
  'id',
  ...ACCOUNT_WRITE_COLUMNS,
  'password_hash',
  'created_at',
  'updated_at',
].sort()

const SQLITE_TYPE = { text: 'TEXT', boolean: 'INTEGER', json: 'TEXT' } as const
const POSTGRES_TYPE = { text: 'text', boolean: 'boolean', json: 'jsonb' } as const

function checkColumns(columns: Column[], types: Record<'text' | 'boolean' | 'json', string>) {
  expect(columns.map((c) => c.name).sort()).toEqual(EXPECTED_COLUMNS)
  const byName = new Map(columns.map((c) => [c.name, c]))
  for (const name of ACCOUNT_FIELD_NAMES) {
    const spec = fieldSpec(name)
    expect(byName.get(name), name).toEqual({
      name,
      type: types[spec.column],
      notNull: !spec.nullable,
    })
  }
}

/** Writes every field's example through the store and reads it back by both reads. */
async function roundTrip(store: Store) {
  const examples = Object.fromEntries(
    ACCOUNT_FIELD_NAMES.map((name) => [name, fieldSpec(name).example]),
  ) as Partial<AccountData>
  const { account } = await store.upsertAccount(accountWrite({ external_id: 'f1', ...examples }))
  const byId = await store.getAccountById(account.id)
  // The batch writer has its own encoding (PostgreSQL: arrays cast per column); the unique
  // username and email must be free for it.
  expect(await store.deleteAccount('f1')).toBe(true)
  const batch = await store.upsertAccounts([accountWrite({ external_id: 'f2', ...examples })], {
    atomic: true,
  })
  const viaBatch = await store.getAccountByExternalId('f2')
  expect(batch[0]).toMatchObject({ ok: true })
  for (const name of ACCOUNT_FIELD_NAMES) {
    const example = fieldSpec(name).example
    expect(account[name], name).toEqual(example)
    expect(byId![name], name).toEqual(example)
    expect(viaBatch![name], name).toEqual(example)
  }
}

describe('SQLite: the field table and the migrated accounts table agree', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-fields-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('same columns, kinds and nullability', async () => {
    const file = path.join(dir, 'columns.db')
    const store = createSqliteStore(file)
    await store.close()
    const db = new DatabaseSync(file, { readOnly: true })
    try {
      const rows = db.prepare('PRAGMA table_info(accounts)').all() as {
        name: string
        type: string
        notnull: number
      }[]
      checkColumns(
        rows.map((r) => ({ name: r.name, type: r.type, notNull: r.notnull === 1 })),
        SQLITE_TYPE,
      )
    } finally {
      db.close()
    }
  })

  it('every field goes through the write and read converters unchanged', async () => {
    const store = createSqliteStore(path.join(dir, 'round-trip.db'))
    try {
      await roundTrip(store)
    } finally {
      await store.close()
    }
  })
})

const baseUrl = inject('postgresUrl')

describe('PostgreSQL: the field table and the migrated accounts table agree', () => {
  afterAll(() => dropFreshSchemas())

  if (baseUrl === null) {
    it('PostgreSQL is available', () => {
      throw new Error(POSTGRES_MISSING)
    })
    return
  }

  it('same columns, kinds and nullability', async () => {
    const { url, schema } = await freshSchemaUrl('sso_fields')
    const store = await createPostgresStore(url)
    await store.close()
    const client = new pg.Client({ connectionString: baseUrl })
    await client.connect()
    try {
      const { rows } = await client.query<{ name: string; type: string; nullable: string }>(
        `SELECT column_name AS name, data_type AS type, is_nullable AS nullable
           FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'accounts'`,
        [schema],
      )
      checkColumns(
        rows.map((r) => ({ name: r.name, type: r.type, notNull: r.nullable === 'NO' })),
        POSTGRES_TYPE,
      )
    } finally {
      await client.end()
    }
  })

  it('every field goes through the write and read converters (single and batch) unchanged', async () => {
    const { url } = await freshSchemaUrl('sso_fields')
    const store = await createPostgresStore(url)
    try {
      await roundTrip(store)
    } finally {
      await store.close()
    }
  })
})
