/**
 * @module tokens/builders/types
 * What every builder of a platform definition (tokens/definition.ts) shares: what it is given
 * (the checked payload, the integration, the clock) and what it makes — the token and each step
 * that made it, so the dry-run inspector can show the exact string that was signed or
 * encrypted and the signature or ciphertext, not a reconstruction of them.
 */
import type { JsonObject } from '../../accounts/types.ts'
import type { LoadedIntegration } from '../../integrations/types.ts'
import type { TokenDeps } from '../types.ts'

/** What a builder made: the token and every step the dry-run inspector shows. */
export interface Built {
  /** What the platform receives: a JWT, a signature, a `remote_auth_s3` value, an `ssotoken`. */
  token: string
  /** The document that went in: a JWT's claims, a message's JSON, the signed field. */
  payload: JsonObject
  /** A JWT's header; absent for other builders. */
  header?: JsonObject
  /** The exact string that was signed (JWT signing input, HMAC message) or encrypted (the JSON). */
  signed: string
  /** The signature, or the ciphertext, as the platform receives it (its encoding). */
  signature: string
  /** In words: `HS256`, `RS256`, `HMAC-SHA1 (hex)`, `AES-256-GCM`. */
  algorithm: string
  /** When the platform stops accepting it, epoch seconds; null when it never expires on our side. */
  expiresAt: number | null
  /** Values a delivery places beside the token (Disqus's timestamp, an IV). Never a secret. */
  parts: Record<string, string>
}

/** What a builder is given besides the payload. */
export interface BuildContext<S extends object> {
  integration: LoadedIntegration<S>
  deps: TokenDeps
  /** The clock in epoch seconds, read once per token. */
  nowSeconds: number
}

/** What verifying a token gave back (inspect): its content and its expiry in epoch seconds. */
export interface Verified {
  payload: JsonObject
  expiry: unknown
}

/**
 * A builder: how a payload becomes a token, and how a token is checked again with the same key.
 * One per kind (builders/jwt.ts, builders/hmac.ts, builders/aes-gcm.ts); a platform picks one
 * and fills in its options.
 */
export interface Builder<S extends object> {
  /** `jwt`, `hmac` or `aes-gcm`: what the catalogue and the dry run call it. */
  readonly kind: string
  /**
   * Claims the builder sets itself (`iat`, `exp`, fixed claims such as Zendesk's `scope`): a
   * mapping cannot set them; they are removed from the mapped document before it is checked.
   */
  readonly owned: (settings: S) => readonly string[]
  /**
   * Makes the token. Synchronous except where a key has to be loaded first (RS256: the bridge's
   * signing key, once per process).
   * @throws {ConfigInvalid} the secret is not set where the server runs
   */
  build(payload: JsonObject, ctx: BuildContext<S>): Built | Promise<Built>
  /**
   * Checks a token with the integration's key and gives back what it carries.
   * @throws {TokenInvalid} for any failure (one opaque error)
   */
  verify(token: string, ctx: BuildContext<S>): Verified | Promise<Verified>
}
