/**
 * @module tokens/service
 * The token door: issues a platform token for an account through its integration's type, and
 * inspects tokens. Used by the HTTP routes (server-to-server API, browser token URL, redirects)
 * and by the CLI alike.
 *
 * Issuing, in order: the integration (404 when unknown; 400 when its type issues no tokens), the
 * account (404), its status (a disabled account gets nothing), then the type's `issue`, which
 * maps the account and refuses a missing required field before anything is signed, encrypted or
 * sent to a platform.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto'
import type { AccountService } from '../accounts/service.ts'
import type { Account } from '../accounts/types.ts'
import {
  AccountDisabled,
  AccountNotFound,
  ConfigInvalid,
  ValidationFailed,
} from '../errors/index.ts'
import type { KeyMaterial } from '../keys/index.ts'
import type { SigningKey } from './builders/jwt.ts'
import type { IntegrationService, LoadedIntegration } from '../integrations/registry.ts'
import { isIntegrationOf } from '../integrations/types.ts'
import type { SecretBox } from '../secrets/index.ts'
import type { KvStore } from '../store/ports.ts'
import { createKeyCache } from './keys.ts'
import { createRandomPool } from './random.ts'
import { TOKEN_PLATFORMS } from './platforms/index.ts'
import type { Logger } from '../log/logger.ts'
import type { BrowserSettings } from './settings.ts'
import type {
  DryRun,
  Inspected,
  IssueOptions,
  IssuedToken,
  TokenDeps,
  TokenPlatform,
} from './types.ts'

/** What {@link createTokenService} needs; the last three are injectable for tests. */
export interface TokenServiceDeps {
  accounts: AccountService
  integrations: IntegrationService
  kv: KvStore
  /** Seals what a platform stores per member (Dead Simple Chat's access tokens). */
  secrets: SecretBox
  /** Epoch milliseconds; default `Date.now` (tests freeze it with `vi.setSystemTime`). */
  now?: () => number
  /** Default: node:crypto's CSPRNG through a pool (tokens/random.ts); tests pass a fixed IV for known answers. */
  randomBytes?: (size: number) => Buffer
  /** For Dead Simple Chat's API; default the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Operational notes; none by default. */
  log?: Pick<Logger, 'info'>
  /**
   * The bridge's signing keys (KEYS_DIR), read when an RS256 platform (Arena) first needs them;
   * absent: RS256 platforms answer ERR_CONFIG_INVALID.
   */
  keys?: () => Promise<KeyMaterial>
}

/** Which member a dry run is for: exactly one of these. */
export interface MemberRef {
  external_id?: unknown
  id?: unknown
  username?: unknown
}

/** What the dry run answers: the integration, its type, the member and the steps. */
export interface DryRunResult extends DryRun {
  integration: string
  type: string
  member: { id: string; external_id: string; username: string | null }
}

/**
 * The first RS256 key of the OIDC JWKS (the one oidc-provider signs ID tokens with and
 * `ISSUER/jwks` publishes), as key objects.
 * @throws {ConfigInvalid} the JWKS holds no RS256 key
 */
function rs256Key(keys: KeyMaterial): SigningKey {
  const jwk = keys.oidc.jwks.keys.find(
    (k) => k.alg === 'RS256' || (k.alg === undefined && k.kty === 'RSA'),
  )
  if (!jwk?.kid)
    throw new ConfigInvalid([
      { path: 'KEYS_DIR', message: 'the OIDC JWKS holds no RS256 key with a kid' },
    ])
  const privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })
  return { kid: jwk.kid, alg: 'RS256', privateKey, publicKey: createPublicKey(privateKey) }
}

/** An integration of a token type, with its type's door. */
export interface LoadedTokenIntegration {
  integration: LoadedIntegration<BrowserSettings>
  platform: TokenPlatform
}

/** What inspect answers: the integration, its type, and the token's content and expiry. */
export interface InspectResult extends Inspected {
  integration: string
  type: string
}

/**
 * The token door over the account and integration services and the KV store (Dead Simple Chat's
 * stored users). One instance holds one key cache: create it once per process.
 * @example const tokens = createTokenService({ accounts, integrations, kv: store, secrets: box })
 */
export function createTokenService({
  accounts,
  integrations,
  kv,
  secrets,
  now = Date.now,
  randomBytes = createRandomPool(),
  fetch = globalThis.fetch,
  log,
  keys,
}: TokenServiceDeps) {
  let signing: Promise<SigningKey> | undefined
  const deps: TokenDeps = {
    now,
    randomBytes,
    keys: createKeyCache(),
    kv,
    secrets,
    fetch,
    ...(log ? { log } : {}),
    ...(keys
      ? {
          signingKey: () =>
            (signing ??= keys()
              .then(rs256Key)
              .catch((err: unknown) => {
                signing = undefined
                throw err
              })),
        }
      : {}),
  }

  /**
   * The member a dry run names: by external_id, internal id or username (exactly one given).
   * @throws {ValidationFailed} none or more than one given, or not a non-empty string
   * @throws {AccountNotFound}
   */
  async function member(ref: MemberRef): Promise<Account> {
    const given = (['external_id', 'id', 'username'] as const).filter((k) => ref[k] !== undefined)
    const key = given[0]
    const value = key === undefined ? undefined : ref[key]
    if (given.length !== 1 || typeof value !== 'string' || value === '' || value.length > 1024)
      throw new ValidationFailed([
        {
          path: 'member',
          message: 'give exactly one of external_id, id or username (a non-empty string)',
        },
      ])
    if (key === 'external_id') return accounts.get(value)
    if (key === 'id') {
      const found = await accounts.getById(value)
      if (!found) throw new AccountNotFound(value)
      return found
    }
    const { accountId } = await accounts.resolveSignIn(value)
    const found = accountId === null ? null : await accounts.getById(accountId)
    if (!found) throw new AccountNotFound(value)
    return found
  }

  /**
   * @throws {IntegrationNotFound}
   * @throws {ValidationFailed} the integration's type issues no platform tokens (oidc, saml)
   */
  async function load(id: string): Promise<LoadedTokenIntegration> {
    const integration = await integrations.load(id)
    const platform = TOKEN_PLATFORMS[integration.record.type]
    if (!platform || !isIntegrationOf(integration, platform.definition)) {
      throw new ValidationFailed([
        {
          path: 'integration',
          message: `${id} is a ${integration.record.type} integration; tokens come from ${Object.keys(TOKEN_PLATFORMS).join(', ')} integrations`,
        },
      ])
    }
    return { integration, platform }
  }

  async function issueFor(
    account: Account,
    integration: LoadedIntegration<BrowserSettings>,
    platform: TokenPlatform,
    options?: IssueOptions,
  ): Promise<IssuedToken> {
    if (account.status !== 'active') throw new AccountDisabled()
    return platform.issue(account, integration, deps, options)
  }

  return {
    /** The loaded integration of a token type (the HTTP layer reads its settings for CORS). */
    load,

    /**
     * Issues integration `id`'s token for the account `externalId`.
     * @throws {ValidationFailed} externalId not a non-empty string, or not a token integration
     * @throws {IntegrationNotFound}
     * @throws {AccountNotFound}
     * @throws {AccountDisabled}
     * @throws {AccountIncomplete} naming the missing field and the integration; nothing issued
     * @throws {PlatformUnavailable} Dead Simple Chat's API failed
     * @example await tokens.issue('minnit', '42') // { token, url, html, expires_at }
     */
    async issue(id: string, externalId: unknown, options?: IssueOptions): Promise<IssuedToken> {
      if (typeof externalId !== 'string' || externalId === '') {
        throw new ValidationFailed([
          { path: 'external_id', message: 'is required (the account to issue a token for)' },
        ])
      }
      const { integration, platform } = await load(id)
      return issueFor(await accounts.get(externalId), integration, platform, options)
    },

    /**
     * Issues a token of an integration already loaded with {@link load} for an account already
     * in hand (the member of a bridge session).
     * @throws the same as {@link issue}, except AccountNotFound
     */
    async issueForAccount(
      loaded: LoadedTokenIntegration,
      account: Account,
      options?: IssueOptions,
    ): Promise<IssuedToken> {
      return issueFor(account, loaded.integration, loaded.platform, options)
    },

    /**
     * Checks that the type's token may be handed to a signed-in member by the browser token URL:
     * a server-only token (DiscourseConnect's sync payload) may not — the member signs in through
     * the platform's own redirect, and the payload is the forum server's business.
     * @throws {ValidationFailed} a server-only type
     */
    browserCheck(loaded: LoadedTokenIntegration): void {
      const { integration, platform } = loaded
      if (platform.serverOnly) {
        throw new ValidationFailed([
          {
            path: 'integration',
            message: `${integration.record.type} tokens are for the platform's server (the token API); members sign in through the platform's own redirect`,
          },
        ])
      }
    },

    /**
     * Checks redirect options before a browser is sent on with a token (MeltingSpot's
     * redirectUrl and referrerUrl; a URL to go to at all).
     * @throws {ValidationFailed}
     */
    redirectCheck(loaded: LoadedTokenIntegration, options: IssueOptions): void {
      const { integration, platform } = loaded
      if (!platform.redirectCheck) {
        throw new ValidationFailed([
          {
            path: 'integration',
            message: `${integration.record.type} tokens are not handed over in a URL: use the token URL instead`,
          },
        ])
      }
      platform.redirectCheck(integration, options)
    },

    /**
     * The dry-run inspector: for one member, the exact payload, the string signed or encrypted,
     * the signature or ciphertext and the snippet — what `issue` would hand out, with no side
     * effect (no platform API called, nothing stored, no event). The key is never in it.
     * @throws {ValidationFailed} no single member named, or not a token integration
     * @throws {IntegrationNotFound}
     * @throws {AccountNotFound}
     * @throws {AccountDisabled}
     * @throws {AccountIncomplete} naming the missing field; nothing issued
     * @example await tokens.dryRun('chatwoot', { username: 'rob' })
     */
    async dryRun(id: string, ref: MemberRef): Promise<DryRunResult> {
      const { integration, platform } = await load(id)
      const account = await member(ref)
      if (account.status !== 'active') throw new AccountDisabled()
      const out = await platform.dryRun(account, integration, deps)
      return {
        integration: id,
        type: integration.record.type,
        member: {
          id: account.id,
          external_id: account.external_id,
          username: account.username ?? null,
        },
        ...out,
      }
    },

    /**
     * Decrypts (zero-click) or verifies (JWT) a token with the integration's current secret and
     * shows its JSON and expiry; for Dead Simple Chat, which member a stored accessToken is.
     * @throws {ValidationFailed} token not a non-empty string (at most 16 KiB)
     * @throws {IntegrationNotFound}
     * @throws {TokenInvalid} any decoding, key or integrity failure (one opaque error)
     */
    async inspect(id: string, token: unknown): Promise<InspectResult> {
      if (typeof token !== 'string' || token.trim() === '' || token.length > 16_384) {
        throw new ValidationFailed([
          { path: 'token', message: 'is required (the token to inspect, at most 16 KiB)' },
        ])
      }
      const { integration, platform } = await load(id)
      const result = await platform.inspect(token, integration, deps)
      return { integration: id, type: integration.record.type, ...result }
    },
  }
}

/** The token door's service {@link createTokenService} builds: issue, inspect and the redirect check. */
export type TokenService = ReturnType<typeof createTokenService>
