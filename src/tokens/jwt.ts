/**
 * @module tokens/jwt
 * Compact JWTs (RFC 7519 with RFC 7515 compact serialization) as the platforms' documents make
 * them with `jsonwebtoken`: HS256 (RFC 7518 §3.2, the shared secret's UTF-8 bytes as the key)
 * signing, and the one verification every JWT builder (builders/jwt.ts, HS256 and RS256) shares.
 *
 * Signing is a few lines over node:crypto with a key object imported once per integration
 * (tokens/keys.ts): no per-token key import, no promise, which is what makes it run at the
 * speed of a bare HMAC.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'
import { TokenInvalid } from '../errors/index.ts'

/** base64url of `{"alg":"HS256","typ":"JWT"}`: the header jsonwebtoken writes. */
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
const SEGMENT = /^[A-Za-z0-9_-]+$/

/** The HS256 signature, base64url, of a JWS signing input (`header.payload`). */
export function hs256(key: KeyObject, input: string): string {
  return createHmac('sha256', key).update(input).digest('base64url')
}

/**
 * Signs `claims` (serialized in their key order) into a compact HS256 JWT.
 * @example signHs256(rawKey(secret), { email: 'rob@example.com', iat: 1767225600, exp: 1767229200 })
 */
export function signHs256(key: KeyObject, claims: Record<string, unknown>): string {
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')}`
  return `${input}.${hs256(key, input)}`
}

/**
 * Verifies a compact JWS of algorithm `alg` and returns its claims. Expiry is not judged here
 * (inspect shows an expired token's content and says it expired).
 *
 * Refused, all as one opaque error: not three base64url segments; a header that is not a JSON
 * object with `alg` exactly `alg` (so `none` and algorithm switching fail), with a `crit`
 * member, or with a `typ` other than `typ`; a signature `signatureOk` refuses; claims that are
 * not a JSON object.
 * @param signatureOk whether the decoded signature is right for the signing input `header.payload`
 * @throws {TokenInvalid}
 */
export function verifyCompact(
  token: string,
  alg: string,
  typ: string,
  signatureOk: (input: string, signature: Buffer) => boolean,
): Record<string, unknown> {
  try {
    const parts = token.trim().split('.')
    if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw new TokenInvalid()
    const [h, p, s] = parts as [string, string, string]
    const header: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
    if (
      !isObject(header) ||
      header.alg !== alg ||
      'crit' in header ||
      (header.typ !== undefined && header.typ !== typ)
    )
      throw new TokenInvalid()
    if (!signatureOk(`${h}.${p}`, Buffer.from(s, 'base64url'))) throw new TokenInvalid()
    const claims: unknown = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
    if (!isObject(claims)) throw new TokenInvalid()
    return claims
  } catch {
    throw new TokenInvalid()
  }
}

/**
 * Verifies a compact HS256 JWT (see {@link verifyCompact}); the signature is compared in
 * constant time.
 * @throws {TokenInvalid}
 */
export function verifyHs256(key: KeyObject, token: string, typ = 'JWT'): Record<string, unknown> {
  return verifyCompact(token, 'HS256', typ, (input, given) => {
    const expected = createHmac('sha256', key).update(input).digest()
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
