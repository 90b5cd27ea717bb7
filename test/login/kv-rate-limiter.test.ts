/**
 * rate-limiter-flexible's store contract, kept by our adapter over the KV port
 * (login/kv-rate-limiter.ts), on both stores: consume within and over the points, the time left
 * on a refusal, reward, get, delete, and the forced writes behind the library's `set`/`block`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { RateLimiterRes } from 'rate-limiter-flexible'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { KvRateLimiter, THROTTLE_NAMESPACE } from '../../src/login/kv-rate-limiter.ts'
import type { Store } from '../../src/store/ports.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'

const stores: {
  name: string
  open: () => Promise<{ store: Store; close: () => Promise<void> }>
}[] = [
  {
    name: 'SQLite',
    open: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-rl-'))
      const store = createSqliteStore(path.join(dir, 'db.sqlite'))
      return {
        store,
        close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })),
      }
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      if (inject('postgresUrl') === null) throw new Error(POSTGRES_MISSING)
      const store = await createPostgresStore((await freshSchemaUrl('sso_rl')).url)
      return { store, close: () => store.close() }
    },
  },
]
afterAll(dropFreshSchemas)

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => (e instanceof RateLimiterRes ? e : Promise.reject(e)),
  )

for (const { name, open } of stores) {
  describe(`KvRateLimiter on ${name}`, () => {
    it('lets `points` consumes through, refuses the rest with the time left; concurrent consumes all count', async () => {
      const { store, close } = await open()
      try {
        const rl = new KvRateLimiter({ kv: store, keyPrefix: 't', points: 3, duration: 60 })
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, () => refusal(rl.consume('k'))),
        )
        expect(outcomes.filter((o) => o === null)).toHaveLength(3)
        for (const r of outcomes.filter((o) => o !== null)) {
          expect(r!.msBeforeNext).toBeGreaterThan(0)
          expect(r!.msBeforeNext).toBeLessThanOrEqual(60_000)
          expect(r!.remainingPoints).toBe(0)
        }
        expect((await store.kvGet(THROTTLE_NAMESPACE, 't:k'))!.value).toEqual({ count: 10 })
        expect(await rl.get('k')).toMatchObject({ consumedPoints: 10, remainingPoints: 0 })
        // Another key is untouched.
        expect(await refusal(rl.consume('other'))).toBeNull()
      } finally {
        await close()
      }
    })

    it('reward gives points back; delete clears the key (true once); get of an absent key is null', async () => {
      const { store, close } = await open()
      try {
        const rl = new KvRateLimiter({ kv: store, keyPrefix: 't', points: 2, duration: 60 })
        await rl.consume('k')
        await rl.consume('k')
        expect(await refusal(rl.consume('k'))).not.toBeNull()
        await rl.reward('k', 2)
        expect(await refusal(rl.consume('k'))).toBeNull()
        expect(await rl.delete('k')).toBe(true)
        expect(await rl.delete('k')).toBe(false)
        expect(await rl.get('k')).toBeNull()
      } finally {
        await close()
      }
    })

    it('set and block replace the count and the window', async () => {
      const { store, close } = await open()
      try {
        const rl = new KvRateLimiter({ kv: store, keyPrefix: 't', points: 5, duration: 60 })
        await rl.set('k', 5, 30)
        const entry = await store.kvGet(THROTTLE_NAMESPACE, 't:k')
        expect(entry!.value).toEqual({ count: 5 })
        expect(entry!.expiresAt! - Date.now()).toBeLessThanOrEqual(30_000)
        expect(await refusal(rl.consume('k'))).not.toBeNull()
        await rl.block('b', 120)
        const blocked = await refusal(rl.consume('b'))
        expect(blocked!.msBeforeNext).toBeGreaterThan(60_000)
      } finally {
        await close()
      }
    })
  })
}
