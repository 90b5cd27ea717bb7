/**
 * Fresh, empty PostgreSQL schemas on the server the globalSetup provides, for suites that run
 * the whole app over PostgreSQL. Each URL pins `search_path` to its own schema.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'

const run = randomBytes(3).toString('hex')
let n = 0

export const postgresUrl = (): string | null => inject('postgresUrl')

export async function freshSchemaUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = postgresUrl()
  if (!base) throw new Error('PostgreSQL not available: install postgresql (apt-get install postgresql) or set TEST_DATABASE_URL')
  const name = `sso_app_${run}_${n++}`
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${name}`)
  await admin.end()
  const url = new URL(base)
  url.searchParams.set('options', `-c search_path=${name}`)
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base })
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
      await c.end()
    },
  }
}
