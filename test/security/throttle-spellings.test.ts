/**
 * Defect (issue #10, sign-in throttling, "Spellings"): the per-account key was the raw
 * lower-cased input while sign-in matches after NFKC + case folding and by email, so `ｂｏｂ`,
 * `𝐛𝐨𝐛` and `bob@example.com` each had a fresh budget against one account. Now the key is the
 * account the login resolves to (unknown names: their normalised form).
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  attempt,
  loginForm,
  PASSWORD,
  putAccount,
  startLoginServer,
  type LoginServer,
} from './throttle-helpers.ts'

let s: LoginServer | undefined
afterEach(async () => {
  await s?.close()
  s = undefined
})

const SPELLINGS = ['ｂｏｂ', '𝐛𝐨𝐛', 'BOB', 'bob@example.com', ' Bob@EXAMPLE.com ']
const rules = {
  ip: { max: 1000, windowMs: 60_000 },
  account: { max: SPELLINGS.length, windowMs: 60_000 },
}

describe('throttle: every spelling of one account shares its budget', () => {
  it('the spellings resolve to one account and one key', async () => {
    s = await startLoginServer({ throttle: rules })
    await putAccount(s, '7', { username: 'bob', email: 'bob@example.com', password: PASSWORD })
    const id = (await s.t.services.accounts.get('7')).id
    const subjects = await Promise.all(
      [...SPELLINGS, 'bob'].map((l) => s!.t.services.accounts.resolveSignIn(l)),
    )
    for (const subject of subjects)
      expect(subject).toEqual({ accountId: id, key: subjects[0]!.key })
  })

  it(`${SPELLINGS.join(' / ')}: one wrong try each, then the right password is refused (429)`, async () => {
    s = await startLoginServer({ throttle: rules })
    await putAccount(s, '7', { username: 'bob', email: 'bob@example.com', password: PASSWORD })
    const form = await loginForm(s.url)
    for (const login of SPELLINGS)
      expect((await attempt(s.url, form, login, 'wrong password')).status, login).toBe(401)
    expect((await attempt(s.url, form, 'bob', PASSWORD)).status).toBe(429)
  })

  it('unknown names are keyed on their normalised form: ＧＨＯＳＴ, 𝐠𝐡𝐨𝐬𝐭 and Ghost share one budget', async () => {
    s = await startLoginServer({
      throttle: { ip: { max: 1000, windowMs: 60_000 }, account: { max: 3, windowMs: 60_000 } },
    })
    const form = await loginForm(s.url)
    for (const login of ['ＧＨＯＳＴ', '𝐠𝐡𝐨𝐬𝐭', 'Ghost'])
      expect((await attempt(s.url, form, login, 'wrong password')).status, login).toBe(401)
    expect((await attempt(s.url, form, 'ghost', 'wrong password')).status).toBe(429)
    // Another name still has its own budget.
    expect((await attempt(s.url, form, 'casper', 'wrong password')).status).toBe(401)
  })

  it('the typed name is not stored: unknown-name counters are keyed on a hash', async () => {
    s = await startLoginServer({ throttle: rules })
    const typed = 'my-Secret-Passw0rd-typed-as-a-name'
    const form = await loginForm(s.url)
    expect((await attempt(s.url, form, typed, 'x')).status).toBe(401)
    const { key } = await s.t.services.accounts.resolveSignIn(typed)
    expect(key).not.toContain(typed.toLowerCase())
    expect(await s.t.services.store.kvGet('login:throttle', `account:${key}`)).toMatchObject({
      value: { count: 1 },
    })
  })
})
