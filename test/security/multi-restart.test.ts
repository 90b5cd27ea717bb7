/**
 * Regression (issue #10, "Several instances"): the instances must outlive a PostgreSQL restart,
 * and their LISTEN connections (integration changes, store/postgres/changes.ts) must come back
 * with it. Two real server processes on a PostgreSQL cluster of this file's own (the shared test
 * server is never restarted), restarted with `pg_ctl restart -m fast` while they run.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  findPostgresBin,
  startCluster as startPostgresCluster,
  type TestPostgres,
} from '../setup/postgres.ts'
import { startCluster, type Cluster } from '../helpers/cluster.ts'
import { LISTEN_APPLICATION_NAME } from '../../src/store/postgres/changes.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

let postgres: TestPostgres
let c: Cluster

beforeAll(async () => {
  const bin = findPostgresBin()
  if (!bin)
    throw new Error(
      'PostgreSQL server binaries not found: this suite restarts a PostgreSQL of its own',
    )
  postgres = await startPostgresCluster(bin, { durable: false })
  c = await startCluster({ databaseUrl: postgres.url })
})
afterAll(async () => {
  await c?.stop()
  await postgres?.stop()
})

/** Waits for `cond` (no deadline of its own: the test's timeout is the limit). */
async function until(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond().catch(() => false))) await new Promise((r) => setTimeout(r, 50))
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
const introspect = (instance: number, secret: string) =>
  fetch(`${c.instances[instance]!.url}/token/introspection`, {
    method: 'POST',
    headers: {
      Authorization: basic('rp', secret),
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'token=not-a-token-of-ours',
  })
const putClient = (secret: string) =>
  c.admin(0, 'PUT', '/integrations/rp', {
    type: 'oidc',
    settings: { redirect_uris: ['https://rp.example/cb'] },
    secrets: { client_secret: secret },
  })

async function listeners(): Promise<number> {
  const admin = new pg.Client({ connectionString: postgres.url })
  await admin.connect()
  try {
    const r = await admin.query(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [`${LISTEN_APPLICATION_NAME} public`],
    )
    return r.rows[0].n as number
  } finally {
    await admin.end()
  }
}

describe('a PostgreSQL restart under two instances', () => {
  it(
    'both serve again afterwards, keep what was written, listen again, and a secret rotated on A is refused on B at once',
    async () => {
      const OLD = 'old-secret-before-restart-0123456789ab'
      const NEW = 'new-secret-after-restart-0123456789abcd'
      expect((await putClient(OLD)).status).toBe(201)
      // Each instance starts listening on its first integration load.
      expect((await introspect(0, OLD)).status).toBe(200)
      expect((await introspect(1, OLD)).status).toBe(200)
      await until(async () => (await listeners()) === 2)

      await postgres.restart!()

      // Both instances answer again once their pools reconnect (readyz checks the database).
      for (const s of c.instances)
        await until(async () => (await fetch(`${s.url}/readyz`)).status === 200)
      // Written before the restart, read after it, on either instance.
      expect((await c.admin(1, 'GET', '/integrations/rp')).status).toBe(200)
      // Both listening connections came back by themselves.
      await until(async () => (await listeners()) === 2)
      // And propagation holds again: rotated on A, refused on B as the write returns.
      expect((await introspect(1, OLD)).status).toBe(200)
      expect((await putClient(NEW)).status).toBe(200)
      expect((await introspect(1, OLD)).status).toBe(401)
      expect((await introspect(1, NEW)).status).toBe(200)
    },
    PROCESS_TEST_TIMEOUT,
  )
})
