/**
 * @module tokens/definition
 * A platform as data (issue #15): what it calls its secrets and settings, its default mapping,
 * its field rules, its builder (a JWT with its algorithm and header, an HMAC over a chosen
 * message with a chosen digest and encoding, AES-GCM as Minnit's) and its delivery (a URL
 * parameter, a page snippet, a JavaScript call). {@link definePlatform} turns one into the token
 * door's {@link TokenPlatform}: the registry definition, `issue`, `inspect`, the dry run and
 * the redirect check — so adding a platform is a file of data in platforms/ and a known-answer
 * test, not a new module of code. A platform that makes its token itself over its REST API
 * (Dead Simple Chat, CometChat) is {@link defineCreateUserPlatform} with a create-user builder
 * (builders/create-user.ts) instead.
 *
 * Issuing, in order: the delivery's check of the request's options (a return URL that is not
 * the platform's own is refused first); the mapping over the account; the builder's own claims
 * removed (a mapping cannot set `iat`, `exp` or a fixed claim); the field rules (a missing
 * required field is AccountIncomplete, nothing is signed); the builder; the delivery.
 *
 * @example
 * export const streamChat = definePlatform({
 *   type: 'stream-chat', description: '…', docs: ['https://getstream.io/…'], guide: { … },
 *   settings, secrets: { api_secret: { … } }, defaultMapping: { user_id: 'external_id' },
 *   fields: { user_id: { kind: 'id', required: true } },
 *   builder: jwtBuilder({ alg: 'HS256', secret: 'api_secret' }),
 *   delivery: { kind: 'js-call', script: (b) => `client.connectUser(…, ${scriptString(b.token)})` },
 *   sheet: () => ({ platform: 'Stream Chat', paste_into_platform: [], copy_from_platform: [] }),
 * })
 */
import type { z } from 'zod'
import type { Account } from '../accounts/types.ts'
import { ValidationFailed } from '../errors/index.ts'
import type {
  IntegrationTypeDefinition,
  LoadedIntegration,
  SecretSpec,
  TypeGuide,
} from '../integrations/types.ts'
import type { CreateUserBuilder } from './builders/create-user.ts'
import type { Builder, Built } from './builders/types.ts'
import { tokenSheet } from './connection.ts'
import { applyFieldRules, type FieldRules } from './field-rules.ts'
import { secondsToIso } from './fields.ts'
import { inspected } from './inspect.ts'
import type { BrowserSettings } from './settings.ts'
import type { DryRun, IssueOptions, IssuedToken, TokenDeps, TokenPlatform } from './types.ts'

/** How the token reaches the platform. Each part that applies is filled in the issued token. */
export interface Delivery<S extends object> {
  /**
   * For the catalogue: `url-parameter` (the member is sent to a URL carrying it), `page-snippet`
   * (HTML rendered into the site's page), `js-call` (a call in the site's script),
   * `redirect-protocol` (the platform sends the member here and takes them back by its own
   * protocol, in its own route: DiscourseConnect; the token API's token is for its server),
   * `token-endpoint` (the platform's widget fetches it from the browser token URL itself).
   */
  kind: 'url-parameter' | 'page-snippet' | 'js-call' | 'redirect-protocol' | 'token-endpoint'
  /**
   * The URL carrying the token; null when the settings give none. `options` are the request's
   * (MeltingSpot's `redirectUrl` and `referrerUrl`), already accepted by {@link Delivery.check}.
   */
  url?: (built: Built, settings: S, options: IssueOptions) => string | null
  /**
   * Ready-to-paste HTML (attribute values escaped: tokens/html.ts); `script` is the script part's
   * output and `url` the URL's, if any (an iframe around the URL needs not build it again).
   */
  html?: (built: Built, settings: S, script: string | null, url: string | null) => string
  /** A JavaScript statement (strings through `scriptString`, safe inside `<script>`). */
  script?: (built: Built, settings: S) => string
  /** The browser may be sent to `url` by `GET /tokens/{id}/redirect`. */
  redirect?: boolean
  /**
   * Checks the request's options before anything is mapped or signed (and before a redirect):
   * a platform that takes a return URL from the request accepts only its own.
   * @throws {ValidationFailed}
   */
  check?: (settings: S, options: IssueOptions) => void
  /** Where and how a redirect with no URL to go to is refused; default at `settings`. */
  noUrl?: (integrationId: string) => { path: string; message: string }
}

/** The type's part of its connection sheet (connection/sheet.ts); the shared parts are added. */
export interface SheetParts {
  platform: string
  paste_into_platform: { setting: string; value: string }[]
  copy_from_platform: { setting: string; secret: string }[]
  notes?: string[]
  /** The platform verifies with the bridge's public key: the sheet adds the JWKS URL and the PEM. */
  verifyWithJwks?: boolean
}

/** A platform as data. `S` is its settings (every token type's include {@link BrowserSettings}). */
export interface PlatformDefinition<S extends BrowserSettings> {
  /** The integration type name (`chatwoot`, `zendesk-messaging`). */
  type: string
  /** One line for listings and the home page. */
  description: string
  /** The platform's own documents the contract was taken from (cited in the file and its test). */
  docs: readonly string[]
  /** The console catalogue's entry: the platform's own words for each field. */
  guide: TypeGuide
  settings: z.ZodType<S>
  secrets: Record<string, SecretSpec<S>>
  /** The document the platform documents, built from an account (mapping/rules.ts). */
  defaultMapping: Record<string, unknown>
  /** Required fields and limits, checked before anything is signed. */
  fields: FieldRules
  builder: Builder<S>
  delivery: Delivery<S>
  sheet: (integration: LoadedIntegration<S>, issuer: string) => SheetParts
  /**
   * What the registry definition declares besides: a platform that keeps its own copy of the
   * member is told of changes and sign-outs (Discourse's sync_sso and log_out), one that stores
   * per member forgets and reseals it.
   */
  hooks?: Pick<
    IntegrationTypeDefinition<S>,
    'onAccountChanged' | 'onSignedOut' | 'onAccountRemoved' | 'resealStored'
  >
}

/**
 * A platform that makes its token itself over its REST API, kept per member by sso-bridge (Dead
 * Simple Chat, CometChat): a {@link PlatformDefinition} whose builder is a create-user builder
 * (builders/create-user.ts). Its request shape checks the fields and its delivery wraps the
 * token, so it has no field rules or delivery of its own here; the builder brings the hooks.
 */
export interface CreateUserPlatformDefinition<S extends BrowserSettings> extends Omit<
  PlatformDefinition<S>,
  'fields' | 'builder' | 'delivery' | 'hooks'
> {
  builder: CreateUserBuilder<S>
  /** The browser may be sent to the issued token's `url` by `GET /tokens/{id}/redirect`. */
  redirect?: boolean
}

/** The registry definition of a platform definition: its data, its sheet, its hooks. */
function typeDefinition<S extends BrowserSettings>(
  def: Pick<
    PlatformDefinition<S>,
    'type' | 'description' | 'guide' | 'settings' | 'secrets' | 'defaultMapping' | 'sheet'
  >,
  hooks: PlatformDefinition<S>['hooks'],
): IntegrationTypeDefinition<S> {
  return {
    type: def.type,
    description: def.description,
    guide: def.guide,
    settings: def.settings,
    secrets: def.secrets,
    defaultMapping: def.defaultMapping,
    connection: (integration, issuer) =>
      tokenSheet(integration, issuer, def.sheet(integration, issuer)),
    ...hooks,
  }
}

/** A request without options (most): one object, not one per token. */
const NO_OPTIONS: IssueOptions = Object.freeze({})

/** What a definition produced for one account: the builder's steps and the issued token. */
interface Produced {
  built: Built
  issued: IssuedToken
}

/**
 * The token door's platform of a definition: its registry definition (settings, secrets,
 * default mapping, guide, connection sheet), `issue`, `inspect`, `dryRun`, `redirectCheck`
 * when its delivery redirects, and `serverOnly` for a `redirect-protocol` delivery.
 */
export function definePlatform<S extends BrowserSettings>(
  def: PlatformDefinition<S>,
): TokenPlatform<S> & {
  definition: IntegrationTypeDefinition<S>
  platform: PlatformDefinition<S>
} {
  const definition = typeDefinition(def, def.hooks)

  // The builder's own claims for a settings version (a settings object is replaced on change).
  const owned = new WeakMap<S, readonly string[]>()
  const ownedOf = (settings: S): readonly string[] => {
    let list = owned.get(settings)
    if (!list) owned.set(settings, (list = def.builder.owned(settings)))
    return list
  }

  function deliver(built: Built, settings: S, options: IssueOptions): IssuedToken {
    const d = def.delivery
    const script = d.script ? d.script(built, settings) : null
    const token = built.token
    const url = d.url?.(built, settings, options) ?? null
    const html = d.html?.(built, settings, script, url) ?? null
    const expires_at = built.expiresAt === null ? null : secondsToIso(built.expiresAt)
    // Keys in the order the token API has always answered (BoostGPT): the script before the expiry.
    return script === null
      ? { token, url, html, expires_at }
      : { token, url, html, script, expires_at }
  }

  /** The mapping, the builder's own claims removed, the field rules, the builder. */
  function build(
    account: Account,
    integration: LoadedIntegration<S>,
    deps: TokenDeps,
    options: IssueOptions,
  ): Built | Promise<Built> {
    def.delivery.check?.(integration.settings, options)
    const doc = integration.mapping.apply(account)
    const claims = ownedOf(integration.settings)
    for (let i = 0; i < claims.length; i++) delete doc[claims[i]!]
    applyFieldRules(doc, def.fields, integration.record.id)
    return def.builder.build(doc, { integration, deps, nowSeconds: Math.floor(deps.now() / 1000) })
  }

  /** The dry run's view: the builder's steps beside the issued token. */
  async function produce(
    account: Account,
    integration: LoadedIntegration<S>,
    deps: TokenDeps,
    options: IssueOptions = NO_OPTIONS,
  ): Promise<Produced> {
    const built = await build(account, integration, deps, options)
    return { built, issued: deliver(built, integration.settings, options) }
  }

  const redirectCheck = def.delivery.redirect
    ? (integration: LoadedIntegration<S>, options: IssueOptions) => {
        def.delivery.check?.(integration.settings, options)
        // The URL is made from the settings alone; a token needs none to know there is one.
        const probe: Built = {
          token: '',
          payload: {},
          signed: '',
          signature: '',
          algorithm: '',
          expiresAt: null,
          parts: {},
        }
        if (!def.delivery.url?.(probe, integration.settings, options))
          throw new ValidationFailed([
            def.delivery.noUrl?.(integration.record.id) ?? {
              path: 'settings',
              message: `${integration.record.id} has no URL to redirect to`,
            },
          ])
      }
    : undefined

  return {
    definition,
    platform: def,
    issue(account, integration, deps, options: IssueOptions = NO_OPTIONS) {
      const built = build(account, integration, deps, options)
      // HMAC and HS256 stay synchronous: no promise (and no dry-run wrapper) on the hot path.
      return built instanceof Promise
        ? built.then((b) => deliver(b, integration.settings, options))
        : deliver(built, integration.settings, options)
    },
    async inspect(token, integration, deps) {
      const ctx = { integration, deps, nowSeconds: Math.floor(deps.now() / 1000) }
      const { payload, expiry } = await def.builder.verify(token, ctx)
      return inspected(payload, expiry, deps.now())
    },
    async dryRun(account, integration, deps, options?: IssueOptions): Promise<DryRun> {
      const { built, issued } = await produce(account, integration, deps, options)
      return {
        algorithm: built.algorithm,
        ...(built.header ? { header: built.header } : {}),
        payload: built.payload,
        signed: built.signed,
        signature: built.signature,
        parts: built.parts,
        token: built.token,
        snippet: { url: issued.url, html: issued.html, script: issued.script ?? null },
        expires_at: issued.expires_at,
        notes: [],
      }
    },
    ...(redirectCheck ? { redirectCheck } : {}),
    // The platform signs the member in by its own redirect (its own route); a member handed the
    // token could do nothing with it.
    ...(def.delivery.kind === 'redirect-protocol' ? { serverOnly: true as const } : {}),
  }
}

/**
 * The token door's platform of a create-user definition: its registry definition (with the
 * builder's hooks: the stored token forgotten with its account, resealed by `secrets rekey`),
 * and the builder's `issue`, `inspect` and `dryRun`.
 */
export function defineCreateUserPlatform<S extends BrowserSettings>(
  def: CreateUserPlatformDefinition<S>,
): TokenPlatform<S> & {
  definition: IntegrationTypeDefinition<S>
  platform: CreateUserPlatformDefinition<S>
} {
  const b = def.builder
  return {
    definition: typeDefinition(def, b.hooks),
    platform: def,
    issue: (account, integration, deps, options) => b.issue(account, integration, deps, options),
    inspect: (token, integration, deps) => b.inspect(token, integration, deps),
    dryRun: (account, integration) => b.dryRun(account, integration),
    // The URL is made from the settings alone: there is always one to redirect to.
    ...(def.redirect ? { redirectCheck: () => {} } : {}),
  }
}
