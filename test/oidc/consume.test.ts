/**
 * Single use of codes and refresh tokens under concurrency: the adapter's consume is the
 * store's atomic one, and the loser of a race is refused (oidc-provider alone would read
 * "unconsumed" twice and let both exchanges through).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { errors } from 'oidc-provider'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createOidcAdapter } from '../../src/oidc/adapter.ts'
import type { Store } from '../../src/store/ports.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'

let dir: string
let store: Store
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-consume-'))
  store = createSqliteStore(path.join(dir, 'db.sqlite'))
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

it('of concurrent consumes of one code, exactly one succeeds; the rest are invalid_grant', async () => {
  const codes = createOidcAdapter(store)('AuthorizationCode')
  await codes.upsert('c1', { jti: 'c1', grantId: 'g' }, 60)
  const results = await Promise.allSettled([1, 2, 3, 4].map(() => codes.consume('c1')))
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
  for (const r of results)
    if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(errors.InvalidGrant)
  const consumed = (await codes.find('c1'))!.consumed
  expect(consumed).toEqual(expect.any(Number))
  // A later consume is refused too, and the first mark stays.
  await expect(codes.consume('c1')).rejects.toMatchObject({ error: 'invalid_grant' })
  expect((await codes.find('c1'))!.consumed).toBe(consumed)
})

it('consuming an absent record is a no-op', async () => {
  const codes = createOidcAdapter(store)('RefreshToken')
  await codes.consume('absent')
  expect(await codes.find('absent')).toBeUndefined()
})
