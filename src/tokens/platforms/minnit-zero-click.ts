/**
 * @module tokens/platforms/minnit-zero-click
 * Minnit's zero-click SSO: an AES-256-GCM `ssotoken` in the embed URL
 * (../shared/platforms/minnit-sso.txt, "Setting up Zero-Click SSO manually").
 *
 * The token's JSON is the mapped document (default: `userid`, `username`, `nickname`, `rank`,
 * `profile_picture_url`) plus `max_valid_ts` = now + `token_ttl`:
 * - `userid` and `username` are required ("Yes" in Minnit's table): missing → AccountIncomplete;
 * - `rank` is kept only when it is one of Minnit's five ranks, `profile_picture_url` only when it
 *   is an http(s) URL, `nickname` only when it is text (Minnit then defaults it to the username);
 * - `max_valid_ts` is always set by the door, never by a mapping.
 * The embed URL is the chat URL with `embed` and `ssotoken=` added, the token percent-encoded:
 * the doc's PHP sample concatenates it raw, and a `+` of the base64 then arrives as a space.
 */
import { z } from 'zod'
import { RANKS, type Account, type JsonObject } from '../../accounts/types.ts'
import type { LoadedIntegration } from '../../integrations/registry.ts'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { httpUrl, lifetime } from '../../integrations/schemas.ts'
import { isHttpUrl, optionalText, requireText } from '../fields.ts'
import { escapeHtml } from '../html.ts'
import { tokenSheet } from '../connection.ts'
import { inspected } from '../inspect.ts'
import { apiKeySecret, browserSettings } from '../settings.ts'
import type { Inspected, IssuedToken, TokenDeps } from '../types.ts'
import {
  issueZeroClickToken,
  verifyZeroClickToken,
  ZERO_CLICK_IV_BYTES,
  zeroClickKey,
} from '../zero-click.ts'

/** Ceiling of `token_ttl`: a day. Minnit recommends an hour (the default). */
export const MAX_TTL_SECONDS = 86_400

const settings = z.strictObject({
  /** The chat's URL as Minnit shows it; the token and `embed` are added to it. */
  chat_url: httpUrl,
  /** Seconds a token stays valid (`max_valid_ts` = now + this). */
  token_ttl: lifetime(3600, MAX_TTL_SECONDS),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

const RANK_SET: ReadonlySet<string> = new Set(RANKS)

/** The `minnit-zero-click` integration type: settings, secrets, default token JSON, connection sheet. */
export const minnitZeroClickType: IntegrationTypeDefinition<Settings> = {
  type: 'minnit-zero-click',
  description: 'Minnit zero-click SSO token (AES-256-GCM) in the chat embed URL',
  guide: {
    title: 'Minnit — zero-click SSO',
    platform: 'Minnit',
    fields: {
      chat_url: {
        label: 'Chat URL',
        help: "the chat's address from Minnit's embed chat page, e.g. https://organizations.minnit.chat/…/c/Main",
      },
      token_ttl: {
        label: 'Token validity (max_valid_ts), seconds',
        help: 'Minnit recommends 1 hour',
      },
      encryption_key: {
        label: 'Encryption key',
        help: 'Organization Settings → SSO → a provider of type Zero-Click (Active) → encryption key',
      },
    },
    connection: {
      start:
        "In Minnit, Organization Settings → SSO: set a provider's type to Zero-Click, check Active and save; its encryption key goes into this integration's secrets.",
      labels: { browser_token_url: 'Browser token URL', token_api: 'Token API' },
    },
  },
  settings,
  // The zero-click JSON minus max_valid_ts, which the door sets (minnit-sso.txt, Zero-Click SSO).
  defaultMapping: {
    userid: 'external_id',
    username: 'username',
    nickname: 'nickname',
    rank: 'rank',
    profile_picture_url: 'picture',
  },
  secrets: {
    // The doc's PHP uses the key string as raw key bytes: AES-256 needs exactly 32 of them.
    encryption_key: {
      description: "organization's encryption key from Minnit's SSO settings",
      required: true,
      check: (v) => (Buffer.byteLength(v) !== 32 ? 'must be exactly 32 bytes (AES-256 key)' : null),
    },
    api_key: apiKeySecret,
  },
  connection: (integration, issuer) =>
    tokenSheet(integration, issuer, {
      platform: 'Minnit (zero-click SSO)',
      paste_into_platform: [],
      copy_from_platform: [
        {
          setting:
            'Organization Settings → SSO → a provider of type Zero-Click (Active) → encryption key',
          secret: 'encryption_key',
        },
      ],
      notes: [
        'Nothing is pasted into Minnit: the key travels the other way, from Minnit into sso-bridge.',
        `Embed the "html" (or point an iframe at the "url") of a token; tokens are valid ${integration.settings.token_ttl} s.`,
      ],
    }),
}

/** The embed URL: `chat_url` with `embed` (kept if present) and `ssotoken=<percent-encoded token>`. */
export function embedUrl(chatUrl: string, token: string): string {
  const hashAt = chatUrl.indexOf('#')
  const hash = hashAt < 0 ? '' : chatUrl.slice(hashAt)
  const beforeHash = hashAt < 0 ? chatUrl : chatUrl.slice(0, hashAt)
  const q = beforeHash.indexOf('?')
  const path = q < 0 ? beforeHash : beforeHash.slice(0, q)
  const name = (p: string) => p.split('=', 1)[0]!
  const params = (q < 0 ? [] : beforeHash.slice(q + 1).split('&')).filter(
    (p) => p !== '' && name(p) !== 'ssotoken',
  )
  if (!params.some((p) => name(p) === 'embed')) params.push('embed')
  params.push(`ssotoken=${encodeURIComponent(token)}`)
  return `${path}?${params.join('&')}${hash}`
}

/** The doc's embed code around a URL. */
export const embedHtml = (url: string): string =>
  `<iframe src="${escapeHtml(url)}" style="border:none;width:90%;height:500px;" allowTransparency="true"></iframe>`

/** The zero-click JSON for an account (see the module doc), or AccountIncomplete. */
export function zeroClickPayload(
  doc: JsonObject,
  integration: LoadedIntegration<Settings>,
  nowSeconds: number,
): JsonObject {
  const id = integration.record.id
  const s = integration.settings
  const userid = doc.userid
  // "Doesn't have to be a number": a string or a number, as mapped.
  if (typeof userid !== 'number') doc.userid = requireText(doc, 'userid', id)
  doc.username = requireText(doc, 'username', id)
  if ('nickname' in doc && optionalText(doc, 'nickname') === undefined) delete doc.nickname
  if ('rank' in doc && !(typeof doc.rank === 'string' && RANK_SET.has(doc.rank))) delete doc.rank
  if (
    'profile_picture_url' in doc &&
    !(typeof doc.profile_picture_url === 'string' && isHttpUrl(doc.profile_picture_url))
  )
    delete doc.profile_picture_url
  doc.max_valid_ts = nowSeconds + s.token_ttl
  return doc
}

/**
 * Issues a zero-click token for `account`.
 * @throws {AccountIncomplete} no userid or username
 */
export function issue(
  account: Account,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
): IssuedToken {
  const key = deps.keys.require(integration, 'encryption_key', zeroClickKey)
  const payload = zeroClickPayload(
    integration.mapping.apply(account),
    integration,
    Math.floor(deps.now() / 1000),
  )
  const token = issueZeroClickToken(
    key,
    JSON.stringify(payload),
    deps.randomBytes(ZERO_CLICK_IV_BYTES),
  )
  const url = embedUrl(integration.settings.chat_url, token)
  return {
    token,
    url,
    html: embedHtml(url),
    expires_at: new Date((payload.max_valid_ts as number) * 1000).toISOString(),
  }
}

/**
 * Decrypts a zero-click token with the integration's key (Minnit's "enter an encrypted ssotoken
 * and retrieve the decrypted output").
 * @throws {TokenInvalid}
 * @throws {ConfigInvalid} the key is not set where the server runs
 */
export function inspect(
  token: string,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
): Inspected {
  const payload = verifyZeroClickToken(
    deps.keys.require(integration, 'encryption_key', zeroClickKey),
    token,
  ) as JsonObject
  return inspected(payload, payload.max_valid_ts, deps.now())
}
