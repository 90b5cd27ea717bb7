/**
 * HS256 signing and verification (tokens/jwt.ts): known answers computed independently (Python's
 * hmac over the same claims), interop with `jsonwebtoken` — the library the platforms' docs use —
 * and refusal of every malformed, tampered, wrong-key or algorithm-switched token as one error.
 */
import { createHmac } from 'node:crypto'
import jsonwebtoken from 'jsonwebtoken'
import { describe, expect, it } from 'vitest'
import { rawKey } from '../../src/tokens/keys.ts'
import { signHs256, verifyHs256 } from '../../src/tokens/jwt.ts'
import { BOOSTGPT_SECRET } from './helpers/fixtures.ts'

const CLAIMS = {
  email: 'rob@example.com',
  name: 'Robbie',
  external_id: '42',
  iat: 1767225600,
  exp: 1767229200,
}
/** python3: base64url(header) . base64url(claims) . base64url(HMAC-SHA256(secret, …)), compact JSON. */
const KNOWN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6InJvYkBleGFtcGxlLmNvbSIsIm5hbWUiOiJSb2JiaWUiLCJleHRlcm5hbF9pZCI6IjQyIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjE3NjcyMjkyMDB9.Fs-mcvcGz2T_DyC1H3NPwE84IswgCsc4EGGjx5y_P7c'

const key = rawKey(BOOSTGPT_SECRET)
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const hs256 = (secret: string, input: string) =>
  createHmac('sha256', secret).update(input).digest('base64url')

describe('HS256 JWT', () => {
  it('known answer, and byte-identical to jsonwebtoken.sign of the same claims', () => {
    expect(signHs256(key, CLAIMS)).toBe(KNOWN)
    // jsonwebtoken keeps a given iat (noTimestamp would delete it).
    expect(jsonwebtoken.sign(CLAIMS, BOOSTGPT_SECRET, { algorithm: 'HS256' })).toBe(KNOWN)
  })

  it("jsonwebtoken verifies ours with algorithms: [HS256]; we verify jsonwebtoken's", () => {
    const payload = { sub: 'ü-✓', nested: { a: [1, 2] }, iat: 1, exp: 4_102_444_800 }
    expect(
      jsonwebtoken.verify(signHs256(key, payload), BOOSTGPT_SECRET, { algorithms: ['HS256'] }),
    ).toEqual(payload)
    const theirs = jsonwebtoken.sign({ email: 'a@b.c' }, BOOSTGPT_SECRET, { expiresIn: '1h' })
    expect(verifyHs256(key, theirs)).toMatchObject({ email: 'a@b.c' })
  })

  it('refuses, as one opaque TokenInvalid: tampering, a wrong key, alg none/HS512/RS256, crit, odd typ, bad shape', () => {
    const [h, p] = KNOWN.split('.') as [string, string, string]
    const other = { ...CLAIMS, email: 'mallory@example.com' }
    const forged = (header: object, claims: object = CLAIMS) => {
      const input = `${b64(header)}.${b64(claims)}`
      return `${input}.${hs256(BOOSTGPT_SECRET, input)}`
    }
    const bad: Record<string, string> = {
      'payload swapped': `${h}.${b64(other)}.${KNOWN.split('.')[2]}`,
      'signature flipped': `${h}.${p}.${hs256('x'.repeat(64), `${h}.${p}`)}`,
      'wrong key': jsonwebtoken.sign(CLAIMS, 'f'.repeat(64), {
        algorithm: 'HS256',
        noTimestamp: true,
      }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
      'alg none with a signature': forged({ alg: 'none' }),
      'alg HS512': jsonwebtoken.sign(CLAIMS, BOOSTGPT_SECRET, {
        algorithm: 'HS512',
        noTimestamp: true,
      }),
      'alg RS256 header, HMAC signature': forged({ alg: 'RS256', typ: 'JWT' }),
      crit: forged({ alg: 'HS256', crit: ['b64'], b64: false }),
      'typ JWE': forged({ alg: 'HS256', typ: 'JWE' }),
      'header not an object': forged([] as unknown as object),
      'claims not an object': forged({ alg: 'HS256' }, ['a']),
      'two parts': `${h}.${p}`,
      'four parts': `${KNOWN}.x`,
      'padding in a segment': `${h}=.${p}.${KNOWN.split('.')[2]}`,
      empty: '',
    }
    for (const [name, token] of Object.entries(bad)) {
      expect(() => verifyHs256(key, token), name).toThrowError(
        expect.objectContaining({
          code: 'ERR_TOKEN_INVALID',
          message: 'token is invalid for this integration',
        }),
      )
    }
    expect(verifyHs256(key, forged({ alg: 'HS256' }))).toEqual(CLAIMS) // typ is optional
  })
})
