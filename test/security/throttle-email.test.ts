/**
 * Defect (issue #10): signing in by email failed when another account's username equalled that
 * email: the username was looked up first, so the email's owner could never sign in with it.
 * Rule now (accounts/service.ts `authenticate`): a login with an `@` is first an email, then a
 * username. One login names one account at most, so it has one throttle key.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  attempt,
  loginForm,
  putAccount,
  startLoginServer,
  type LoginServer,
} from './throttle-helpers.ts'

let s: LoginServer | undefined
afterEach(async () => {
  await s?.close()
  s = undefined
})

const CAROL_PW = 'carol has her own password'
const SHADOW_PW = 'the shadow has another one'

async function twoAccounts(): Promise<LoginServer> {
  const server = await startLoginServer()
  // "shadow" took carol's email address as its username (usernames may contain an @).
  await putAccount(server, 'shadow', {
    username: 'carol@example.com',
    email: 'shadow@example.com',
    password: SHADOW_PW,
  })
  await putAccount(server, 'carol', {
    username: 'carol',
    email: 'carol@example.com',
    password: CAROL_PW,
  })
  return server
}

describe('email sign-in when another username is spelled like the email', () => {
  it("the email's owner signs in with her email", async () => {
    s = await twoAccounts()
    const form = await loginForm(s.url)
    expect((await attempt(s.url, form, 'carol@example.com', CAROL_PW)).status).toBe(303)
    expect((await attempt(s.url, form, 'Carol@Example.com', CAROL_PW)).status).toBe(303)
    const carol = await s.t.services.accounts.get('carol')
    expect(await s.t.services.accounts.resolveSignIn('carol@example.com')).toMatchObject({
      accountId: carol.id,
    })
  })

  it('the login names exactly one account: the other one is not reached through it, but signs in with its own email', async () => {
    s = await twoAccounts()
    const form = await loginForm(s.url)
    expect((await attempt(s.url, form, 'carol@example.com', SHADOW_PW)).status).toBe(401)
    expect((await attempt(s.url, form, 'shadow@example.com', SHADOW_PW)).status).toBe(303)
  })

  it('a username with an @ that is nobody’s email still signs in as a username', async () => {
    s = await startLoginServer()
    await putAccount(s, 'x', { username: 'dave@home', password: SHADOW_PW })
    const form = await loginForm(s.url)
    expect((await attempt(s.url, form, 'DAVE@home', SHADOW_PW)).status).toBe(303)
  })
})
