/**
 * The one error model (issue #11): every code in the closed union has a status and a wire name,
 * 5xx is kept for faults of the server, the OIDC codes are oidc-provider's own, and the HTTP
 * error handler answers each code exactly as the table says.
 */
import { STATUS_CODES } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import express from 'express'
import { errors as oidcErrors } from 'oidc-provider'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import {
  BRIDGE_ERROR_CODES,
  BridgeError,
  ERROR_REPLIES,
  hasCode,
  isBridgeError,
  replyFor,
  type BridgeErrorCode,
} from '../../src/errors/index.ts'
import { errorHandler } from '../../src/http/error-handler.ts'
import { createLogger } from '../../src/log/logger.ts'
import { oidcRefusalCode } from '../../src/oidc/refusal-code.ts'

/**
 * The codes that may answer 5xx, each because the fault is the server's (or a service behind
 * it), never the client's. Written out here, apart from the table, so that giving a client's
 * mistake a 5xx status fails this test.
 */
const SERVER_FAULTS: ReadonlySet<BridgeErrorCode> = new Set<BridgeErrorCode>([
  'ERR_GENERIC', // a bug or an unforeseen outage
  'ERR_CONFIG_INVALID', // the operator's configuration
  'ERR_KEYS_INVALID', // KEYS_DIR holds unusable keys
  'ERR_KEYS_MISMATCH', // KEYS_DIR differs from what the other instances use
  'ERR_SECRETS_KEY_MISSING', // a stored secret is sealed under a key not configured here
  'ERR_SECRET_UNREADABLE', // a stored secret was altered or moved in the database
  'ERR_STORE_UNAVAILABLE', // the database does not answer
  'ERR_STORE_IN_USE', // another server holds the SQLite database
  'ERR_SCHEMA_TOO_NEW', // a newer sso-bridge migrated the database
  'ERR_PLATFORM_UNAVAILABLE', // Dead Simple Chat's API failed
  'ERR_BACKCHANNEL_LOGOUT_FAILED', // a relying party's back-channel logout endpoint failed
  'ERR_OIDC_SERVER_ERROR', // oidc-provider's own server_error
])

/** A BridgeError carrying any code: how the handler treats a code, whatever class raised it. */
class Probe extends BridgeError {
  constructor(code: BridgeErrorCode) {
    super(`probe ${code}`)
    this.code = code
  }
}

describe('the code table (errors/codes.ts)', () => {
  it('gives every code a real HTTP error status and a snake_case wire name', () => {
    expect(BRIDGE_ERROR_CODES.length).toBeGreaterThan(50)
    for (const code of BRIDGE_ERROR_CODES) {
      expect(code, code).toMatch(/^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/)
      const { status, error } = replyFor(code)
      expect(Number.isInteger(status), code).toBe(true)
      expect(status, code).toBeGreaterThanOrEqual(400)
      expect(status, code).toBeLessThan(600)
      expect(STATUS_CODES[status], `${code}: ${status}`).toBeDefined()
      expect(error, code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/)
    }
  })

  it('uses 5xx only for faults of the server', () => {
    const fivexx = BRIDGE_ERROR_CODES.filter((c) => replyFor(c).status >= 500)
    expect(fivexx.sort()).toEqual([...SERVER_FAULTS].sort())
  })

  it('lists each code once, and the union is exactly the table', () => {
    expect(new Set(BRIDGE_ERROR_CODES).size).toBe(BRIDGE_ERROR_CODES.length)
    expect([...BRIDGE_ERROR_CODES]).toEqual(Object.keys(ERROR_REPLIES))
    expectTypeOf<'ERR_SAML_TOO_LARGE'>().toExtend<BridgeErrorCode>()
    expectTypeOf<'ERR_SAML_TOO_BIG'>().not.toExtend<BridgeErrorCode>()
  })

  it('names a SAML refusal on the wire by its code without ERR_, lower-cased', () => {
    const saml = BRIDGE_ERROR_CODES.filter((c) => c.startsWith('ERR_SAML_'))
    expect(saml.length).toBeGreaterThanOrEqual(16)
    for (const code of saml) expect(replyFor(code).error).toBe(code.slice(4).toLowerCase())
    expect(replyFor('ERR_SAML_TOO_LARGE').status).toBe(413)
    expect(replyFor('ERR_SAML_UNKNOWN_SP').status).toBe(404)
  })

  it("holds every error oidc-provider raises, with oidc-provider's own status and name", () => {
    const theirs = new Map<string, number>()
    for (const [name, Klass] of Object.entries(oidcErrors)) {
      if (typeof Klass !== 'function' || name === 'OIDCProviderError') continue
      let e: { error?: unknown; statusCode?: unknown }
      try {
        e = new (Klass as new (...a: string[]) => typeof e)('a description')
      } catch {
        e = new (Klass as new () => typeof e)()
      }
      // CustomOIDCProviderError takes its name from the caller: not one of oidc-provider's own.
      if (name === 'CustomOIDCProviderError') continue
      if (typeof e.error === 'string') theirs.set(e.error, Number(e.statusCode))
    }
    theirs.set('server_error', 500) // helpers/err_out.js: what any unexpected error becomes
    expect(theirs.size).toBeGreaterThan(40)
    for (const [error, status] of theirs) {
      const code = oidcRefusalCode(error)
      expect(code, error).toBe(`ERR_OIDC_${error.toUpperCase()}`)
      expect(replyFor(code), error).toEqual({ status, error })
    }
    // …and nothing beyond them, besides the codes we raise ourselves about OIDC.
    const ours = new Set(['ERR_OIDC_CLIENT_SECRET_UNSET', 'ERR_OIDC_OTHER'])
    const listed = BRIDGE_ERROR_CODES.filter((c) => c.startsWith('ERR_OIDC_') && !ours.has(c))
    expect(listed.sort()).toEqual(
      [...theirs.keys()].map((e) => `ERR_OIDC_${e.toUpperCase()}`).sort(),
    )
    expect(oidcRefusalCode('a_name_from_the_future')).toBe('ERR_OIDC_OTHER')
  })
})

describe('typed guards', () => {
  it('isBridgeError and hasCode tell our errors and their codes apart', () => {
    const err: unknown = new Probe('ERR_ACCOUNT_NOT_FOUND')
    expect(isBridgeError(err)).toBe(true)
    expect(hasCode(err, 'ERR_ACCOUNT_NOT_FOUND')).toBe(true)
    expect(hasCode(err, 'ERR_INTEGRATION_NOT_FOUND')).toBe(false)
    // Someone else's error with the same code string is not ours.
    const foreign = Object.assign(new Error('x'), { code: 'ERR_ACCOUNT_NOT_FOUND' })
    expect(isBridgeError(foreign)).toBe(false)
    expect(hasCode(foreign, 'ERR_ACCOUNT_NOT_FOUND')).toBe(false)
    expect(hasCode(undefined, 'ERR_GENERIC')).toBe(false)
    if (hasCode(err, 'ERR_ACCOUNT_NOT_FOUND'))
      expectTypeOf(err.code).toEqualTypeOf<'ERR_ACCOUNT_NOT_FOUND'>()
  })

  it('log lines only take codes of the union', () => {
    const log = createLogger('silent')
    log.info({ code: 'ERR_TICKET_INVALID' }, 'typed')
    // @ts-expect-error a typo'd code fails tsc
    log.info({ code: 'ERR_TICKET_INVALIDD' }, 'typo')
    expectTypeOf(log.warn).parameter(0).toExtend<object | string>()
  })
})

describe('the HTTP error handler answers each code from the table', () => {
  const lines: Record<string, unknown>[] = []
  let server: ReturnType<ReturnType<typeof express>['listen']>
  let base: string

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _e, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
        done()
      },
    })
    const app = express()
    app.get('/probe/:code', (req) => {
      throw new Probe(req.params.code as BridgeErrorCode)
    })
    app.use(errorHandler(createLogger('info', sink)))
    server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise((resolve) => server.close(resolve)))

  it('with its status, its wire name and the code in the log line', async () => {
    for (const code of BRIDGE_ERROR_CODES) {
      const res = await request(base).get(`/probe/${code}`).set('Accept', 'application/json')
      const { status, error } = replyFor(code)
      expect(res.status, code).toBe(status)
      // ERR_GENERIC is the one that hides its message: it stands for what is not ours.
      expect(res.body, code).toEqual(
        code === 'ERR_GENERIC'
          ? { error: 'internal_error', message: 'internal error' }
          : { error, message: `probe ${code}` },
      )
      expect(lines.at(-1), code).toMatchObject({ code, status, error })
      expect(res.headers['retry-after'], code).toBe(
        code === 'ERR_STORE_UNAVAILABLE' ? '5' : undefined,
      )
    }
  })
})
