/**
 * @module tokens/builders/aes-gcm
 * The AES-GCM builder of a platform definition, in Minnit's zero-click format (tokens/zero-click.ts:
 * AES-256-GCM under the secret's 32 bytes, a fresh 12-byte IV, a 16-byte tag, standard base64 of
 * iv ‖ ciphertext ‖ tag), with the expiry as a claim of the encrypted JSON (`max_valid_ts`):
 * platforms/minnit-zero-click.ts, and any platform that encrypts this way.
 */
import type { Builder } from './types.ts'
import {
  sealZeroClick,
  verifyZeroClickToken,
  ZERO_CLICK_IV_BYTES,
  ZERO_CLICK_TAG_BYTES,
  zeroClickKey,
} from '../zero-click.ts'

/** How a platform's encrypted token is made. */
export interface AesGcmOptions<S extends object> {
  /** The name of the integration secret that is the 32-byte key. */
  secret: string
  /** The claim that carries the expiry (epoch seconds) inside the JSON, e.g. `max_valid_ts`. */
  expiryClaim: string
  /** Seconds a token stays valid. */
  ttl: (settings: S) => number
}

/** An AES-256-GCM builder (Minnit's zero-click format). */
export function aesGcmBuilder<S extends object>(o: AesGcmOptions<S>): Builder<S> {
  return {
    kind: 'aes-gcm',
    owned: () => [o.expiryClaim],
    build(payload, ctx) {
      const key = ctx.deps.keys.require(ctx.integration, o.secret, zeroClickKey)
      const expiresAt = ctx.nowSeconds + o.ttl(ctx.integration.settings)
      payload[o.expiryClaim] = expiresAt
      const json = JSON.stringify(payload)
      const raw = sealZeroClick(key, json, ctx.deps.randomBytes(ZERO_CLICK_IV_BYTES))
      return {
        token: raw.toString('base64'),
        payload,
        signed: json,
        algorithm: 'AES-256-GCM',
        expiresAt,
        // Only the dry run reads these: encoded when asked, not for every token.
        /** The ciphertext and its tag, as they sit in the token after the IV. */
        get signature() {
          return raw.subarray(ZERO_CLICK_IV_BYTES).toString('base64')
        },
        get parts() {
          return {
            iv: raw.subarray(0, ZERO_CLICK_IV_BYTES).toString('base64'),
            tag: raw.subarray(raw.length - ZERO_CLICK_TAG_BYTES).toString('base64'),
          }
        },
      }
    },
    verify(token, ctx) {
      const key = ctx.deps.keys.require(ctx.integration, o.secret, zeroClickKey)
      const payload = verifyZeroClickToken(key, token) as Record<string, never>
      return { payload, expiry: payload[o.expiryClaim] }
    },
  }
}
