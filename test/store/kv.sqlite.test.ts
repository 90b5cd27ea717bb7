/**
 * The KvStore contract on the SQLite store, plus what only SQLite has: other connections to
 * the same file (another process, e.g. the CLI) and the opportunistic purge.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { KV_PURGE_BATCH, KV_PURGE_EVERY } from '../../src/store/sqlite/kv.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { defineKvContract } from '../contract/kv.contract.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-kv-sqlite-'))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const freshFile = () => path.join(dir, `kv${n++}.sqlite`)

defineKvContract('sqlite', async () => createSqliteStore(freshFile()))

describe('sqlite kv specifics', () => {
  it("several connections on one file: setIfAbsent creates once, increments all count, deleteBy sees the others' writes", async () => {
    const file = freshFile()
    const stores = [createSqliteStore(file), createSqliteStore(file), createSqliteStore(file)]
    try {
      const created = await Promise.all(
        Array.from({ length: 21 }, (_, i) => stores[i % 3]!.kvSetIfAbsent('jti', 'j', { by: i })),
      )
      expect(created.filter(Boolean)).toHaveLength(1)
      await Promise.all(
        Array.from({ length: 21 }, (_, i) => stores[i % 3]!.kvIncrement('rate', 'r', 1, 60_000)),
      )
      expect((await stores[0]!.kvGet('rate', 'r'))!.value).toEqual({ count: 21 })
      for (const [i, s] of stores.entries())
        await s.kvSet('tok', `t${i}`, {}, { indexes: { grantId: 'g' } })
      expect(await stores[1]!.kvDeleteBy('tok', 'grantId', 'g')).toBe(3)
    } finally {
      for (const s of stores) await s.close()
    }
  })

  it('4 worker threads, each with its own connection, racing on one file: counts and single-use hold', async () => {
    const file = freshFile()
    await createSqliteStore(file).close() // migrate once up front
    const storeUrl = pathToFileURL(path.resolve('src/store/sqlite/store.ts')).href
    // Each worker: 50 increments of one counter, and a setIfAbsent on each of 50 shared keys.
    const code = `
      const { workerData, parentPort } = require('node:worker_threads')
      import(workerData.storeUrl).then(async ({ createSqliteStore }) => {
        const store = createSqliteStore(workerData.file)
        let won = 0
        for (let i = 0; i < 50; i++) {
          await store.kvIncrement('rate', 'shared', 1, 60_000)
          if (await store.kvSetIfAbsent('jti', 'j' + i, { worker: workerData.id }, { ttlMs: 60_000 })) won++
        }
        await store.close()
        parentPort.postMessage(won)
      })`
    const wins = await Promise.all(
      Array.from(
        { length: 4 },
        (_, id) =>
          new Promise<number>((resolve, reject) => {
            const w = new Worker(code, { eval: true, workerData: { file, storeUrl, id } })
            w.once('message', resolve)
            w.once('error', reject)
          }),
      ),
    )
    expect(wins.reduce((a, b) => a + b, 0)).toBe(50)
    const store = createSqliteStore(file)
    expect((await store.kvGet('rate', 'shared'))!.value).toEqual({ count: 200 })
    await store.close()
  })

  it('the migration leaves the accounts and integrations tables alone, and reopening keeps entries', async () => {
    const file = freshFile()
    const a = createSqliteStore(file)
    await a.putIntegration({ id: 'x', type: 'jwt', settings: {}, secrets: {}, mapping: null })
    await a.kvSet('ns', 'k', { v: 1 }, { indexes: { uid: 'u' } })
    await a.close()
    const b = createSqliteStore(file)
    expect(await b.getIntegration('x')).not.toBeNull()
    expect(await b.kvFindBy('ns', 'uid', 'u')).toMatchObject({
      key: 'k',
      entry: { value: { v: 1 } },
    })
    await b.close()
  })

  it(`purges expired rows on its own every ${KV_PURGE_EVERY} writes (at most ${KV_PURGE_BATCH} at a time), indexes included`, async () => {
    const file = freshFile()
    const store = createSqliteStore(file)
    const raw = new DatabaseSync(file)
    const count = (table: string) =>
      (raw.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
    try {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) })
      for (let i = 0; i < 10; i++)
        await store.kvSet('old', `k${i}`, {}, { ttlMs: 5, indexes: { uid: `u${i}` } })
      vi.setSystemTime(Date.now() + 5)
      expect(count('kv')).toBe(10)
      // 10 writes so far: the purge comes with write number KV_PURGE_EVERY.
      for (let i = 10; i < KV_PURGE_EVERY - 1; i++) await store.kvSet('new', `k${i}`, {})
      expect(count('kv')).toBe(KV_PURGE_EVERY - 1)
      await store.kvIncrement('new', 'counter', 1, 60_000)
      expect(count('kv')).toBe(KV_PURGE_EVERY - 10)
      expect(count('kv_index')).toBe(0)
    } finally {
      vi.useRealTimers()
      raw.close()
      await store.close()
    }
  })
})
