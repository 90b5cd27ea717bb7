/**
 * Crisp user verification (tokens/platforms/crisp.ts), against its document:
 * https://docs.crisp.chat/guides/chatbox-sdks/web-sdk/identity-verification/ — the email signed
 * with HMAC-SHA256 (hex) under the website's secret key, set with
 * `$crisp.push(["set", "user:email", [email, signature]])`. Known answer from Python's hmac;
 * PHP's hash_hmac checks every issued signature.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PHP, runForeign } from '../helpers/foreign.ts'
import { closeDefined, definedSetup, incomplete, type DefinedSetup } from '../helpers/defined.ts'

const KEY = 'crisp-secret-key-0123456789'
/** hmac.new(b'crisp-secret-key-0123456789', b'rob@example.com', hashlib.sha256).hexdigest() */
const SIG = '3bc9bec368c7dd2f387388b24eeda9475fe23d60f34793237070cba621a755d1'

let s: DefinedSetup | undefined
beforeEach(async () => {
  s = await definedSetup('cr', { type: 'crisp', settings: {}, secrets: { secret_key: KEY } })
})
afterEach(async () => closeDefined(s))

describe('crisp', () => {
  it('known answer: the email signature and the $crisp calls', async () => {
    expect(await s!.tokens.issue('cr', '42')).toEqual({
      token: SIG,
      url: null,
      html: null,
      expires_at: null,
      script: `$crisp.push(["set", "user:email", ["rob@example.com", "${SIG}"]]);\n$crisp.push(["set", "user:nickname", ["Robbie"]]);`,
    })
  })

  it("PHP's hash_hmac over the email agrees", async () => {
    await s!.t.services.accounts.put('7', { username: 'ana', email: 'ana.lopez@example.org' })
    for (const [member, email] of [
      ['42', 'rob@example.com'],
      ['7', 'ana.lopez@example.org'],
    ] as const) {
      const out = await s!.tokens.issue('cr', member)
      expect(out.script).toContain(JSON.stringify(email))
      expect(out.token).toBe(
        runForeign(
          PHP,
          `$in = json_decode(stream_get_contents(STDIN), true); echo hash_hmac('sha256', $in['email'], $in['key']);`,
          { email, key: KEY },
        ),
      )
    }
  })

  it('no email: 422 account_incomplete; inspect checks "<email> <signature>"', async () => {
    await s!.t.services.accounts.put('8', { username: 'nomail' })
    await expect(s!.tokens.issue('cr', '8')).rejects.toMatchObject(incomplete('cr', 'email'))
    expect(await s!.tokens.inspect('cr', `rob@example.com ${SIG}`)).toMatchObject({
      payload: { message: 'rob@example.com' },
    })
    await expect(s!.tokens.inspect('cr', `eve@example.com ${SIG}`)).rejects.toMatchObject({
      code: 'ERR_TOKEN_INVALID',
    })
  })
})
