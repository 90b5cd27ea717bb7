/**
 * One behavioural contract for every KvStore implementation (store/ports.ts).
 * `test/store/kv.<kind>.test.ts` calls defineKvContract with a factory that opens a fresh,
 * empty store on a real database.
 *
 * Expiry is tested on a fake clock: only `Date` is faked (`vi.useFakeTimers({ toFake: ['Date']
 * })`), stores read "now" from `Date.now()`, timers and I/O stay real. One test also waits on
 * the real clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { KvStore } from '../../src/store/ports.ts'

export type ClosableKvStore = KvStore & { close(): Promise<void> }

const T0 = Date.UTC(2030, 0, 1)

export function defineKvContract(name: string, makeStore: () => Promise<ClosableKvStore>): void {
  describe(`KvStore contract: ${name}`, () => {
    let kv: ClosableKvStore
    beforeEach(async () => {
      kv = await makeStore()
    })
    afterEach(async () => {
      vi.useRealTimers()
      await kv.close()
    })

    /** Freezes `Date` at T0 (or `at`); move it with `advance`. */
    function fakeClock(at = T0): void {
      vi.useFakeTimers({ toFake: ['Date'], now: at })
    }
    const advance = (ms: number) => vi.setSystemTime(Date.now() + ms)

    describe('set / get', () => {
      it('sets, gets and replaces a value; no TTL means expiresAt null', async () => {
        expect(await kv.kvGet('ns', 'k')).toBeNull()
        await kv.kvSet('ns', 'k', { a: 1 })
        expect(await kv.kvGet('ns', 'k')).toEqual({ value: { a: 1 }, expiresAt: null })
        await kv.kvSet('ns', 'k', { b: 'two' })
        expect(await kv.kvGet('ns', 'k')).toEqual({ value: { b: 'two' }, expiresAt: null })
      })

      it('replacing resets the TTL and the indexes to what the new set says', async () => {
        fakeClock()
        await kv.kvSet('ns', 'k', { v: 1 }, { ttlMs: 1000, indexes: { uid: 'u1' } })
        expect(await kv.kvGet('ns', 'k')).toEqual({ value: { v: 1 }, expiresAt: T0 + 1000 })
        await kv.kvSet('ns', 'k', { v: 2 })
        expect(await kv.kvGet('ns', 'k')).toEqual({ value: { v: 2 }, expiresAt: null })
        expect(await kv.kvFindBy('ns', 'uid', 'u1')).toBeNull()
        await kv.kvSet('ns', 'k', { v: 3 }, { ttlMs: 5000, indexes: { uid: 'u2' } })
        expect(await kv.kvFindBy('ns', 'uid', 'u2')).toEqual({
          key: 'k',
          entry: { value: { v: 3 }, expiresAt: T0 + 5000 },
        })
        advance(4000)
        expect(await kv.kvGet('ns', 'k')).not.toBeNull()
      })

      it('round-trips nested JSON, numbers, null, booleans and unicode in keys, namespaces and values', async () => {
        const value = {
          nested: {
            list: [
              1,
              2.5,
              -3e-7,
              'x',
              null,
              true,
              false,
              { deep: ['Zoë', 'Ω', '日本語', '𝔘', '☃', '👩‍💻'] },
            ],
          },
          ключ: 'значение',
          'emoji 🎉': { empty: {}, none: [] },
          quotes: 'say "hi" \\ back\nslash\ttab',
          big: 2 ** 52,
        }
        await kv.kvSet('ns-ü', 'kéy-日本', value, { indexes: { índex: 'välue-𝔘' } })
        expect((await kv.kvGet('ns-ü', 'kéy-日本'))!.value).toEqual(value)
        expect(await kv.kvFindBy('ns-ü', 'índex', 'välue-𝔘')).toMatchObject({
          key: 'kéy-日本',
          entry: { value },
        })
      })

      it('drops undefined fields as JSON does, and returns copies', async () => {
        await kv.kvSet('ns', 'k', { kept: 1, gone: undefined, list: [1] })
        const got = await kv.kvGet('ns', 'k')
        expect(got!.value).toStrictEqual({ kept: 1, list: [1] })
        ;(got!.value.list as number[]).push(2)
        got!.value.kept = 99
        expect((await kv.kvGet('ns', 'k'))!.value).toStrictEqual({ kept: 1, list: [1] })
      })

      it('refuses values that are not JSON objects, bad TTLs and non-string index values', async () => {
        for (const bad of [null, [], 'text', 1]) {
          await expect(
            kv.kvSet('ns', 'k', bad as unknown as Record<string, unknown>),
          ).rejects.toThrow(TypeError)
          await expect(
            kv.kvSetIfAbsent('ns', 'k', bad as unknown as Record<string, unknown>),
          ).rejects.toThrow(TypeError)
        }
        for (const ttlMs of [Number.NaN, Infinity, '10' as unknown as number]) {
          await expect(kv.kvSet('ns', 'k', {}, { ttlMs })).rejects.toThrow(TypeError)
          await expect(kv.kvIncrement('ns', 'k', 1, ttlMs)).rejects.toThrow(TypeError)
        }
        await expect(kv.kvIncrement('ns', 'k', Number.NaN, 1000)).rejects.toThrow(TypeError)
        await expect(
          kv.kvSet('ns', 'k', {}, { indexes: { uid: 5 as unknown as string } }),
        ).rejects.toThrow(TypeError)
        expect(await kv.kvGet('ns', 'k')).toBeNull()
      })

      it('keeps namespaces apart: same key, same index value, deletes and purges', async () => {
        fakeClock()
        await kv.kvSet('a', 'k', { from: 'a' }, { indexes: { grantId: 'g' } })
        await kv.kvSet('b', 'k', { from: 'b' }, { indexes: { grantId: 'g' }, ttlMs: 10 })
        expect((await kv.kvGet('a', 'k'))!.value).toEqual({ from: 'a' })
        expect((await kv.kvGet('b', 'k'))!.value).toEqual({ from: 'b' })
        expect(await kv.kvFindBy('a', 'grantId', 'g')).toMatchObject({
          entry: { value: { from: 'a' } },
        })
        expect(await kv.kvDeleteBy('b', 'grantId', 'g')).toBe(1)
        expect(await kv.kvGet('a', 'k')).not.toBeNull()
        await kv.kvSet('b', 'k', { from: 'b' }, { ttlMs: 10 })
        expect(await kv.kvDelete('b', 'k')).toBe(true)
        expect(await kv.kvGet('a', 'k')).not.toBeNull()
        await kv.kvIncrement('b', 'k', 1, 10)
        await kv.kvConsume('b', 'k')
        expect((await kv.kvGet('a', 'k'))!.value).toEqual({ from: 'a' })
        advance(10)
        expect(await kv.kvPurgeExpired()).toBe(1)
        expect(await kv.kvGet('a', 'k')).not.toBeNull()
      })
    })

    describe('expiry', () => {
      it('an entry is live until just before expiresAt and absent from then on, for every method', async () => {
        fakeClock()
        await kv.kvSet('ns', 'k', { v: 1 }, { ttlMs: 1000, indexes: { uid: 'u' } })
        advance(999)
        expect(await kv.kvGet('ns', 'k')).toEqual({ value: { v: 1 }, expiresAt: T0 + 1000 })
        expect(await kv.kvFindBy('ns', 'uid', 'u')).not.toBeNull()
        advance(1)
        expect(await kv.kvGet('ns', 'k')).toBeNull()
        expect(await kv.kvFindBy('ns', 'uid', 'u')).toBeNull()
        expect(await kv.kvConsume('ns', 'k')).toBe(false)
        expect(await kv.kvDeleteBy('ns', 'uid', 'u')).toBe(0)
        await kv.kvSet('ns', 'k2', { v: 2 }, { ttlMs: 1 })
        advance(1)
        expect(await kv.kvDelete('ns', 'k2')).toBe(false)
      })

      it('a TTL of zero or less is born expired', async () => {
        await kv.kvSet('ns', 'zero', {}, { ttlMs: 0 })
        await kv.kvSet('ns', 'neg', {}, { ttlMs: -5 })
        expect(await kv.kvGet('ns', 'zero')).toBeNull()
        expect(await kv.kvGet('ns', 'neg')).toBeNull()
      })

      it('expires on the real clock too (50 ms TTL)', async () => {
        await kv.kvSet('ns', 'short', { v: 1 }, { ttlMs: 50 })
        await kv.kvSet('ns', 'long', { v: 2 }, { ttlMs: 60_000 })
        await new Promise((r) => setTimeout(r, 120))
        expect(await kv.kvGet('ns', 'short')).toBeNull()
        expect(await kv.kvGet('ns', 'long')).not.toBeNull()
      })
    })

    describe('secondary indexes', () => {
      it('counts the live entries with an index value, apart from other namespaces and expired ones', async () => {
        fakeClock()
        expect(await kv.kvCountBy('sess', 'account', 'a1')).toBe(0)
        await kv.kvSet('sess', 's1', {}, { indexes: { account: 'a1' } })
        await kv.kvSet('sess', 's2', {}, { indexes: { account: 'a1' }, ttlMs: 10 })
        await kv.kvSet('sess', 's3', {}, { indexes: { account: 'a2' } })
        await kv.kvSet('other', 's4', {}, { indexes: { account: 'a1' } })
        expect(await kv.kvCountBy('sess', 'account', 'a1')).toBe(2)
        advance(10)
        expect(await kv.kvCountBy('sess', 'account', 'a1')).toBe(1)
        // Re-set without the index: no longer counted.
        await kv.kvSet('sess', 's1', {})
        expect(await kv.kvCountBy('sess', 'account', 'a1')).toBe(0)
        expect(await kv.kvCountBy('sess', 'account', 'a2')).toBe(1)
      })

      it('finds by any of several indexes; a shared value finds the entry set most recently', async () => {
        await kv.kvSet('tok', 't1', { n: 1 }, { indexes: { grantId: 'g1', uid: 'u1' } })
        await kv.kvSet('tok', 't2', { n: 2 }, { indexes: { grantId: 'g1', userCode: 'ABCD-EFGH' } })
        expect(await kv.kvFindBy('tok', 'uid', 'u1')).toEqual({
          key: 't1',
          entry: { value: { n: 1 }, expiresAt: null },
        })
        expect(await kv.kvFindBy('tok', 'userCode', 'ABCD-EFGH')).toMatchObject({ key: 't2' })
        expect(await kv.kvFindBy('tok', 'grantId', 'g1')).toMatchObject({ key: 't2' })
        await kv.kvSet('tok', 't1', { n: 11 }, { indexes: { grantId: 'g1' } })
        expect(await kv.kvFindBy('tok', 'grantId', 'g1')).toMatchObject({
          key: 't1',
          entry: { value: { n: 11 } },
        })
        expect(await kv.kvFindBy('tok', 'uid', 'u1')).toBeNull()
        expect(await kv.kvFindBy('tok', 'uid', 'nope')).toBeNull()
        expect(await kv.kvFindBy('tok', 'grantId', 'u1')).toBeNull() // values belong to their index name
      })

      it('a live entry shadowed by an expired newer one is still found', async () => {
        fakeClock()
        await kv.kvSet('s', 'old', { n: 1 }, { indexes: { uid: 'u' }, ttlMs: 10_000 })
        await kv.kvSet('s', 'new', { n: 2 }, { indexes: { uid: 'u' }, ttlMs: 100 })
        expect(await kv.kvFindBy('s', 'uid', 'u')).toMatchObject({ key: 'new' })
        advance(100)
        expect(await kv.kvFindBy('s', 'uid', 'u')).toMatchObject({ key: 'old' })
      })

      it('deleteBy removes every live entry with that index value, and only those', async () => {
        fakeClock()
        for (const k of ['a', 'b', 'c'])
          await kv.kvSet('tok', k, { k }, { indexes: { grantId: 'g1' }, ttlMs: 60_000 })
        await kv.kvSet('tok', 'expired', {}, { indexes: { grantId: 'g1' }, ttlMs: 10 })
        await kv.kvSet('tok', 'other', {}, { indexes: { grantId: 'g2' } })
        await kv.kvSet('tok', 'moved', {}, { indexes: { grantId: 'g1' } })
        await kv.kvSet('tok', 'moved', {}, { indexes: { grantId: 'g3' } }) // no longer in g1
        await kv.kvSet('code', 'a', {}, { indexes: { grantId: 'g1' } })
        advance(10)
        expect(await kv.kvDeleteBy('tok', 'grantId', 'g1')).toBe(3)
        for (const k of ['a', 'b', 'c', 'expired']) expect(await kv.kvGet('tok', k)).toBeNull()
        expect(await kv.kvGet('tok', 'other')).not.toBeNull()
        expect(await kv.kvGet('tok', 'moved')).not.toBeNull()
        expect(await kv.kvGet('code', 'a')).not.toBeNull()
        expect(await kv.kvDeleteBy('tok', 'grantId', 'g1')).toBe(0)
        expect(await kv.kvPurgeExpired()).toBe(0) // the expired one went with the others
      })

      it('delete removes the entry and its indexes; true only for a live one', async () => {
        await kv.kvSet('ns', 'k', {}, { indexes: { uid: 'u' } })
        expect(await kv.kvDelete('ns', 'k')).toBe(true)
        expect(await kv.kvDelete('ns', 'k')).toBe(false)
        expect(await kv.kvFindBy('ns', 'uid', 'u')).toBeNull()
        await kv.kvSetIfAbsent('ns', 'k', { fresh: true })
        expect(await kv.kvFindBy('ns', 'uid', 'u')).toBeNull()
      })
    })

    describe('setIfAbsent', () => {
      it("creates once under 20 concurrent calls, keeping the winner's value", async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            kv.kvSetIfAbsent('jti', 'once', { caller: i }, { ttlMs: 60_000 }),
          ),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
        const winner = results.indexOf(true)
        expect((await kv.kvGet('jti', 'once'))!.value).toEqual({ caller: winner })
      })

      it('is false while the entry is live (set by anyone), true again once it expired', async () => {
        fakeClock()
        expect(await kv.kvSetIfAbsent('jti', 'j', { n: 1 }, { ttlMs: 1000 })).toBe(true)
        expect(await kv.kvSetIfAbsent('jti', 'j', { n: 2 }, { ttlMs: 1000 })).toBe(false)
        advance(999)
        expect(await kv.kvSetIfAbsent('jti', 'j', { n: 3 })).toBe(false)
        advance(1)
        expect(await kv.kvSetIfAbsent('jti', 'j', { n: 4 }, { ttlMs: 500 })).toBe(true)
        expect(await kv.kvGet('jti', 'j')).toEqual({ value: { n: 4 }, expiresAt: T0 + 1500 })
        await kv.kvSet('jti', 'forever', {})
        expect(await kv.kvSetIfAbsent('jti', 'forever', {})).toBe(false)
      })

      it('after expiry, 20 concurrent calls again create exactly once', async () => {
        fakeClock()
        await kv.kvSet('jti', 'again', { old: true }, { ttlMs: 10, indexes: { uid: 'old' } })
        advance(10)
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => kv.kvSetIfAbsent('jti', 'again', { caller: i })),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
        expect((await kv.kvGet('jti', 'again'))!.value).toEqual({ caller: results.indexOf(true) })
        expect(await kv.kvFindBy('jti', 'uid', 'old')).toBeNull() // the expired entry's indexes went with it
      })
    })

    describe('increment', () => {
      it('sums exactly under 20 concurrent calls, each seeing a distinct count', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => kv.kvIncrement('throttle', 'ip', 1, 60_000)),
        )
        expect([...results].sort((a, b) => a - b)).toEqual(
          Array.from({ length: 20 }, (_, i) => i + 1),
        )
        expect((await kv.kvGet('throttle', 'ip'))!.value).toEqual({ count: 20 })
        expect(await kv.kvIncrement('throttle', 'ip', -5, 60_000)).toBe(15)
        expect(await kv.kvIncrement('throttle', 'ip', 0.5, 60_000)).toBe(15.5)
      })

      it('counts in a fixed window: the TTL is set at creation, and the count restarts after it', async () => {
        fakeClock()
        expect(await kv.kvIncrement('throttle', 'u', 1, 1000)).toBe(1)
        advance(600)
        expect(await kv.kvIncrement('throttle', 'u', 2, 1000)).toBe(3)
        expect(await kv.kvGet('throttle', 'u')).toEqual({
          value: { count: 3 },
          expiresAt: T0 + 1000,
        })
        advance(400)
        expect(await kv.kvGet('throttle', 'u')).toBeNull()
        expect(await kv.kvIncrement('throttle', 'u', 1, 1000)).toBe(1)
        expect(await kv.kvGet('throttle', 'u')).toEqual({
          value: { count: 1 },
          expiresAt: T0 + 2000,
        })
      })

      it('after expiry, 20 concurrent increments restart from 0 and all count', async () => {
        fakeClock()
        await kv.kvIncrement('throttle', 'r', 100, 10)
        advance(10)
        const results = await Promise.all(
          Array.from({ length: 20 }, () => kv.kvIncrement('throttle', 'r', 1, 1000)),
        )
        expect(Math.max(...results)).toBe(20)
        expect((await kv.kvGet('throttle', 'r'))!.value).toEqual({ count: 20 })
      })

      it("adds to a set entry's count keeping its other fields, lifetime and indexes; a non-numeric count is 0", async () => {
        await kv.kvSet('throttle', 'x', { count: 5, who: 'me' }, { indexes: { uid: 'u' } })
        expect(await kv.kvIncrement('throttle', 'x', 1, 10)).toBe(6)
        expect(await kv.kvGet('throttle', 'x')).toEqual({
          value: { count: 6, who: 'me' },
          expiresAt: null,
        })
        expect(await kv.kvFindBy('throttle', 'uid', 'u')).toMatchObject({ key: 'x' })
        await kv.kvSet('throttle', 'y', { count: 'many' })
        expect(await kv.kvIncrement('throttle', 'y', 2, 1000)).toBe(2)
      })
    })

    describe('consume', () => {
      it('sets value.consumed to now in epoch seconds, keeping the rest, lifetime and indexes', async () => {
        fakeClock(T0 + 1234)
        await kv.kvSet(
          'oidc:RefreshToken',
          'rt',
          { grantId: 'g', nested: { a: [1] } },
          { ttlMs: 60_000, indexes: { grantId: 'g' } },
        )
        expect(await kv.kvConsume('oidc:RefreshToken', 'rt')).toBe(true)
        const expected = {
          value: { grantId: 'g', nested: { a: [1] }, consumed: Math.floor((T0 + 1234) / 1000) },
          expiresAt: T0 + 1234 + 60_000,
        }
        expect(await kv.kvGet('oidc:RefreshToken', 'rt')).toEqual(expected)
        expect(await kv.kvFindBy('oidc:RefreshToken', 'grantId', 'g')).toEqual({
          key: 'rt',
          entry: expected,
        })
        advance(5000)
        expect(await kv.kvConsume('oidc:RefreshToken', 'rt')).toBe(false) // the first mark stays
        expect(await kv.kvGet('oidc:RefreshToken', 'rt')).toEqual(expected)
      })

      it('is false for an absent or expired entry and creates nothing', async () => {
        fakeClock()
        expect(await kv.kvConsume('ns', 'none')).toBe(false)
        expect(await kv.kvGet('ns', 'none')).toBeNull()
        await kv.kvSet('ns', 'old', {}, { ttlMs: 5 })
        advance(5)
        expect(await kv.kvConsume('ns', 'old')).toBe(false)
      })

      it('consumes once under 20 concurrent calls', async () => {
        await kv.kvSet('ticket', 't', { user: 'u' }, { ttlMs: 60_000 })
        const results = await Promise.all(
          Array.from({ length: 20 }, () => kv.kvConsume('ticket', 't')),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
        expect((await kv.kvGet('ticket', 't'))!.value.consumed).toEqual(expect.any(Number))
      })
    })

    describe('purge', () => {
      it('removes exactly the expired entries, across namespaces, with their indexes', async () => {
        fakeClock()
        await kv.kvSet('a', 'gone1', {}, { ttlMs: 10, indexes: { uid: 'u1' } })
        await kv.kvSet('b', 'gone2', {}, { ttlMs: 20 })
        await kv.kvIncrement('c', 'gone3', 1, 5)
        await kv.kvSet('a', 'live', {}, { ttlMs: 60_000, indexes: { uid: 'u2' } })
        await kv.kvSet('a', 'forever', {})
        advance(20)
        expect(await kv.kvPurgeExpired()).toBe(3)
        expect(await kv.kvPurgeExpired()).toBe(0)
        expect(await kv.kvGet('a', 'live')).not.toBeNull()
        expect(await kv.kvGet('a', 'forever')).not.toBeNull()
        expect(await kv.kvFindBy('a', 'uid', 'u2')).toMatchObject({ key: 'live' })
        // A new entry under the purged key does not inherit its index.
        await kv.kvSet('a', 'gone1', {})
        expect(await kv.kvFindBy('a', 'uid', 'u1')).toBeNull()
      })
    })
  })
}
