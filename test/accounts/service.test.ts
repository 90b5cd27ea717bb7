import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAccountService, type AccountService } from '../../src/accounts/service.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import type { Store } from '../../src/store/ports.ts'

// phpass's own published known answer: "test12345" (openwall phpass test vectors).
const PHPASS = '$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0'

let dir: string
let store: Store
let accounts: AccountService
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-svc-'))
  store = createSqliteStore(path.join(dir, 'db.sqlite'))
  accounts = createAccountService({ store })
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const hashOf = async (login: string) =>
  (await store.findCredentials({ username_key: login }))!.password_hash

describe('authenticate', () => {
  it('accepts a legacy phpass hash and upgrades it to argon2id', async () => {
    await accounts.put('wp-1', { username: 'Wanda', password_hash: PHPASS })
    const result = await accounts.authenticate('WANDA', 'test12345')
    expect(result).toMatchObject({ ok: true, account: { external_id: 'wp-1' } })
    const upgraded = await hashOf('wanda')
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect((await accounts.authenticate('wanda', 'test12345')).ok).toBe(true)
    expect(await hashOf('wanda')).toBe(upgraded)
  })

  it('refuses a wrong password and leaves the hash alone', async () => {
    await accounts.put('wp-1', { username: 'wanda', password_hash: PHPASS })
    expect(await accounts.authenticate('wanda', 'test1234')).toEqual({
      ok: false,
      reason: 'invalid_credentials',
    })
    expect(await hashOf('wanda')).toBe(PHPASS)
  })

  it('signs in by email, compared lower-cased, and by NFKC-folded username', async () => {
    await accounts.put('u', {
      username: 'Ｍａｘ',
      email: 'Max@Example.com',
      password: 'long enough pw',
    })
    expect((await accounts.authenticate('max@EXAMPLE.com', 'long enough pw')).ok).toBe(true)
    expect((await accounts.authenticate('  MAX ', 'long enough pw')).ok).toBe(true)
  })

  it('refuses a disabled account even with the right password', async () => {
    await accounts.put('u', { username: 'dis', password: 'long enough pw', status: 'disabled' })
    expect(await accounts.authenticate('dis', 'long enough pw')).toEqual({
      ok: false,
      reason: 'account_disabled',
    })
  })

  it('refuses unknown logins and accounts without a password alike', async () => {
    await accounts.put('u', { username: 'nopw' })
    expect(await accounts.authenticate('nobody', 'whatever-pw')).toEqual({
      ok: false,
      reason: 'invalid_credentials',
    })
    expect(await accounts.authenticate('nopw', 'whatever-pw')).toEqual({
      ok: false,
      reason: 'invalid_credentials',
    })
  })
})

describe('put', () => {
  it('refuses both password and password_hash', async () => {
    await expect(
      accounts.put('u', { password: 'long enough pw', password_hash: PHPASS }),
    ).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
      issues: [{ path: 'password_hash' }],
    })
  })

  it('refuses bad external ids in the path', async () => {
    for (const id of ['', ' padded ', 'a\nb', 'x'.repeat(256)]) {
      await expect(accounts.put(id, {})).rejects.toMatchObject({ code: 'ERR_VALIDATION' })
    }
    expect(await store.countAccounts()).toBe(0)
  })
})

describe('time zones', () => {
  it('accepts current IANA names ICU lists under older ones, refuses the rest', async () => {
    for (const tz of [
      'Asia/Kolkata',
      'Europe/Kyiv',
      'Asia/Ho_Chi_Minh',
      'America/Argentina/Buenos_Aires',
      'UTC',
      'Europe/Paris',
      'Etc/GMT+5',
    ]) {
      await expect(accounts.put(`tz-${tz}`, { timezone: tz }), tz).resolves.toMatchObject({
        account: { timezone: tz },
      })
    }
    for (const tz of ['Mars/Olympus', 'europe/paris', 'Paris', '+02:00', 'Europe/Paris/../x']) {
      await expect(accounts.put('bad', { timezone: tz }), tz).rejects.toMatchObject({
        code: 'ERR_VALIDATION',
        issues: [{ path: 'timezone' }],
      })
    }
  })
})
