/**
 * @module oidc/cookie-keys
 * Signs and checks oidc-provider's cookies (koa's `cookies` package asks for `sign` and `index`)
 * with exactly keygrip's output — HMAC-SHA1, base64url without padding — so cookies signed
 * before stay valid, but with the keys imported once as KeyObjects and compared with
 * `crypto.timingSafeEqual`.
 *
 * Why: keygrip hands its string keys to `createHmac` on every call (an import each time) and
 * compares through `tsscmp`, which makes two more HMACs under a fresh random key. A sign-in
 * reads and writes several signed cookies; under the profiler that was ~12 % of the sign-in
 * flow's server time.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'

/**
 * keygrip's interface (`sign`, `verify`, `index`) over KeyObjects, passed to oidc-provider as its
 * `cookies.keys` (see the module doc for why not keygrip itself).
 * @throws {TypeError} from the constructor when no secret is given
 * @example new Provider(issuer, { cookies: { keys: new CookieKeys(secrets) as unknown as string[] } })
 */
export class CookieKeys {
  readonly #keys: KeyObject[]

  /** @param secrets newest first: signing uses the first, checking accepts any. */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new TypeError('at least one cookie key is required')
    this.#keys = secrets.map((s) => createSecretKey(Buffer.from(s, 'utf8')))
  }

  #sign(data: string, key: KeyObject): string {
    return createHmac('sha1', key).update(data).digest('base64url')
  }

  sign(data: string): string {
    return this.#sign(data, this.#keys[0]!)
  }

  /** The index of the key that made `digest` for `data`, or -1. */
  index(data: string, digest: string): number {
    const given = Buffer.from(String(digest), 'utf8')
    for (let i = 0; i < this.#keys.length; i++) {
      const expected = Buffer.from(this.#sign(data, this.#keys[i]!), 'utf8')
      if (given.length === expected.length && timingSafeEqual(given, expected)) return i
    }
    return -1
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1
  }
}
