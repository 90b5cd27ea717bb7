/**
 * The two stores under test, each paired with its raw-driver baseline on a separate, identically
 * migrated database of the same kind. A baseline runs the same SQL a store would need at the
 * least (plain INSERT of the same columns, SELECT of the same columns by external_id), with
 * pre-normalized values, no validation and no row mapping: the floor our code is compared with.
 */
import { testSecretBox } from '../helpers/secrets.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync, type SQLInputValue } from 'node:sqlite'
import pg from 'pg'
import type { AccountService } from '../../src/accounts/service.ts'
import { createServices } from '../../src/services.ts'
import { ACCOUNT_READ_COLUMNS } from '../../src/store/columns.ts'
import { newId } from '../../src/store/ids.ts'
import { listMigrations } from '../../src/store/migrations/index.ts'
import type { Store } from '../../src/store/ports.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { BASE_COLUMNS, type BaseRow } from './data.ts'
import type { BenchPostgres } from './postgres.ts'

export interface Baseline {
  /** One INSERT, committed on its own (autocommit), as a single upsert is. */
  insertOne(row: BaseRow): unknown
  /** One SELECT of the account columns by external_id. */
  getOne(externalId: string): unknown
  /** All rows in one transaction, batched as the driver does best. */
  insertAll(rows: BaseRow[]): unknown
  count(): Promise<number>
  /** Converts rows to the driver's value types ahead of a timing (not part of what is measured). */
  prepare(rows: BaseRow[]): void
}

export interface Pair {
  accounts: AccountService
  store: Store
  baseline: Baseline
  close(): Promise<void>
}

export interface Target {
  name: 'SQLite' | 'PostgreSQL'
  /** A fresh, empty store and baseline database. */
  pair(label: string): Promise<Pair>
  /** Before a one-shot timing: let the database settle (PostgreSQL: CHECKPOINT). */
  settle(): Promise<void>
}

const INSERT_COLUMNS = ['id', ...BASE_COLUMNS, 'created_at', 'updated_at']
const SELECT_BY_EXTERNAL_ID = `SELECT ${ACCOUNT_READ_COLUMNS.join(', ')}, password_hash IS NOT NULL AS has_password FROM accounts WHERE external_id = `

const servicesFor = (store: Store) =>
  createServices(store, { readSecretEnv: () => undefined, secrets: testSecretBox() })

// ---------------------------------------------------------------------------------------------
// SQLite: temp files, WAL, opened exactly as the store opens its file.

export function sqliteTarget(): Target {
  return {
    name: 'SQLite',
    async settle() {},
    async pair(label) {
      const dir = mkdtempSync(path.join(tmpdir(), `sso-bridge-bench-${label}-`))
      const removeDir = () => rmSync(dir, { recursive: true, force: true })
      process.once('exit', removeDir)
      const store = createSqliteStore(path.join(dir, 'ours.sqlite'))
      const db = new DatabaseSync(path.join(dir, 'baseline.sqlite'))
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
      for (const m of listMigrations('sqlite')) db.exec(m.sql)
      const insert = db.prepare(
        `INSERT INTO accounts (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')})`,
      )
      const select = db.prepare(`${SELECT_BY_EXTERNAL_ID}?`)
      const count = db.prepare('SELECT count(*) AS n FROM accounts')
      const verified = BASE_COLUMNS.indexOf('email_verified')
      // node:sqlite takes no booleans: rows are converted once by prepare(), outside the timings.
      const converted = new WeakMap<BaseRow, SQLInputValue[]>()
      const convert = (row: BaseRow) => {
        const v = [...row] as SQLInputValue[]
        v[verified] = row[verified] ? 1 : 0
        converted.set(row, v)
        return v
      }
      const values = (row: BaseRow) => converted.get(row) ?? convert(row)
      return {
        accounts: servicesFor(store).accounts,
        store,
        baseline: {
          insertOne(row) {
            const now = new Date().toISOString()
            insert.run(newId(), ...values(row), now, now)
          },
          getOne(externalId) {
            return select.get(externalId)
          },
          insertAll(rows) {
            const now = new Date().toISOString()
            db.exec('BEGIN IMMEDIATE')
            for (const row of rows) insert.run(newId(), ...values(row), now, now)
            db.exec('COMMIT')
          },
          async count() {
            return Number((count.get() as { n: number }).n)
          },
          prepare(rows) {
            for (const row of rows) if (!converted.has(row)) convert(row)
          },
        },
        async close() {
          await store.close()
          db.close()
          process.removeListener('exit', removeDir)
          removeDir()
        },
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: two fresh databases per pair on one server; the baseline is one pg.Client.

/** Rows per multi-row INSERT in the baseline import: 1,000, or fewer if a statement would pass 65,535 parameters. */
const PG_BATCH = Math.min(1000, Math.floor(65_535 / INSERT_COLUMNS.length))

export function postgresTarget(server: BenchPostgres): Target {
  const insertText = (rows: number) =>
    `INSERT INTO accounts (${INSERT_COLUMNS.join(', ')}) VALUES ${Array.from(
      { length: rows },
      (_, r) =>
        `(${INSERT_COLUMNS.map((_, c) => `$${r * INSERT_COLUMNS.length + c + 1}`).join(', ')})`,
    ).join(', ')}`
  const one = { name: 'bench_insert_one', text: insertText(1) }
  const batch = { name: 'bench_insert_batch', text: insertText(PG_BATCH) }
  const select = { name: 'bench_select', text: `${SELECT_BY_EXTERNAL_ID}$1` }

  return {
    name: 'PostgreSQL',
    settle: () => server.checkpoint(),
    async pair(label) {
      const oursUrl = await server.createDatabase(`${label}_ours`)
      const baseUrl = await server.createDatabase(`${label}_base`)
      const { createPostgresStore } = await import('../../src/store/postgres/store.ts')
      const store = await createPostgresStore(oursUrl)
      const client = new pg.Client({ connectionString: baseUrl })
      await client.connect()
      for (const m of listMigrations('postgres')) await client.query(m.sql)
      return {
        accounts: servicesFor(store).accounts,
        store,
        baseline: {
          async insertOne(row) {
            const now = new Date().toISOString()
            await client.query({ ...one, values: [newId(), ...row, now, now] })
          },
          async getOne(externalId) {
            return (await client.query({ ...select, values: [externalId] })).rows[0]
          },
          async insertAll(rows) {
            const now = new Date().toISOString()
            await client.query('BEGIN')
            for (let at = 0; at < rows.length; at += PG_BATCH) {
              const part = rows.slice(at, at + PG_BATCH)
              const values: unknown[] = []
              for (const row of part) values.push(newId(), ...row, now, now)
              await client.query(
                part.length === PG_BATCH
                  ? { ...batch, values }
                  : { text: insertText(part.length), values },
              )
            }
            await client.query('COMMIT')
          },
          async count() {
            return Number((await client.query('SELECT count(*) AS n FROM accounts')).rows[0].n)
          },
          prepare() {},
        },
        async close() {
          await store.close()
          await client.end()
          await server.dropDatabase(oursUrl)
          await server.dropDatabase(baseUrl)
        },
      }
    },
  }
}
