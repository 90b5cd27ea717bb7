/**
 * Defect found while testing the sign-in path: a login holding a NUL character was looked up
 * as it was, and PostgreSQL refuses NUL in a query: the sign-in answered 500. No username or
 * email can hold a control character (accounts/input.ts), so such a login now names no account:
 * an ordinary refusal (401, counted like any unknown name), on both stores.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { Store } from '../../src/store/ports.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'
import { attempt, loginForm, PASSWORD, putAccount, startLoginServer } from './throttle-helpers.ts'

afterAll(dropFreshSchemas)

const stores: [string, () => Promise<Store>][] = [
  [
    'SQLite',
    async () =>
      createSqliteStore(
        path.join(mkdtempSync(path.join(tmpdir(), 'sso-bridge-badlogin-')), 'db.sqlite'),
      ),
  ],
  [
    'PostgreSQL',
    async () => {
      if (inject('postgresUrl') === null) throw new Error(POSTGRES_MISSING)
      return createPostgresStore((await freshSchemaUrl('sso_badlogin')).url)
    },
  ],
]

for (const [name, open] of stores) {
  describe(`control characters in the login (${name})`, () => {
    it('NUL, other controls and bidi overrides: 401, never 500; the attempt is still counted', async () => {
      const s = await startLoginServer({
        store: await open(),
        throttle: { ip: { max: 1000, windowMs: 60_000 }, account: { max: 3, windowMs: 60_000 } },
      })
      try {
        await putAccount(s, '7', { username: 'bob', email: 'bob@example.com', password: PASSWORD })
        const form = await loginForm(s.url)
        for (const login of ['bob\u0000', 'bob\u0000@example.com', '\u202ebob', 'bo\u0007b']) {
          const r = await attempt(s.url, form, login, PASSWORD)
          expect(r.status, JSON.stringify(login)).toBe(401)
        }
        // Nothing changed for bob, whose own budget is untouched.
        expect((await attempt(s.url, form, 'bob', PASSWORD)).status).toBe(303)
        // The same control-laden name three times reaches its (unknown-name) limit.
        for (let i = 0; i < 2; i++)
          expect((await attempt(s.url, form, 'bob\u0000', 'x')).status).toBe(401)
        expect((await attempt(s.url, form, 'bob\u0000', 'x')).status).toBe(429)
      } finally {
        await s.close()
      }
    })
  })
}
