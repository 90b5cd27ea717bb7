/**
 * One behavioural contract for every Store implementation. `test/store/<kind>.test.ts` calls
 * defineStoreContract with a factory that opens a fresh, empty store on a real database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/ports.ts'
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
      it('inserts, then replaces by external_id keeping id and created_at', async () => {
        const first = await store.upsertAccount(accountWrite({ external_id: 'e1', nickname: 'Rob' }))
        expect(first.created).toBe(true)
        expect(first.account).toMatchObject({ external_id: 'e1', username: 'user-e1', nickname: 'Rob', rank: 'regular', status: 'active', has_password: false })
        await new Promise((r) => setTimeout(r, 5))
        const second = await store.upsertAccount(accountWrite({ external_id: 'e1', nickname: null, rank: 'moderator' }))
        expect(second.created).toBe(false)
        expect(second.account.id).toBe(first.account.id)
        expect(second.account.created_at).toBe(first.account.created_at)
        expect(Date.parse(second.account.updated_at)).toBeGreaterThan(Date.parse(first.account.updated_at))
        expect(second.account).toMatchObject({ nickname: null, rank: 'moderator' })
        expect(await store.countAccounts()).toBe(1)
      })

      it('round-trips every field, nested profile JSON and non-ASCII text', async () => {
        const profile = { names: { first: 'Zoë', nicknames: ['Z', 'Zo'] }, age: 31, vip: true, none: null }
        const w = accountWrite({
          external_id: 'ü-1', username: 'Zoë_Ω', email: 'Zoe@Example.test', email_verified: true, nickname: 'Zo',
          given_name: 'Zoë', family_name: "O'Brien", picture: 'https://cdn.example.test/z.png', rank: 'owner',
          title: 'Host', locale: 'fr-CA', timezone: 'America/Toronto', profile, status: 'disabled',
        })
        await store.upsertAccount(w)
        const got = await store.getAccountByExternalId('ü-1')
        const { username_key: _u, email_key: _e, password_hash: _p, ...fields } = w
        expect(got).toMatchObject(fields)
        expect(got!.profile).toEqual(profile)
        expect(await store.getAccountById(got!.id)).toEqual(got)
      })

      it('refuses a username held by another account, naming the holder, and changes nothing', async () => {
        const holder = await store.upsertAccount(accountWrite({ external_id: 'a', username: 'Robert' }))
        await store.upsertAccount(accountWrite({ external_id: 'b', username: 'bob' }))
        const clash = accountWrite({ external_id: 'b', username: 'ROBERT', nickname: 'changed' })
        await expect(store.upsertAccount(clash)).rejects.toMatchObject({ code: 'ERR_ACCOUNT_CONFLICT', field: 'username', existingId: holder.account.id })
        const b = await store.getAccountByExternalId('b')
        expect(b).toMatchObject({ username: 'bob', nickname: null })
        await expect(store.upsertAccount(accountWrite({ external_id: 'c', username: 'robert' }))).rejects.toMatchObject({ field: 'username' })
        expect(await store.getAccountByExternalId('c')).toBeNull()
      })

      it('refuses an email held by another account, compared lower-cased', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a', email: 'Same@Example.test' }))
        await expect(store.upsertAccount(accountWrite({ external_id: 'b', email: 'same@example.TEST' }))).rejects.toMatchObject({ code: 'ERR_ACCOUNT_CONFLICT', field: 'email' })
        expect(await store.countAccounts()).toBe(1)
      })

      it('allows many accounts without username or email', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a', username: null, email: null }))
        await store.upsertAccount(accountWrite({ external_id: 'b', username: null, email: null }))
        expect(await store.countAccounts()).toBe(2)
      })

      it('keeps the password hash when a write leaves it undefined, clears it on null', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a', password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' }))
        const kept = await store.upsertAccount(accountWrite({ external_id: 'a', nickname: 'n' }))
        expect(kept.account.has_password).toBe(true)
        const creds = await store.findCredentials({ username_key: 'user-a' })
        expect(creds!.password_hash).toBe('$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA')
        const cleared = await store.upsertAccount(accountWrite({ external_id: 'a', password_hash: null }))
        expect(cleared.account.has_password).toBe(false)
      })

      it('finds credentials by username key or email key', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'a', username: 'Alice', email: 'Alice@Example.test', password_hash: 'h1' }))
        expect((await store.findCredentials({ username_key: 'alice' }))!.account.external_id).toBe('a')
        expect((await store.findCredentials({ email_key: 'alice@example.test' }))!.password_hash).toBe('h1')
        expect(await store.findCredentials({ username_key: 'nobody' })).toBeNull()
        expect(await store.findCredentials({})).toBeNull()
      })

      it('replaces a password hash only if it is still the expected one', async () => {
        const { account } = await store.upsertAccount(accountWrite({ external_id: 'a', password_hash: 'old' }))
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
        for (let i = 0; i < 25; i++) await store.upsertAccount(accountWrite({ external_id: `p${String(i).padStart(2, '0')}` }))
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
        expect(await store.listAccounts({ after: 'not-a-cursor', limit: 10 })).toEqual({ items: [], next: null })
      })

      it('batch, non-atomic: good records commit, a conflicting one leaves nothing behind', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'held', username: 'taken' }))
        const results = await store.upsertAccounts(
          [accountWrite({ external_id: 'n1' }), accountWrite({ external_id: 'n2', username: 'TAKEN' }), accountWrite({ external_id: 'n3' })],
          { atomic: false },
        )
        expect(results.map((r) => r.ok)).toEqual([true, false, true])
        expect(results[1]).toMatchObject({ ok: false, error: { code: 'ERR_ACCOUNT_CONFLICT', field: 'username' } })
        expect(await store.getAccountByExternalId('n2')).toBeNull()
        expect(await store.countAccounts()).toBe(3)
      })

      it('batch, non-atomic: a clash inside the batch itself fails the later record', async () => {
        const results = await store.upsertAccounts(
          [accountWrite({ external_id: 'x1', email: 'dup@example.test' }), accountWrite({ external_id: 'x2', email: 'DUP@example.test' })],
          { atomic: false },
        )
        expect(results.map((r) => r.ok)).toEqual([true, false])
        expect(await store.countAccounts()).toBe(1)
      })

      it('batch, atomic: one failure commits nothing', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'held', username: 'taken' }))
        const results = await store.upsertAccounts(
          [accountWrite({ external_id: 'n1' }), accountWrite({ external_id: 'n2', username: 'taken' })],
          { atomic: true },
        )
        expect(results.map((r) => r.ok)).toEqual([true, false])
        expect(await store.countAccounts()).toBe(1)
        expect(await store.getAccountByExternalId('n1')).toBeNull()
      })

      it('batch, atomic: all good commits all, reporting inserts and updates', async () => {
        await store.upsertAccount(accountWrite({ external_id: 'n1' }))
        const results = await store.upsertAccounts([accountWrite({ external_id: 'n1', nickname: 'x' }), accountWrite({ external_id: 'n2' })], { atomic: true })
        expect(results).toEqual([
          { ok: true, created: false, external_id: 'n1' },
          { ok: true, created: true, external_id: 'n2' },
        ])
        expect((await store.getAccountByExternalId('n1'))!.nickname).toBe('x')
      })

      it('concurrent writers racing for one username end with exactly one holder', async () => {
        const attempts = Array.from({ length: 12 }, (_, i) => store.upsertAccount(accountWrite({ external_id: `r${i}`, username: 'Contested' })))
        const settled = await Promise.allSettled(attempts)
        const won = settled.filter((s) => s.status === 'fulfilled')
        expect(won).toHaveLength(1)
        for (const s of settled) if (s.status === 'rejected') expect(s.reason).toMatchObject({ code: 'ERR_ACCOUNT_CONFLICT', field: 'username' })
        expect(await store.countAccounts()).toBe(1)
        expect((await store.findCredentials({ username_key: 'contested' }))!.account.username).toBe('Contested')
      })
    })

    describe('integrations', () => {
      it('creates, replaces, lists and deletes', async () => {
        const w = { id: 'minnit', type: 'minnit-zero-click', settings: { chat_url: 'https://organizations.minnit.chat/1/c/Main' }, secrets: { encryption_key: { env: 'MINNIT_KEY' } }, mapping: { 'names.nicknames.0': 'nickname' } }
        const a = await store.putIntegration(w)
        expect(a.created).toBe(true)
        expect(a.record).toMatchObject(w)
        await new Promise((r) => setTimeout(r, 5))
        const b = await store.putIntegration({ ...w, mapping: null, secrets: { encryption_key: { value: 'k'.repeat(32) } } })
        expect(b.created).toBe(false)
        expect(b.record.created_at).toBe(a.record.created_at)
        expect(b.record).toMatchObject({ mapping: null, secrets: { encryption_key: { value: 'k'.repeat(32) } } })
        await store.putIntegration({ id: 'a-first', type: 'jwt', settings: {}, secrets: {}, mapping: null })
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
