/**
 * Property: after any sequence of writes under any conflict policy, usernames and emails stay
 * unique, every external_id keeps its own single record, and no account loses the values the
 * site last sent for it (they are held, or kept in desired_*; a write that repeats a held value
 * keeps what was pending for it).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { usernameKey } from '../../src/accounts/normalize.ts'
import { createAccountService } from '../../src/accounts/service.ts'
import type { ConflictPolicies } from '../../src/config/index.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'

const write = fc.record({
  external_id: fc.constantFrom('e1', 'e2', 'e3', 'e4'),
  username: fc.option(fc.constantFrom('sam', 'Sam', 'SAM', 'kim', 'ｓａｍ', 'Kim_2'), {
    nil: null,
  }),
  email: fc.option(fc.constantFrom('a@x.test', 'A@X.test', 'b@x.test'), { nil: null }),
})

const policies = fc.record({
  username: fc.constantFrom('reject', 'takeover', 'suffix', 'prompt'),
  email: fc.constantFrom('reject', 'takeover', 'prompt'),
}) as fc.Arbitrary<ConflictPolicies>

describe('conflict rules, any sequence of writes', () => {
  it('keeps identifiers unique, one record per external_id, and every real value', async () => {
    await fc.assert(
      fc.asyncProperty(
        policies,
        fc.array(write, { minLength: 1, maxLength: 25 }),
        async (conflicts, writes) => {
          const store = createSqliteStore(':memory:')
          const accounts = createAccountService({ store, conflicts })
          const lastSent = new Map<string, { username: string | null; email: string | null }>()
          try {
            for (const w of writes) {
              try {
                await accounts.put(w.external_id, { username: w.username, email: w.email })
                lastSent.set(w.external_id, { username: w.username, email: w.email })
              } catch (err) {
                expect(err).toMatchObject({ code: 'ERR_ACCOUNT_CONFLICT' })
              }
            }
            const all = (await store.listAccounts({ limit: 100 })).items
            expect(all.map((a) => a.external_id).sort()).toEqual([...lastSent.keys()].sort())
            const usernames = all.flatMap((a) =>
              a.username === null ? [] : [usernameKey(a.username)],
            )
            expect(new Set(usernames).size).toBe(usernames.length)
            const emails = all.flatMap((a) => (a.email === null ? [] : [a.email.toLowerCase()]))
            expect(new Set(emails).size).toBe(emails.length)
            for (const a of all) {
              const sent = lastSent.get(a.external_id)!
              // What the site sent is either held or pending in desired_*. A write that repeats
              // the value the account holds (a name a rule gave it) keeps what was pending.
              if (a.username !== sent.username) expect(a.desired_username).toBe(sent.username)
              if (a.email !== sent.email) expect(a.desired_email).toBe(sent.email)
              expect(a.stale).toBe(a.desired_username !== null || a.desired_email !== null)
            }
            // Each audit entry names two accounts that exist.
            const audit = (await store.listAudit({ limit: 500 })).items
            for (const e of audit) {
              expect(lastSent.has(e.account_external_id)).toBe(true)
              expect(lastSent.has(e.holder_external_id)).toBe(true)
              expect(e.policy).toBe(conflicts[e.field])
            }
            if (conflicts.username === 'reject' && conflicts.email === 'reject')
              expect(audit).toEqual([])
          } finally {
            await store.close()
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
