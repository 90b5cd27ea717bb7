/**
 * `npx sso-bridge token …` and `npx sso-bridge inspect …` over a fresh DATA_DIR (SQLite),
 * stdout/stderr and exit codes included. The cases run the CLI in-process through its `run()`
 * (test/helpers/cli.ts), so none depends on how fast the machine starts a process; one test
 * runs the real `npx sso-bridge token` and `inspect` as an operator does.
 */
import jsonwebtoken from 'jsonwebtoken'
import { afterAll, describe, expect, it } from 'vitest'
import { cliSandbox, PROCESS_TEST_TIMEOUT, removeSandboxes } from '../helpers/cli.ts'
import { BOOSTGPT_SECRET, integrations, MINNIT_KEY, ROB } from './helpers/fixtures.ts'
import { referenceDecrypt, referenceEncrypt } from './helpers/minnit-reference.ts'

afterAll(removeSandboxes)

/** The CLI (in-process) in a fresh sandbox; `input` goes to its stdin. */
async function sandbox() {
  const { cli } = await cliSandbox('sso-bridge-token-cli-')
  return (args: string[], input = '') => cli(args, { input })
}

describe.concurrent('sso-bridge token / inspect', () => {
  it('token prints {token, url, html, expires_at}; inspect decrypts it, from argv or stdin', async () => {
    const cli = await sandbox()
    expect((await cli(['users', 'put', '42', '--file', '-'], JSON.stringify(ROB))).code).toBe(0)
    expect(
      (
        await cli(
          ['integrations', 'put', 'minnit', '--file', '-'],
          JSON.stringify(integrations.minnit),
        )
      ).code,
    ).toBe(0)
    const issued = await cli(['token', 'minnit', '42'])
    expect(issued.code, issued.stderr).toBe(0)
    const out = JSON.parse(issued.stdout)
    expect(Object.keys(out).sort()).toEqual(['expires_at', 'html', 'token', 'url'])
    expect(JSON.parse(referenceDecrypt(MINNIT_KEY, out.token))).toMatchObject({
      userid: '42',
      username: 'Rob',
    })

    const inspected = await cli(['inspect', 'minnit', out.token])
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      integration: 'minnit',
      payload: { userid: '42' },
      expires_at: out.expires_at,
      expired: false,
    })
    const foreign = referenceEncrypt(MINNIT_KEY, '{"userid":"9","username":"Doc"}')
    const fromStdin = await cli(['inspect', 'minnit', '-'], `${foreign}\n`)
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({
      payload: { userid: '9', username: 'Doc' },
      expires_at: null,
    })
  })

  it('failures: token_invalid (opaque), user_not_found, account_incomplete naming the field — on stderr as wire JSON, exit 1', async () => {
    const cli = await sandbox()
    await cli(['users', 'put', '42', '--file', '-'], JSON.stringify({ username: 'Rob' }))
    await cli(
      ['integrations', 'put', 'boost', '--file', '-'],
      JSON.stringify(integrations.boostgpt),
    )
    const wire = (r: { stderr: string }) => JSON.parse(r.stderr.trim().split('\n').at(-1)!)
    const bad = await cli(['inspect', 'boost', jsonwebtoken.sign({ a: 1 }, 'f'.repeat(64))])
    expect([bad.code, wire(bad)]).toEqual([
      1,
      { error: 'token_invalid', message: 'token is invalid for this integration' },
    ])
    const ghost = await cli(['token', 'boost', 'ghost'])
    expect([ghost.code, wire(ghost).error]).toEqual([1, 'user_not_found'])
    const incomplete = await cli(['token', 'boost', '42'])
    expect(incomplete.code).toBe(1)
    expect(wire(incomplete)).toEqual({
      error: 'account_incomplete',
      message: 'integration boost requires email, which this account does not have',
      details: { integration: 'boost', field: 'email', reason: 'missing' },
    })
    await cli(
      ['users', 'put', '42', '--file', '-'],
      JSON.stringify({ username: 'Rob', email: 'rob@example.com' }),
    )
    const ok = await cli(['token', 'boost', '42'])
    expect(
      jsonwebtoken.verify(JSON.parse(ok.stdout).token, BOOSTGPT_SECRET, { algorithms: ['HS256'] }),
    ).toMatchObject({ email: 'rob@example.com' })
  })

  it(
    'the binary as an operator runs it: npx sso-bridge token, then inspect reading the token from stdin',
    async () => {
      const { cli, binary } = await cliSandbox('sso-bridge-token-cli-')
      expect(
        (await cli(['users', 'put', '42', '--file', '-'], { input: JSON.stringify(ROB) })).code,
      ).toBe(0)
      expect(
        (
          await cli(['integrations', 'put', 'minnit', '--file', '-'], {
            input: JSON.stringify(integrations.minnit),
          })
        ).code,
      ).toBe(0)
      const issued = await binary(['token', 'minnit', '42'])
      expect(issued.code, issued.stderr).toBe(0)
      const { token } = JSON.parse(issued.stdout)
      expect(JSON.parse(referenceDecrypt(MINNIT_KEY, token))).toMatchObject({
        userid: '42',
        username: 'Rob',
      })
      const inspected = await binary(['inspect', 'minnit', '-'], { input: `${token}\n` })
      expect(inspected.code, inspected.stderr).toBe(0)
      expect(JSON.parse(inspected.stdout)).toMatchObject({
        integration: 'minnit',
        payload: { userid: '42' },
        expired: false,
      })
    },
    PROCESS_TEST_TIMEOUT,
  )
})
