/**
 * @module tokens/types
 * What the token door's platform types share: the shape of an issued token, the dependencies a
 * type's `issue` gets (clock, random source, key cache, store, fetch — injectable so tests can
 * freeze the clock and fix the IV), and the record each `platforms/<type>.ts` contributes.
 */
import type { Logger } from '../log/logger.ts'
import type { Account, JsonObject } from '../accounts/types.ts'
import type { LoadedIntegration } from '../integrations/registry.ts'
import type { IntegrationTypeDefinition } from '../integrations/types.ts'
import type { SecretBox } from '../secrets/index.ts'
import type { KvStore } from '../store/ports.ts'
import type { SigningKey } from './builders/jwt.ts'
import type { KeyCache } from './keys.ts'
import type { BrowserSettings } from './settings.ts'

/** One issued platform token, ready to hand to the platform. */
export interface IssuedToken {
  /** The platform's token: a zero-click `ssotoken`, a JWT, or a Dead Simple Chat accessToken. */
  token: string
  /** Where the browser goes (or the iframe points) with the token in it; null when the platform takes the token otherwise. */
  url: string | null
  /** Ready-to-paste HTML (iframe or script tag), attribute values escaped; null when none applies. */
  html: string | null
  /** When the platform stops accepting the token (ISO 8601); null when it never expires on our side. */
  expires_at: string | null
  /** A JavaScript statement for platforms initialised from script (BoostGPT's `BoostGPTWidget.init`). */
  script?: string
}

/** Per-request options some types understand; the others ignore them. */
export interface IssueOptions {
  /** MeltingSpot flow (b): the `redirectUrl` the spot sent to the authorization URL. */
  redirectUrl?: string
  /** MeltingSpot: the page of the spot to land on (`referrerUrl`, a path of the spot). */
  referrerUrl?: string
  /**
   * Dead Simple Chat, CometChat (the create-user builder): a token the platform refused;
   * replaced when it is the stored one.
   */
  rejectedToken?: string
}

/** What inspect shows: the token's content once decrypted or verified with the integration's key. */
export interface Inspected {
  payload: JsonObject
  /** From `max_valid_ts` / `exp`; null when the token carries none. */
  expires_at: string | null
  expired: boolean
}

/** What a type's `issue` and `inspect` may use; created once by the token service. */
export interface TokenDeps {
  /** Epoch milliseconds. */
  now: () => number
  /** Cryptographically random bytes (the zero-click IV). */
  randomBytes: (size: number) => Buffer
  keys: KeyCache
  kv: KvStore
  /** Seals what a platform stores per member (Dead Simple Chat's access tokens). */
  secrets: SecretBox
  fetch: typeof globalThis.fetch
  /** Operational notes (Dead Simple Chat waiting on another instance's Create User). */
  log?: Pick<Logger, 'info'>
  /**
   * The bridge's RS256 signing key (the first of the published JWKS), loaded once; absent where
   * KEYS_DIR is not at hand. Platforms that verify with the JWKS (Arena) sign with it.
   */
  signingKey?: () => Promise<SigningKey>
}

/**
 * What the dry-run inspector shows for one member (`POST /api/v1/integrations/{id}/dry-run`,
 * `sso-bridge dry-run`): the exact payload, the exact string signed or encrypted, the signature
 * or ciphertext, and what to paste. Never a secret: the key is not in it.
 */
export interface DryRun {
  /** In words: `HS256`, `RS256`, `HMAC-SHA1 (hex)`, `AES-256-GCM`, or the API call made instead. */
  algorithm: string
  /** A JWT's header. */
  header?: JsonObject
  /** The document that went in, after the mapping and the platform's field rules. */
  payload: JsonObject
  /** The exact string signed (JWT signing input, HMAC message) or encrypted (the JSON); null when the platform signs its own token. */
  signed: string | null
  /** The signature or the ciphertext, as the platform receives it; null when the platform signs its own token. */
  signature: string | null
  /** Values placed beside the token (Disqus's timestamp, the IV). */
  parts: Record<string, string>
  /** The token itself; null when only the platform can make it (Dead Simple Chat's Create User). */
  token: string | null
  /** What to paste or where to send the member: the token's url, html and script. */
  snippet: { url: string | null; html: string | null; script: string | null }
  expires_at: string | null
  /** What the dry run did not do, or what to check. */
  notes: string[]
}

/**
 * One platform token type: its registry definition and its door. `S` is the type's settings;
 * every token type's include the shared {@link BrowserSettings}. The functions are properties,
 * not methods, so that a platform of one type cannot pass for another's without the guard in
 * platforms/index.ts.
 */
export interface TokenPlatform<S extends BrowserSettings = BrowserSettings> {
  definition: IntegrationTypeDefinition<S>
  /**
   * Issues the platform's token for an account.
   * @throws {AccountIncomplete} a required field is missing or unusable; nothing was issued
   */
  issue: (
    account: Account,
    integration: LoadedIntegration<S>,
    deps: TokenDeps,
    options?: IssueOptions,
  ) => IssuedToken | Promise<IssuedToken>
  /**
   * Decrypts or verifies a token with the integration's key.
   * @throws {TokenInvalid} for any failure (one opaque error)
   */
  inspect: (
    token: string,
    integration: LoadedIntegration<S>,
    deps: TokenDeps,
  ) => Inspected | Promise<Inspected>
  /**
   * Present when the type's tokens travel in a URL a browser can be sent to (the redirect
   * route): checks the redirect options before anything is issued. Absent: no redirect.
   * @throws {ValidationFailed} a refused option, or no URL configured
   */
  redirectCheck?: (integration: LoadedIntegration<S>, options: IssueOptions) => void
  /**
   * True when the type's token is for the platform's server only (`redirect-protocol`:
   * DiscourseConnect's sync payload, worthless to a member without the platform's nonce): the
   * browser token URL refuses it; the token API, inspect and the dry run still serve it.
   */
  serverOnly?: true
  /**
   * The dry-run inspector: what `issue` would make for the account, step by step, with no side
   * effect (no platform API is called, nothing is stored).
   * @throws {AccountIncomplete} as `issue`
   */
  dryRun: (
    account: Account,
    integration: LoadedIntegration<S>,
    deps: TokenDeps,
    options?: IssueOptions,
  ) => DryRun | Promise<DryRun>
}
