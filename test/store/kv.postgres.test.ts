/**
 * The KvStore contract on the PostgreSQL store, plus what only PostgreSQL has: several pools
 * (processes) racing on one database, on the server globalSetup provides. Every store opens
 * on a fresh schema (its URL pins `search_path` to it), as in postgres.test.ts.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { KV_PURGE_BATCH, KV_PURGE_EVERY } from '../../src/store/postgres/kv.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { defineKvContract } from '../contract/kv.contract.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { WAIT_TIMEOUT } from '../helpers/timeouts.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'

const baseUrl = inject('postgresUrl')

if (baseUrl === null) {
  // globalSetup already threw under CI; elsewhere say so as a failure, never a silent pass.
  it('PostgreSQL KV suite', () => {
    throw new Error(POSTGRES_MISSING)
  })
} else {
  let admin: pg.Client

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: baseUrl })
    await admin.connect()
  })
  afterAll(async () => {
    await dropFreshSchemas()
    await admin.end()
  })

  const freshSchema = () => freshSchemaUrl('sso_kv')

  defineKvContract('postgres', async () => createPostgresStore((await freshSchema()).url))

  describe('postgres kv specifics', () => {
    it('three pools (three processes) racing: setIfAbsent creates once, increments and consumes hold', async () => {
      const { url } = await freshSchema()
      const stores = await Promise.all([
        createPostgresStore(url),
        createPostgresStore(url),
        createPostgresStore(url),
      ])
      try {
        const pick = (i: number) => stores[i % 3]!
        for (let round = 0; round < 5; round++) {
          const created = await Promise.all(
            Array.from({ length: 30 }, (_, i) => pick(i).kvSetIfAbsent('jti', `j${round}`, { i })),
          )
          expect(created.filter(Boolean)).toHaveLength(1)
        }
        const counts = await Promise.all(
          Array.from({ length: 60 }, (_, i) => pick(i).kvIncrement('rate', 'r', 1, 60_000)),
        )
        expect(new Set(counts).size).toBe(60)
        expect((await stores[0]!.kvGet('rate', 'r'))!.value).toEqual({ count: 60 })
        await stores[0]!.kvSet('ticket', 't', {}, { ttlMs: 60_000 })
        const consumed = await Promise.all(
          Array.from({ length: 30 }, (_, i) => pick(i).kvConsume('ticket', 't')),
        )
        expect(consumed.filter(Boolean)).toHaveLength(1)
      } finally {
        await Promise.all(stores.map((s) => s.close()))
      }
    })

    it("concurrent sets of one key with different indexes leave exactly the last one's indexes in force", async () => {
      const { url, schema } = await freshSchema()
      const store = await createPostgresStore(url)
      try {
        await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            store.kvSet('s', 'k', { i }, { indexes: { uid: `u${i}`, [`only${i}`]: 'x' } }),
          ),
        )
        const { i } = (await store.kvGet('s', 'k'))!.value as { i: number }
        const found = await Promise.all(
          Array.from({ length: 30 }, (_, j) => store.kvFindBy('s', 'uid', `u${j}`)),
        )
        expect(found.flatMap((f, j) => (f ? [j] : []))).toEqual([i])
        expect(await store.kvFindBy('s', `only${i}`, 'x')).toMatchObject({
          key: 'k',
          entry: { value: { i } },
        })
        // Index rows left by writers the winner could not see belong to older gens: ignored, and
        // they go with the entry.
        expect(await store.kvDelete('s', 'k')).toBe(true)
        const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.kv_index`)
        expect(rows[0].n).toBe(0)
      } finally {
        await store.close()
      }
    })

    it(`purges expired rows in the background every ${KV_PURGE_EVERY} writes (at most ${KV_PURGE_BATCH} at a time)`, async () => {
      const { url, schema } = await freshSchema()
      const store = await createPostgresStore(url)
      const count = async (table: string) =>
        (await admin.query(`SELECT count(*)::int AS n FROM ${schema}.${table}`)).rows[0].n as number
      try {
        vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) })
        for (let i = 0; i < 10; i++)
          await store.kvSet('old', `k${i}`, {}, { ttlMs: 5, indexes: { uid: `u${i}` } })
        vi.setSystemTime(Date.now() + 5)
        for (let i = 10; i < KV_PURGE_EVERY - 1; i++) await store.kvSet('new', `k${i}`, {})
        expect(await count('kv')).toBe(KV_PURGE_EVERY - 1)
        await store.kvIncrement('new', 'counter', 1, 60_000)
        // The purge runs in the background; vi.waitFor's own 1 s would be a speed limit.
        await vi.waitFor(async () => expect(await count('kv')).toBe(KV_PURGE_EVERY - 10), {
          timeout: WAIT_TIMEOUT,
        })
        expect(await count('kv_index')).toBe(0)
      } finally {
        vi.useRealTimers()
        await store.close()
      }
    })
  })
}
