/**
 * Recovery (issue #10: "the README states how a locked member or operator recovers"): a
 * member locked out by failed sign-ins waits out the window, or an operator clears the
 * account's count: `DELETE /api/v1/users/{external_id}/lockout` or `sso-bridge users unlock
 * <external_id>` (the CLI writes to the same store the server reads).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { cliSandbox, removeSandboxes } from '../helpers/cli.ts'
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
afterAll(removeSandboxes)

const rules = { ip: { max: 1000, windowMs: 60_000 }, account: { max: 2, windowMs: 60_000 } }

async function lockOut(server: LoginServer): Promise<Awaited<ReturnType<typeof loginForm>>> {
  await putAccount(server, '42', { username: 'rob', email: 'rob@example.com', password: PASSWORD })
  const form = await loginForm(server.url)
  expect((await attempt(server.url, form, 'rob', 'wrong 1')).status).toBe(401)
  expect((await attempt(server.url, form, 'rob@example.com', 'wrong 2')).status).toBe(401)
  expect((await attempt(server.url, form, 'rob', PASSWORD)).status).toBe(429)
  return form
}

describe('unlocking a locked-out member', () => {
  it('admin API: DELETE /api/v1/users/{id}/lockout clears it; the member signs in at once', async () => {
    s = await startLoginServer({ throttle: rules })
    const form = await lockOut(s)
    expect(await s.admin('DELETE', '/users/42/lockout')).toEqual({
      status: 200,
      body: { external_id: '42', cleared: true },
    })
    expect((await attempt(s.url, form, 'ROB', PASSWORD)).status).toBe(303)
    // Nothing left to clear; an unknown member is a 404 with its stable code; the admin token is required.
    expect(await s.admin('DELETE', '/users/42/lockout')).toEqual({
      status: 200,
      body: { external_id: '42', cleared: false },
    })
    expect(await s.admin('DELETE', '/users/nobody/lockout')).toMatchObject({
      status: 404,
      body: { error: 'user_not_found' },
    })
    expect((await fetch(`${s.url}/api/v1/users/42/lockout`, { method: 'DELETE' })).status).toBe(401)
  })

  it('CLI: `sso-bridge users unlock <external_id>` clears it in the store the server reads', async () => {
    const { dir, cli } = await cliSandbox('sso-bridge-throttle-cli-')
    mkdirSync(path.join(dir, 'data'), { recursive: true })
    s = await startLoginServer({
      store: createSqliteStore(path.join(dir, 'data', 'sso-bridge.sqlite')),
      throttle: rules,
    })
    const form = await lockOut(s)
    const out = await cli(['users', 'unlock', '42'])
    expect(out.stderr).toBe('')
    expect(out.code).toBe(0)
    expect(JSON.parse(out.stdout)).toEqual({ external_id: '42', cleared: true })
    expect((await attempt(s.url, form, 'rob', PASSWORD)).status).toBe(303)
    const missing = await cli(['users', 'unlock', 'nobody'])
    expect(missing.code).not.toBe(0)
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: 'user_not_found' })
  })
})
