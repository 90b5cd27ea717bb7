/**
 * One behavioural contract for every Store implementation. `test/store/<kind>.test.ts` calls
 * defineStoreContract with a factory that opens a fresh, empty store on a real database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/ports.ts'
import { createConflictResolver, type ConflictPolicies } from '../../src/accounts/conflicts.ts'
import { accountWrite } from '../fixtures/accounts.ts'

export function defineStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store
    beforeEach(async () => {
      store = await makeStore()
    })
    afterEach(async () => {
      await store.close()
    })

    describe('accounts', () => {
      it('searches a unique column by prefix, in its byte order, with exclusions and paging', async () => {
        for (const [id, username, email] of [
          ['x1', 'Robin', 'robin@b.example'],
          ['x2', 'rob', 'zz@a.example'],
          ['x3', 'Roberta', null],
          ['rob-9', 'alice', 'rob@c.example'],
          ['x5', null, 'bob@d.example'],
        ] as const)
          await store.upsertAccount(accountWrite({ external_id: id, username, email }))
        const names = async (search: Parameters<Store['searchAccounts']>[0]) =>
          (await store.searchAccounts(search)).items.map((a) => a.external_id)
        expect(await names({ field: 'username_key', prefix: 'rob', limit: 10 })).toEqual([
          'x2',
          'x3',
          'x1',
        ])
        expect(await names({ field: 'email_key', prefix: 'rob', limit: 10 })).toEqual([
          'rob-9',
          'x1',
        ])
        expect(await names({ field: 'external_id', prefix: 'rob', limit: 10 })).toEqual(['rob-9'])
        // Those found by username already are left out; a NULL username is not "in the range".
        expect(
          await names({
            field: 'email_key',
            prefix: '',
            exclude: [{ field: 'username_key', prefix: 'rob' }],
            limit: 10,
          }),
        ).toEqual(['x5', 'rob-9'])
        // Paging: `next` is the last row's column value; the page after it goes on from there.
        const first = await store.searchAccounts({ field: 'username_key', prefix: 'rob', limit: 2 })
        expect(first.items.map((a) => a.external_id)).toEqual(['x2', 'x3'])
        expect(first.next).toBe('roberta')
        const second = await store.searchAccounts({
          field: 'username_key',
          prefix: 'rob',
          after: first.next,
          limit: 2,
        })
        expect(second.items.map((a) => a.external_id)).toEqual(['x1'])
        expect(second.next).toBeNull()
        // Characters LIKE would treat as wildcards are plain text here.
        expect(await names({ field: 'username_key', prefix: 'r%', limit: 10 })).toEqual([])
        expect(await names({ field: 'username_key', prefix: 'rob', limit: 10 })).not.toContain('x5')
      })

      it('inserts, then replaces by external_id keeping id and created_at', async () => {
        const first = await store.upsertAccount(
          accountWrite({ external_id: 'e1', nickname: 'Rob' }),
        )
        expect(first.created).toBe(true)
        expect(first.account).toMatchObject({
          external_id: 'e1',
          username: 'user-e1',
          nickname: 'Rob',
          rank: 'regular',
          status: 'active',
          has_password: false,
        })
        await new Promise((r) => setTimeout(r, 5))
        const second = await store.upsertAccount(
          accountWrite({ external_id: 'e1', nickname: null, rank: 'moderator' }),
        )
        expect(second.created).toBe(false)
        expect(second.account.id).toBe(first.account.id)
        expect(second.account.created_at).toBe(first.account.created_at)
        expect(Date.parse(second.account.updated_at)).toBeGreaterThan(
          Date.parse(first.account.updated_at),
        )
        expect(second.account).toMatchObject({ nickname: null, rank: 'moderator' })
        expect(await store.countAccounts()).toBe(1)
      })

      it('round-trips every field, nested profile JSON and non-ASCII text', async () => {
        const profile = {
          names: { first: 'Zoë', nicknames: ['Z', 'Zo'] },
          age: 31,
          vip: true,
          none: null,
        }
        const w = accountWrite({
          external_id: 'ü-1',
          username: 'Zoë_Ω',
          email: 'Zoe@Example.test',
          email_verified: true,
          nickname: 'Zo',
          given_name: 'Zoë',
          family_name: "O'Brien",
          picture: 'https://cdn.example.test/z.png',
          rank: 'owner',
          title: 'Host',
          locale: 'fr-CA',
          timezone: 'America/Toronto',
          profile,
          status: 'disabled',
        })
        await store.upsertAccount(w)
        const got = await store.getAccountByExternalId('ü-1')
        const { username_key: _u, email_key: _e, password_hash: _p, ...fields } = w
        expect(got).toMatchObject(fields)
        expect(got!.profile).toEqual(profile)
        expect(await store.getAccountById(got!.id)).toEqual(got)
      })

      it('refuses a username held by another account, naming the holder, and changes nothing', async () => {
        const holder = await store.upsertAccount(
          accountWrite({ external_id: 'a', username: 'Robert' }),
        )
        await store.upsertAccount(accountWrite({ external_id: 'b', username: 'bob' }))
        const clash = accountWrite({ external_id: 'b', username: 'ROBERT', nickname: 'changed' })
        await expect(store.upsertAccount(clash)).rejects.toMatchObject({
          code: 'ERR_ACCOUNT_CONFLICT',
          field: 'username',
          existingId: holder.account.id,
        })
        const b = await store.getAccountByExternalId('b')
        expect(b).toMatchObject({ username: 'bob', nickname: null })
        await expect(
          store.upsertAccount(accountWrite({ external_id: 'c', username: 'robert' })),
        ).rejects.toMatchObject({ field: 'username' })
        expect(await store.getAccountByExternalId('c')).toBeNull()
      })

      it('refuses an email held by another account, compared lower-cased', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a', email: 'Same@Example.test' }))
        await expect(
          store.upsertAccount(accountWrite({ external_id: 'b', email: 'same@example.TEST' })),
        ).rejects.toMatchObject({ code: 'ERR_ACCOUNT_CONFLICT', field: 'email' })
        expect(await store.countAccounts()).toBe(1)
      })

      it('allows many accounts without username or email', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a', username: null, email: null }))
        await store.upsertAccount(accountWrite({ external_id: 'b', username: null, email: null }))
        expect(await store.countAccounts()).toBe(2)
      })

      it('keeps the password hash when a write leaves it undefined, clears it on null', async () => {
        await store.upsertAccount(
          accountWrite({
            external_id: 'a',
            password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
          }),
        )
        const kept = await store.upsertAccount(accountWrite({ external_id: 'a', nickname: 'n' }))
        expect(kept.account.has_password).toBe(true)
        const creds = await store.findCredentials({ username_key: 'user-a' })
        expect(creds!.password_hash).toBe('$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA')
        const cleared = await store.upsertAccount(
          accountWrite({ external_id: 'a', password_hash: null }),
        )
        expect(cleared.account.has_password).toBe(false)
      })

      it('only_if_active: updates an active account, creates a new one, and refuses a disabled one changing nothing', async () => {
        const created = await store.upsertAccount({
          ...accountWrite({ external_id: 'a1', nickname: 'New' }),
          only_if_active: true,
        })
        expect([created.created, created.account.status]).toEqual([true, 'active'])
        const updated = await store.upsertAccount({
          ...accountWrite({ external_id: 'a1', nickname: 'Changed' }),
          only_if_active: true,
        })
        expect([updated.created, updated.account.nickname]).toEqual([false, 'Changed'])

        await store.upsertAccount(
          accountWrite({ external_id: 'a1', nickname: 'Changed', status: 'disabled' }),
        )
        const before = await store.getAccountByExternalId('a1')
        // A write made from a stale read (status active) must not re-enable or change it.
        await expect(
          store.upsertAccount({
            ...accountWrite({ external_id: 'a1', nickname: 'Stale', status: 'active' }),
            only_if_active: true,
          }),
        ).rejects.toMatchObject({ code: 'ERR_ACCOUNT_DISABLED' })
        expect(await store.getAccountByExternalId('a1')).toEqual(before)
        // The conflict-rule path decides the same way.
        await store.upsertAccount(accountWrite({ external_id: 'holder', username: 'taken' }))
        const resolver = createConflictResolver(
          { username: 'suffix', email: 'reject' },
          'site-ticket',
        )
        await expect(
          store.upsertAccount(
            {
              ...accountWrite({ external_id: 'a1', username: 'taken', status: 'active' }),
              only_if_active: true,
            },
            { resolver },
          ),
        ).rejects.toMatchObject({ code: 'ERR_ACCOUNT_DISABLED' })
        expect(await store.getAccountByExternalId('a1')).toEqual(before)
        // Without the flag, an admin write re-enables as asked.
        expect(
          (await store.upsertAccount(accountWrite({ external_id: 'a1', status: 'active' }))).account
            .status,
        ).toBe('active')
      })

      it('finds credentials by username key or email key', async () => {
        await store.upsertAccount(
          accountWrite({
            external_id: 'a',
            username: 'Alice',
            email: 'Alice@Example.test',
            password_hash: 'h1',
          }),
        )
        expect((await store.findCredentials({ username_key: 'alice' }))!.account.external_id).toBe(
          'a',
        )
        expect(
          (await store.findCredentials({ email_key: 'alice@example.test' }))!.password_hash,
        ).toBe('h1')
        expect(await store.findCredentials({ username_key: 'nobody' })).toBeNull()
        expect(await store.findCredentials({})).toBeNull()
      })

      it('replaces a password hash only if it is still the expected one', async () => {
        const { account } = await store.upsertAccount(
          accountWrite({ external_id: 'a', password_hash: 'old' }),
        )
        expect(await store.replacePasswordHash(account.id, 'stale', 'new')).toBe(false)
        expect(await store.replacePasswordHash(account.id, 'old', 'new')).toBe(true)
        expect((await store.findCredentials({ username_key: 'user-a' }))!.password_hash).toBe('new')
      })

      it('deletes by external_id', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a' }))
        expect(await store.deleteAccount('a')).toBe(true)
        expect(await store.deleteAccount('a')).toBe(false)
        expect(await store.getAccountByExternalId('a')).toBeNull()
      })

      it('pages through accounts in creation order with an opaque cursor', async () => {
        for (let i = 0; i < 25; i++)
          await store.upsertAccount(accountWrite({ external_id: `p${String(i).padStart(2, '0')}` }))
        const seen: string[] = []
        let cursor: string | null = null
        let pages = 0
        do {
          const page = await store.listAccounts({ after: cursor, limit: 10 })
          seen.push(...page.items.map((a) => a.external_id))
          cursor = page.next
          pages++
        } while (cursor)
        expect(pages).toBe(3)
        expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`))
        expect(await store.listAccounts({ after: 'not-a-cursor', limit: 10 })).toEqual({
          items: [],
          next: null,
        })
      })

      it('batch, non-atomic: good records commit, a conflicting one leaves nothing behind', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'held', username: 'taken' }))
        const results = await store.upsertAccounts(
          [
            accountWrite({ external_id: 'n1' }),
            accountWrite({ external_id: 'n2', username: 'TAKEN' }),
            accountWrite({ external_id: 'n3' }),
          ],
          { atomic: false },
        )
        expect(results.map((r) => r.ok)).toEqual([true, false, true])
        expect(results[1]).toMatchObject({
          ok: false,
          error: { code: 'ERR_ACCOUNT_CONFLICT', field: 'username' },
        })
        expect(await store.getAccountByExternalId('n2')).toBeNull()
        expect(await store.countAccounts()).toBe(3)
      })

      it('batch, non-atomic: a clash inside the batch itself fails the later record', async () => {
        const results = await store.upsertAccounts(
          [
            accountWrite({ external_id: 'x1', email: 'dup@example.test' }),
            accountWrite({ external_id: 'x2', email: 'DUP@example.test' }),
          ],
          { atomic: false },
        )
        expect(results.map((r) => r.ok)).toEqual([true, false])
        expect(await store.countAccounts()).toBe(1)
      })

      it('batch, atomic: one failure commits nothing', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'held', username: 'taken' }))
        const results = await store.upsertAccounts(
          [
            accountWrite({ external_id: 'n1' }),
            accountWrite({ external_id: 'n2', username: 'taken' }),
          ],
          { atomic: true },
        )
        expect(results.map((r) => r.ok)).toEqual([true, false])
        expect(await store.countAccounts()).toBe(1)
        expect(await store.getAccountByExternalId('n1')).toBeNull()
      })

      it('batch, atomic: all good commits all, reporting inserts and updates', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'n1' }))
        const results = await store.upsertAccounts(
          [accountWrite({ external_id: 'n1', nickname: 'x' }), accountWrite({ external_id: 'n2' })],
          { atomic: true },
        )
        expect(results).toEqual([
          { ok: true, created: false, external_id: 'n1', resolutions: [] },
          { ok: true, created: true, external_id: 'n2', resolutions: [] },
        ])
        expect((await store.getAccountByExternalId('n1'))!.nickname).toBe('x')
      })

      it('concurrent writers racing for one username end with exactly one holder', async () => {
        const attempts = Array.from({ length: 12 }, (_, i) =>
          store.upsertAccount(accountWrite({ external_id: `r${i}`, username: 'Contested' })),
        )
        const settled = await Promise.allSettled(attempts)
        const won = settled.filter((s) => s.status === 'fulfilled')
        expect(won).toHaveLength(1)
        for (const s of settled)
          if (s.status === 'rejected')
            expect(s.reason).toMatchObject({ code: 'ERR_ACCOUNT_CONFLICT', field: 'username' })
        expect(await store.countAccounts()).toBe(1)
        expect((await store.findCredentials({ username_key: 'contested' }))!.account.username).toBe(
          'Contested',
        )
      })
    })

    describe('conflict rules', () => {
      const resolver = (policies: Partial<ConflictPolicies>, actor = 'test') =>
        createConflictResolver({ username: 'reject', email: 'reject', ...policies }, actor)
      const holderOf = async (username: string) =>
        (await store.findCredentials({ username_key: username.toLowerCase() }))?.account
          .external_id ?? null
      const allAudit = async () => (await store.listAudit({ limit: 500 })).items

      it('takeover (username): the incoming account gets it, the holder gets a random name and keeps its real one', async () => {
        const a = await store.upsertAccount(accountWrite({ external_id: 'a', username: 'John' }))
        const b = await store.upsertAccount(accountWrite({ external_id: 'b', username: 'john' }), {
          resolver: resolver({ username: 'takeover' }, 'admin-api'),
        })
        expect(b.account.username).toBe('john')
        expect(b.resolutions).toHaveLength(1)
        const holder = (await store.getAccountByExternalId('a'))!
        expect(holder.username).toMatch(/^user_[0-9a-f]{12}$/)
        expect(holder).toMatchObject({
          id: a.account.id,
          desired_username: 'John',
          stale: true,
          email: 'a@example.test',
        })
        expect(await allAudit()).toEqual([
          expect.objectContaining({
            action: 'conflict_resolved',
            actor: 'admin-api',
            policy: 'takeover',
            field: 'username',
            account_external_id: 'b',
            holder_external_id: 'a',
            holder_id: a.account.id,
            requested_value: 'john',
            assigned_value: 'john',
            holder_old_value: 'John',
            holder_new_value: holder.username,
          }),
        ])
      })

      it("takeover: the holder's next write applies its real value again, resolving in turn", async () => {
        const r = resolver({ username: 'takeover' })
        await store.upsertAccount(accountWrite({ external_id: 'a', username: 'John' }))
        await store.upsertAccount(accountWrite({ external_id: 'b', username: 'John' }), {
          resolver: r,
        })
        const back = await store.upsertAccount(
          accountWrite({ external_id: 'a', username: 'John' }),
          { resolver: r },
        )
        expect(back.account).toMatchObject({
          username: 'John',
          stale: false,
          desired_username: null,
        })
        expect((await store.getAccountByExternalId('b'))!).toMatchObject({
          stale: true,
          desired_username: 'John',
        })
        expect(await holderOf('john')).toBe('a')
        expect(await allAudit()).toHaveLength(2)
      })

      it('takeover (email): the holder loses its email and keeps it as desired_email', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a', email: 'Shared@Example.test' }))
        const b = await store.upsertAccount(
          accountWrite({ external_id: 'b', email: 'shared@example.test' }),
          { resolver: resolver({ email: 'takeover' }) },
        )
        expect(b.account.email).toBe('shared@example.test')
        expect(await store.getAccountByExternalId('a')).toMatchObject({
          email: null,
          desired_email: 'Shared@Example.test',
          stale: true,
        })
        expect((await allAudit())[0]).toMatchObject({
          field: 'email',
          holder_old_value: 'Shared@Example.test',
          holder_new_value: null,
        })
      })

      it('suffix: the incoming account gets the first free name_N and keeps what it asked for', async () => {
        const r = resolver({ username: 'suffix' })
        await store.upsertAccount(accountWrite({ external_id: 'a', username: 'john' }))
        const b = await store.upsertAccount(accountWrite({ external_id: 'b', username: 'John' }), {
          resolver: r,
        })
        expect(b.account).toMatchObject({
          username: 'John_2',
          desired_username: 'John',
          stale: true,
        })
        const c = await store.upsertAccount(accountWrite({ external_id: 'c', username: 'JOHN' }), {
          resolver: r,
        })
        expect(c.account.username).toBe('JOHN_3')
        expect(await store.getAccountByExternalId('a')).toMatchObject({
          username: 'john',
          stale: false,
        })
        // A sync that still cannot have the name keeps the suffixed one it has.
        const resync = await store.upsertAccount(
          accountWrite({ external_id: 'b', username: 'John' }),
          { resolver: r },
        )
        expect(resync.account.username).toBe('John_2')
        // Once the name is free, the next write for b gets it.
        await store.upsertAccount(accountWrite({ external_id: 'a', username: 'johnny' }), {
          resolver: r,
        })
        const again = await store.upsertAccount(
          accountWrite({ external_id: 'b', username: 'John' }),
          { resolver: r },
        )
        expect(again.account).toMatchObject({
          username: 'John',
          stale: false,
          desired_username: null,
        })
        expect(
          (await allAudit()).map((e) => [e.policy, e.account_external_id, e.assigned_value]),
        ).toEqual([
          ['suffix', 'b', 'John_2'],
          ['suffix', 'c', 'JOHN_3'],
          ['suffix', 'b', 'John_2'],
        ])
      })

      it('reject and prompt refuse with the policy named; nothing changes', async () => {
        await store.upsertAccount(
          accountWrite({ external_id: 'a', username: 'taken', email: 'taken@example.test' }),
        )
        await expect(
          store.upsertAccount(accountWrite({ external_id: 'b', username: 'TAKEN' }), {
            resolver: resolver({ email: 'takeover' }),
          }),
        ).rejects.toMatchObject({
          code: 'ERR_ACCOUNT_CONFLICT',
          field: 'username',
          policy: 'reject',
        })
        await expect(
          store.upsertAccount(accountWrite({ external_id: 'b', email: 'taken@example.test' }), {
            resolver: resolver({ username: 'takeover', email: 'prompt' }),
          }),
        ).rejects.toMatchObject({ field: 'email', policy: 'prompt' })
        expect(await store.getAccountByExternalId('b')).toBeNull()
        expect(await store.getAccountByExternalId('a')).toMatchObject({
          username: 'taken',
          email: 'taken@example.test',
          stale: false,
        })
        expect(await allAudit()).toEqual([])
      })

      it('a write refused on its second field undoes the takeover made for its first', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a', username: 'name-a' }))
        await store.upsertAccount(accountWrite({ external_id: 'c', email: 'mail-c@example.test' }))
        await expect(
          store.upsertAccount(
            accountWrite({ external_id: 'b', username: 'name-a', email: 'mail-c@example.test' }),
            { resolver: resolver({ username: 'takeover' }) },
          ),
        ).rejects.toMatchObject({ field: 'email' })
        expect(await store.getAccountByExternalId('a')).toMatchObject({
          username: 'name-a',
          stale: false,
        })
        expect(await store.getAccountByExternalId('b')).toBeNull()
        expect(await allAudit()).toEqual([])
      })

      it('resolves both fields in one write, one audit entry each', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a', username: 'both' }))
        await store.upsertAccount(accountWrite({ external_id: 'c', email: 'both@example.test' }))
        const b = await store.upsertAccount(
          accountWrite({ external_id: 'b', username: 'both', email: 'both@example.test' }),
          { resolver: resolver({ username: 'takeover', email: 'takeover' }) },
        )
        expect(b.resolutions.map((r) => r.field).sort()).toEqual(['email', 'username'])
        expect(await allAudit()).toHaveLength(2)
      })

      it('batch, non-atomic: conflicts resolve per record; a refused record leaves no holder change behind', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'h1', username: 'one' }))
        await store.upsertAccount(
          accountWrite({ external_id: 'h2', username: 'two', email: 'two@example.test' }),
        )
        const results = await store.upsertAccounts(
          [
            accountWrite({ external_id: 'n1', username: 'ONE' }),
            accountWrite({ external_id: 'n2', username: 'two', email: 'two@example.test' }),
            accountWrite({ external_id: 'n3' }),
          ],
          { atomic: false, resolver: resolver({ username: 'takeover' }) },
        )
        expect(results.map((r) => r.ok)).toEqual([true, false, true])
        expect(results[0]).toMatchObject({
          ok: true,
          resolutions: [expect.objectContaining({ holder_external_id: 'h1' })],
        })
        expect(await store.getAccountByExternalId('h2')).toMatchObject({
          username: 'two',
          stale: false,
        })
        expect(await holderOf('one')).toBe('n1')
        expect((await allAudit()).map((e) => e.account_external_id)).toEqual(['n1'])
      })

      it('batch, atomic: one refused record undoes every resolution and audit entry', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'h1', username: 'one' }))
        await store.upsertAccount(accountWrite({ external_id: 'h2', email: 'x@example.test' }))
        const results = await store.upsertAccounts(
          [
            accountWrite({ external_id: 'n1', username: 'one' }),
            accountWrite({ external_id: 'n2', email: 'x@example.test' }),
          ],
          { atomic: true, resolver: resolver({ username: 'takeover' }) },
        )
        expect(results.map((r) => r.ok)).toEqual([true, false])
        expect(await holderOf('one')).toBe('h1')
        expect(await store.getAccountByExternalId('n1')).toBeNull()
        expect(await allAudit()).toEqual([])
      })

      it('concurrent takeovers of one name: exactly one holder, every account kept, every resolution audited', async () => {
        const r = resolver({ username: 'takeover' })
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.upsertAccount(accountWrite({ external_id: `t${i}`, username: 'Contested' }), {
              resolver: r,
            }),
          ),
        )
        expect(await store.countAccounts()).toBe(10)
        const accounts = await store.listAccounts({ limit: 100 })
        expect(
          accounts.items.filter((a) => a.username?.toLowerCase() === 'contested'),
        ).toHaveLength(1)
        expect(new Set(accounts.items.map((a) => a.username!.toLowerCase())).size).toBe(10)
        expect(accounts.items.filter((a) => a.stale)).toHaveLength(9)
        const resolutions = results.reduce((n, x) => n + x.resolutions.length, 0)
        expect(resolutions).toBeGreaterThanOrEqual(9)
        expect(await allAudit()).toHaveLength(resolutions)
      })

      it('concurrent suffixes of one name: distinct names for all, no duplicate', async () => {
        const r = resolver({ username: 'suffix' })
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.upsertAccount(accountWrite({ external_id: `s${i}`, username: 'Popular' }), {
              resolver: r,
            }),
          ),
        )
        const names = (await store.listAccounts({ limit: 100 })).items.map((a) => a.username).sort()
        expect(names).toEqual(
          ['Popular', ...Array.from({ length: 9 }, (_, i) => `Popular_${i + 2}`)].sort(),
        )
        expect(await allAudit()).toHaveLength(9)
      })

      it('lists the audit log with filters and paging', async () => {
        const r = resolver({ username: 'suffix', email: 'takeover' }, 'import')
        await store.upsertAccount(
          accountWrite({ external_id: 'a', username: 'x', email: 'x@example.test' }),
        )
        for (let i = 0; i < 3; i++)
          await store.upsertAccount(
            accountWrite({ external_id: `b${i}`, username: 'x', email: `b${i}@example.test` }),
            { resolver: r },
          )
        await store.upsertAccount(accountWrite({ external_id: 'c', email: 'x@example.test' }), {
          resolver: r,
        })
        expect(
          (await store.listAudit({ limit: 10, field: 'email' })).items.map(
            (e) => e.account_external_id,
          ),
        ).toEqual(['c'])
        // 'a' held the name the suffixes went around and the email c took over.
        expect(
          (await store.listAudit({ limit: 10, external_id: 'a' })).items.map(
            (e) => e.account_external_id,
          ),
        ).toEqual(['b0', 'b1', 'b2', 'c'])
        expect(
          (await store.listAudit({ limit: 10, external_id: 'b1' })).items.map(
            (e) => e.assigned_value,
          ),
        ).toEqual(['x_3'])
        expect(
          (await store.listAudit({ limit: 10, policy: 'suffix', actor: 'import' })).items,
        ).toHaveLength(3)
        const first = await store.listAudit({ limit: 2 })
        const second = await store.listAudit({ limit: 2, after: first.next })
        expect([...first.items, ...second.items].map((e) => e.account_external_id)).toEqual([
          'b0',
          'b1',
          'b2',
          'c',
        ])
        expect(second.next).toBeNull()
        const at = first.items[0]!.at
        expect(Number.isNaN(Date.parse(at))).toBe(false)
        expect(
          (await store.listAudit({ limit: 10, since: new Date(Date.now() + 60_000).toISOString() }))
            .items,
        ).toEqual([])
        expect(
          (await store.listAudit({ limit: 10, until: new Date(Date.now() + 60_000).toISOString() }))
            .items,
        ).toHaveLength(4)
      })
    })

    describe('integrations', () => {
      it('creates, replaces, lists and deletes', async () => {
        const w = {
          id: 'minnit',
          type: 'minnit-zero-click',
          settings: { chat_url: 'https://organizations.minnit.chat/1/c/Main' },
          secrets: { encryption_key: { env: 'MINNIT_KEY' } },
          mapping: { 'names.nicknames.0': 'nickname' },
        }
        const a = await store.putIntegration(w)
        expect(a.created).toBe(true)
        expect(a.record).toMatchObject(w)
        await new Promise((r) => setTimeout(r, 5))
        const b = await store.putIntegration({
          ...w,
          mapping: null,
          secrets: { encryption_key: { value: 'k'.repeat(32) } },
        })
        expect(b.created).toBe(false)
        expect(b.record.created_at).toBe(a.record.created_at)
        expect(b.record).toMatchObject({
          mapping: null,
          secrets: { encryption_key: { value: 'k'.repeat(32) } },
        })
        await store.putIntegration({
          id: 'a-first',
          type: 'jwt',
          settings: {},
          secrets: {},
          mapping: null,
        })
        expect((await store.listIntegrations()).map((i) => i.id)).toEqual(['a-first', 'minnit'])
        expect(await store.getIntegration('minnit')).toEqual(b.record)
        expect(await store.deleteIntegration('minnit')).toBe(true)
        expect(await store.deleteIntegration('minnit')).toBe(false)
        expect(await store.getIntegration('minnit')).toBeNull()
      })
    })

    it('answers ping while open', async () => {
      await expect(store.ping()).resolves.toBeUndefined()
    })
  })
}
