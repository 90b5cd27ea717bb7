/**
 * The two stores the event suites run on, each with a reader of its raw events table (SQL of its
 * own, not through the store), so a test can check what was really written.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import { createStore } from '../../src/store/index.ts'
import type { Store } from '../../src/store/ports.ts'
import { freshSchemaUrl } from '../helpers/pg.ts'

/** A store and a reader of its raw events table. */
export interface Backend {
  store: Store
  /** Every row of the events table, read with SQL of its own (not through the store). */
  rawRows: () => Promise<Record<string, unknown>[]>
  close: () => Promise<void>
}

/** A fresh SQLite file. */
export async function sqliteBackend(): Promise<Backend> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sso-bridge-events-')), 'db.sqlite')
  const store = await createStore({ kind: 'sqlite', file })
  return {
    store,
    rawRows: async () => {
      const db = new DatabaseSync(file, { readOnly: true })
      try {
        return db.prepare('SELECT * FROM events').all() as Record<string, unknown>[]
      } finally {
        db.close()
      }
    },
    close: async () => {},
  }
}

/** A fresh schema on the test PostgreSQL. */
export async function postgresBackend(): Promise<Backend> {
  const { url } = await freshSchemaUrl('sso_events')
  const store = await createStore({ kind: 'postgres', url, file: '' })
  return {
    store,
    rawRows: async () => {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        return (await c.query('SELECT * FROM events')).rows
      } finally {
        await c.end()
      }
    },
    close: async () => {},
  }
}

/** Both, for `describe.each`. */
export const BACKENDS: [string, () => Promise<Backend>][] = [
  ['sqlite', sqliteBackend],
  ['postgres', postgresBackend],
]
