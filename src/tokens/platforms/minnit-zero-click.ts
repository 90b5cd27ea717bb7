/**
 * @module tokens/platforms/minnit-zero-click
 * Minnit's zero-click SSO, as data (tokens/definition.ts): an AES-256-GCM `ssotoken` in the
 * embed URL (../shared/platforms/minnit-sso.txt, "Setting up Zero-Click SSO manually").
 *
 * The token's JSON is the mapped document (default: `userid`, `username`, `nickname`, `rank`,
 * `profile_picture_url`) plus `max_valid_ts` = now + `token_ttl`:
 * - `userid` and `username` are required ("Yes" in Minnit's table): missing → AccountIncomplete;
 *   `userid` "doesn't have to be a number": a string or a number, as mapped;
 * - `rank` is kept only when it is one of Minnit's five ranks, `profile_picture_url` only when it
 *   is an http(s) URL, `nickname` only when it is text (Minnit then defaults it to the username);
 * - `max_valid_ts` is always set by the door, never by a mapping.
 * The embed URL is the chat URL with `embed` and `ssotoken=` added, the token percent-encoded:
 * the doc's PHP sample concatenates it raw, and a `+` of the base64 then arrives as a space.
 */
import { z } from 'zod'
import { RANKS } from '../../accounts/types.ts'
import { httpUrl, lifetime } from '../../integrations/schemas.ts'
import { aesGcmBuilder } from '../builders/aes-gcm.ts'
import { definePlatform } from '../definition.ts'
import { escapeHtml } from '../html.ts'
import { apiKeySecret, browserSettings } from '../settings.ts'

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

/** The `minnit-zero-click` integration type (zero-click `ssotoken`, AES-256-GCM). */
export const minnitZeroClick = definePlatform<Settings>({
  type: 'minnit-zero-click',
  description: 'Minnit zero-click SSO token (AES-256-GCM) in the chat embed URL',
  docs: ['../shared/platforms/minnit-sso.txt'],
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
  secrets: {
    // The doc's PHP uses the key string as raw key bytes: AES-256 needs exactly 32 of them.
    encryption_key: {
      description: "organization's encryption key from Minnit's SSO settings",
      required: true,
      check: (v) => (Buffer.byteLength(v) !== 32 ? 'must be exactly 32 bytes (AES-256 key)' : null),
    },
    api_key: apiKeySecret,
  },
  // The zero-click JSON minus max_valid_ts, which the door sets (minnit-sso.txt, Zero-Click SSO).
  defaultMapping: {
    userid: 'external_id',
    username: 'username',
    nickname: 'nickname',
    rank: 'rank',
    profile_picture_url: 'picture',
  },
  // Minnit's table: userid and username "Yes", the rest optional.
  fields: {
    userid: { kind: 'id', required: true, keepNumber: true },
    username: { kind: 'text', required: true },
    nickname: { kind: 'text' },
    rank: { kind: 'enum', values: RANKS },
    profile_picture_url: { kind: 'url' },
  },
  builder: aesGcmBuilder<Settings>({
    secret: 'encryption_key',
    expiryClaim: 'max_valid_ts',
    ttl: (s) => s.token_ttl,
  }),
  delivery: {
    kind: 'url-parameter',
    url: (b, s) => embedUrl(s.chat_url, b.token),
    html: (b, s, _script, url) => embedHtml(url ?? embedUrl(s.chat_url, b.token)),
    redirect: true,
  },
  sheet: (integration) => ({
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
})

/** The `minnit-zero-click` integration type: settings, secrets, default token JSON, connection sheet. */
export const minnitZeroClickType = minnitZeroClick.definition
