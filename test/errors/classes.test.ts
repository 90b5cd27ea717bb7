/**
 * The classes that used to be separate roots beside BridgeError (issue #11) are BridgeErrors now,
 * each with a code of the closed union, and what a client sees of them comes from the table.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { CliFailure, describeError, EXIT, usageError } from '../../src/cli/io.ts'
import { BridgeError, hasCode, replyFor } from '../../src/errors/index.ts'
import { toWireError } from '../../src/errors/wire.ts'
import { TicketRefused } from '../../src/login/ticket.ts'
import { MappingSyntaxError } from '../../src/mapping/index.ts'
import { SamlRequestInvalid, type SamlErrorReply } from '../../src/saml/errors.ts'
import { HttpError } from '../../src/web/errors.ts'

describe('one root', () => {
  it('every former root is a BridgeError with its code and its class name', () => {
    const cases: [BridgeError, string, string][] = [
      [new SamlRequestInvalid('ERR_SAML_DTD', 'no DTD'), 'ERR_SAML_DTD', 'SamlRequestInvalid'],
      [new TicketRefused('ERR_TICKET_EXPIRED', 'exp'), 'ERR_TICKET_EXPIRED', 'TicketRefused'],
      [new HttpError('ERR_CSRF_FAILED', 'csrf'), 'ERR_CSRF_FAILED', 'HttpError'],
      [new MappingSyntaxError('is empty'), 'ERR_MAPPING_SYNTAX', 'MappingSyntaxError'],
      [usageError('bad flag'), 'ERR_USAGE', 'CliFailure'],
    ]
    for (const [err, code, name] of cases) {
      expect(err, name).toBeInstanceOf(BridgeError)
      expect(err.code, name).toBe(code)
      expect(err.name).toBe(name)
      expect(hasCode(err, err.code)).toBe(true)
    }
  })

  it('an HttpError answers with the wire name of its code, never a status of its own', () => {
    const err = new HttpError('ERR_CSRF_FAILED', 'the form expired')
    expect(toWireError(err)).toEqual({ error: 'csrf_failed', message: 'the form expired' })
    expect(replyFor(err.code).status).toBe(403)
    expect('status' in err).toBe(false)
  })

  it('a ticket refusal names its opaque wire code, not the token', () => {
    const err = new TicketRefused('ERR_TICKET_ACCOUNT_DISABLED', 'account_disabled')
    expect(err.message).toBe('site ticket refused: account_disabled (account_disabled)')
    expect(new TicketRefused('ERR_TICKET_REPLAYED', 'jti_used').message).toBe(
      'site ticket refused: ticket_replayed (jti_used)',
    )
  })

  it('the CLI keeps its wire form and exit codes', () => {
    expect(describeError(usageError('unknown option'))).toEqual({
      wire: { error: 'usage_error', message: 'unknown option' },
      exitCode: EXIT.usage,
    })
    const rejected = new CliFailure('ERR_IMPORT_REJECTED', '2 of 3 records rejected', EXIT.failure)
    expect(describeError(rejected)).toEqual({
      wire: { error: 'import_rejected', message: '2 of 3 records rejected' },
      exitCode: EXIT.failure,
    })
  })
})

describe('a SAML refusal declares its reply', () => {
  it('withReply keeps code, message and cause, and adds the reply as a typed field', () => {
    const cause = new Error('samlify: ERR_SOMETHING')
    const plain = new SamlRequestInvalid('ERR_SAML_STALE', 'too old', { cause })
    expect(plain.reply).toBeUndefined()
    const reply: SamlErrorReply = {
      integrationId: 'sp1',
      acsUrl: 'https://sp.example/acs',
      requestId: '_abc',
      relayState: 'rs',
    }
    const answered = plain.withReply(reply)
    expect(answered).toBeInstanceOf(SamlRequestInvalid)
    expect(answered).toMatchObject({ code: 'ERR_SAML_STALE', message: 'too old', reply })
    expect(answered.cause).toBe(cause)
    expectTypeOf(answered.reply).toEqualTypeOf<SamlErrorReply | undefined>()
    // @ts-expect-error a SAML refusal only takes ERR_SAML_* codes
    void new SamlRequestInvalid('ERR_TICKET_INVALID', 'x')
  })
})
