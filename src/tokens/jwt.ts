/**
 * @module tokens/jwt
 * HS256 JWTs (RFC 7519 with RFC 7515 compact serialization, RFC 7518 §3.2 HMAC-SHA256), as the
 * platforms' documents sign them with `jsonwebtoken`: header `{"alg":"HS256","typ":"JWT"}`, the
 * claims as JSON, the shared secret's UTF-8 bytes as the key.
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

/**
 * Signs `claims` (serialized in their key order) into a compact HS256 JWT.
 * @example signHs256(rawKey(secret), { email: 'rob@example.com', iat: 1767225600, exp: 1767229200 })
 */
export function signHs256(key: KeyObject, claims: Record<string, unknown>): string {
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')}`
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
}

/**
 * Verifies a compact HS256 JWT and returns its claims. Expiry is not judged here (inspect shows
 * an expired token's content and says it expired).
 *
 * Refused, all as one opaque error: not three base64url segments; a header that is not a JSON
 * object with `alg` exactly `HS256` (so `none` and algorithm switching fail), with a `crit`
 * member, or with a `typ` other than `JWT`; a signature that differs (compared in constant
 * time); claims that are not a JSON object.
 * @throws {TokenInvalid}
 */
export function verifyHs256(key: KeyObject, token: string): Record<string, unknown> {
  try {
    const parts = token.trim().split('.')
    if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw new TokenInvalid()
    const [h, p, s] = parts as [string, string, string]
    const header: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
    if (
      !isObject(header) ||
      header.alg !== 'HS256' ||
      'crit' in header ||
      (header.typ !== undefined && header.typ !== 'JWT')
    )
      throw new TokenInvalid()
    const expected = createHmac('sha256', key).update(`${h}.${p}`).digest()
    const given = Buffer.from(s, 'base64url')
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new TokenInvalid()
    const claims: unknown = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
    if (!isObject(claims)) throw new TokenInvalid()
    return claims
  } catch {
    throw new TokenInvalid()
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
