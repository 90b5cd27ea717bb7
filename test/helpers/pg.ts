/**
 * Fresh, empty PostgreSQL schemas on the server the globalSetup provides: each URL pins
 * `search_path` to its own schema, so every store opens on nothing and runs its migrations
 * (`CREATE SCHEMA` costs ~0 ms where `CREATE DATABASE` costs 30-300 ms). `dropFreshSchemas()`
 * removes what a file made (call it in afterAll); `drop()` removes one early.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'

const run = randomBytes(3).toString('hex')
let n = 0
let admin: Promise<pg.Client> | undefined
const made = new Set<string>()

export const postgresUrl = (): string | null => inject('postgresUrl')

function adminClient(): Promise<pg.Client> {
  return (admin ??= (async () => {
    const base = postgresUrl()
    if (!base)
      throw new Error(
        'PostgreSQL not available: install postgresql (apt-get install postgresql) or set TEST_DATABASE_URL',
      )
    const client = new pg.Client({ connectionString: base })
    await client.connect()
    return client
  })())
}

export async function freshSchemaUrl(
  prefix = 'sso_t',
): Promise<{ url: string; schema: string; drop: () => Promise<void> }> {
  const client = await adminClient()
  const schema = `${prefix}_${run}_${n++}`
  await client.query(`CREATE SCHEMA ${schema}`)
  made.add(schema)
  const url = new URL(postgresUrl()!)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    url: url.toString(),
    schema,
    drop: async () => {
      made.delete(schema)
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    },
  }
}

/** Drops every schema this file made and closes the admin connection. */
export async function dropFreshSchemas(): Promise<void> {
  if (!admin) return
  const client = await admin
  admin = undefined
  for (const schema of made) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  made.clear()
  await client.end()
}
