/**
 * Regression (issue #10, "Several instances"), Dead Simple Chat: an instance that claimed a
 * member's Create User and died leaves its claim behind; the claim is a lease, so once it runs
 * out a waiting instance takes over and creates the user (exactly one call), instead of the
 * member waiting forever or a second user being made while the claim is live. The dead
 * instance's claim is written as it would have written it, with a short lease so the test does
 * not wait the real 15 s; real SQLite store, the Dead Simple Chat stand-in over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTokenService, type TokenService } from '../../src/tokens/index.ts'
import { makeTestApp, type TestApp } from '../helpers/app.ts'
import { startDscServer, type DscServer } from '../tokens/helpers/dsc-server.ts'
import { DSC_KEY, integrations, ROB } from '../tokens/helpers/fixtures.ts'

let t: TestApp
let dsc: DscServer
let tokens: TokenService
const notes: string[] = []

beforeEach(async () => {
  t = makeTestApp()
  dsc = await startDscServer(DSC_KEY)
  notes.length = 0
  tokens = createTokenService({
    accounts: t.services.accounts,
    integrations: t.services.integrations,
    kv: t.services.store,
    secrets: t.services.secrets,
    log: { info: (_o: object, msg: string) => notes.push(msg) } as never,
  })
  await t.services.accounts.put('42', ROB)
  await t.services.integrations.put('dsc', integrations.dsc(dsc.url))
})
afterEach(async () => {
  await dsc.close()
  await t.close()
})

describe('Dead Simple Chat creation claim (lease)', () => {
  it('a claim left by a dead instance holds the others off until its lease runs out; then one takes over with one Create User call', async () => {
    const account = await t.services.accounts.get('42')
    // What the dead instance wrote before calling Create User (and never released).
    expect(
      await t.services.store.kvSetIfAbsent(
        'tokens:deadsimplechat-claims:dsc',
        account.id,
        { owner: 'dead-instance' },
        { ttlMs: 300 },
      ),
    ).toBe(true)

    const issued = await Promise.all([tokens.issue('dsc', '42'), tokens.issue('dsc', '42')])
    expect(notes.some((m) => m.includes('another instance is creating'))).toBe(true) // it waited on the claim
    expect(issued[1].token).toBe(issued[0].token)
    expect(dsc.calls).toHaveLength(1)
    // The taker-over released its own claim: the next creation (a changed request) is not held off.
    expect(await t.services.store.kvGet('tokens:deadsimplechat-claims:dsc', account.id)).toBeNull()
  })

  it('a live claim is respected: nothing is created while it holds and its holder stores the user', async () => {
    const account = await t.services.accounts.get('42')
    expect(
      await t.services.store.kvSetIfAbsent(
        'tokens:deadsimplechat-claims:dsc',
        account.id,
        { owner: 'other-instance' },
        { ttlMs: 60_000 },
      ),
    ).toBe(true)
    const pending = tokens.issue('dsc', '42')
    // The holder lets go (here: released; the next to claim, either of the two, creates once).
    const other = createTokenService({
      accounts: t.services.accounts,
      integrations: t.services.integrations,
      kv: t.services.store,
      secrets: t.services.secrets,
    })
    await until(() => notes.some((m) => m.includes('another instance is creating')))
    expect(dsc.calls).toHaveLength(0) // held off by the live claim
    await t.services.store.kvDelete('tokens:deadsimplechat-claims:dsc', account.id)
    const theirs = await other.issue('dsc', '42')
    expect((await pending).token).toBe(theirs.token)
    expect(dsc.calls).toHaveLength(1)
  })
})

/** Waits for `cond` (no deadline of its own: the test's timeout is the limit). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10))
}
