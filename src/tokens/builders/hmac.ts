/**
 * @module tokens/builders/hmac
 * The HMAC builder of a platform definition: an HMAC (RFC 2104) with the chosen digest over a
 * message the platform chooses (an identifier, an email, Disqus's "message timestamp"), in the
 * chosen encoding, under an integration secret's UTF-8 bytes (PHP's `hash_hmac`, Python's
 * `hmac.new(secret.encode())`). What is handed over is the signature alone or a value built
 * around it (Disqus's `remote_auth_s3`).
 */
import { createHmac, timingSafeEqual, type BinaryToTextEncoding } from 'node:crypto'
import type { JsonObject } from '../../accounts/types.ts'
import { TokenInvalid } from '../../errors/index.ts'
import type { Builder, Verified } from './types.ts'

/** A token split back into what was signed, for inspect. */
export interface ParsedHmacToken {
  /** The exact string that was signed. */
  message: string
  signature: string
  /** What inspect shows once the signature matches. */
  payload: JsonObject
  /** Epoch seconds, if the token carries a time. */
  expiry?: number
}

/** How a platform's HMAC is made. `S` is the platform's settings. */
export interface HmacOptions<S extends object> {
  digest: 'sha1' | 'sha256'
  encoding: 'hex' | 'base64' | 'base64url'
  /** The name of the integration secret that is the key. */
  secret: string
  /** The exact string to sign, from the checked payload and the clock. */
  message: (payload: JsonObject, nowSeconds: number, settings: S) => string
  /** What is handed over; default the signature alone. */
  token?: (p: { payload: JsonObject; message: string; signature: string; now: number }) => string
  /** Values a delivery places beside the token (Disqus's timestamp). */
  parts?: (p: { payload: JsonObject; now: number }) => Record<string, string>
  /** When the platform stops accepting it, epoch seconds; default never (null). */
  expires?: (nowSeconds: number, settings: S) => number | null
  /**
   * For inspect: a token back into its message and signature. Default: `<message> <signature>`,
   * split at the last space (a signature alone proves nothing without what it signs), and the
   * payload `{ message }`.
   */
  parse?: (token: string) => ParsedHmacToken | null
}

/** `<message> <signature>`, split at the last space. */
function parseSigned(token: string): ParsedHmacToken | null {
  const at = token.lastIndexOf(' ')
  if (at <= 0) return null
  const message = token.slice(0, at)
  return { message, signature: token.slice(at + 1), payload: { message } }
}

/**
 * An HMAC builder.
 * @example hmacBuilder<Settings>({ digest: 'sha256', encoding: 'hex', secret: 'hmac_token', message: (p) => String(p.identifier) })
 */
export function hmacBuilder<S extends object>(o: HmacOptions<S>): Builder<S> {
  const algorithm = `HMAC-${o.digest.toUpperCase().replace('SHA', 'SHA-')} (${o.encoding})`
  const parse = o.parse ?? parseSigned
  const { digest, message, token: handOver, parts, expires } = o
  const encoding = o.encoding as BinaryToTextEncoding
  return {
    kind: 'hmac',
    owned: () => [],
    build(payload, ctx) {
      const key = ctx.deps.keys.require(ctx.integration, o.secret)
      const now = ctx.nowSeconds
      const { settings } = ctx.integration
      const signed = message(payload, now, settings)
      const signature = createHmac(digest, key).update(signed, 'utf8').digest(encoding)
      return {
        token: handOver ? handOver({ payload, message: signed, signature, now }) : signature,
        payload,
        signed,
        signature,
        algorithm,
        expiresAt: expires ? (expires(now, settings) ?? null) : null,
        parts: (parts ? parts({ payload, now }) : undefined) ?? {},
      }
    },
    verify(token, ctx): Verified {
      const key = ctx.deps.keys.require(ctx.integration, o.secret)
      try {
        const parsed = parse(token.trim())
        if (!parsed) throw new TokenInvalid()
        const expected = createHmac(o.digest, key).update(parsed.message, 'utf8').digest()
        const given = Buffer.from(parsed.signature, o.encoding)
        // A re-encoding must give back the same text: no lenient decoding of a mangled signature.
        if (
          given.toString(o.encoding) !== parsed.signature ||
          given.length !== expected.length ||
          !timingSafeEqual(given, expected)
        )
          throw new TokenInvalid()
        return { payload: parsed.payload, expiry: parsed.expiry }
      } catch {
        throw new TokenInvalid()
      }
    },
  }
}
