/**
 * @module tokens/platforms/disqus
 * Disqus single sign-on (`remote_auth_s3`), as data (tokens/definition.ts).
 *
 * Contract (https://help.disqus.com/en/articles/1717160-integrating-single-sign-on, "Using
 * HMAC-SHA1 to pass user data", and Disqus's own samples,
 * https://github.com/disqus/DISQUS-API-Recipes/tree/master/sso): the user data `{id, username,
 * email, avatar?, url?}` as JSON, base64-encoded (the message); a UNIX timestamp; the signature
 * = hex HMAC-SHA1 of "<message> <timestamp>" under the API application's secret key;
 * `remote_auth_s3` = "<message> <signature> <timestamp>", set with the public key in
 * `disqus_config` before the embed:
 *
 *   var disqus_config = function () { this.page.remote_auth_s3 = "…"; this.page.api_key = "…"; };
 *
 * `id`, `username` and `email` are required; `avatar` and `url` are left out unless http(s) URLs.
 * The document gives the message no lifetime: sso-bridge reports none.
 */
import { z } from 'zod'
import type { JsonObject } from '../../accounts/types.ts'
import { hmacBuilder } from '../builders/hmac.ts'
import { definePlatform } from '../definition.ts'
import { scriptString } from '../html.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'

const settings = z.strictObject({
  /** The API application's public key (`this.page.api_key`). */
  public_key: z.string().regex(/^[A-Za-z0-9]{1,128}$/, 'must be the API application’s public key'),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** "<message> <signature> <timestamp>" back into its parts (inspect). */
function parse(token: string) {
  const parts = token.split(' ')
  if (parts.length !== 3) return null
  const [message, signature, ts] = parts as [string, string, string]
  if (!BASE64.test(message) || !/^\d{1,12}$/.test(ts)) return null
  const payload: unknown = JSON.parse(Buffer.from(message, 'base64').toString('utf8'))
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null
  return { message: `${message} ${ts}`, signature, payload: payload as JsonObject }
}

/**
 * Base64 of the UTF-8 bytes of `json`. Where every character is ASCII (its UTF-8 length is its
 * length), those bytes are its characters and `btoa` encodes them without making a Buffer first:
 * the same text, ~0.1 µs less per token on the common profile.
 */
const base64Utf8 = (json: string): string =>
  Buffer.byteLength(json, 'utf8') === json.length
    ? btoa(json)
    : Buffer.from(json, 'utf8').toString('base64')

/**
 * The `disqus_config` function the document places before the embed. `remote_auth_s3` is quoted
 * as it is: the builder below makes it of base64, a hex signature and digits joined by spaces,
 * none of which a script string escapes (html.ts), and it is the longest value on the path, so
 * it is not scanned again; the public key goes through `scriptString`.
 */
const config = (remoteAuth: string, publicKey: string) =>
  `var disqus_config = function () { this.page.remote_auth_s3 = "${remoteAuth}"; this.page.api_key = ${scriptString(publicKey)}; };`

/** The `disqus` integration type (`remote_auth_s3`, HMAC-SHA1). */
export const disqus = definePlatform<Settings>({
  type: 'disqus',
  description: 'Disqus SSO remote_auth_s3 (base64 JSON message, HMAC-SHA1)',
  docs: [
    'https://help.disqus.com/en/articles/1717160-integrating-single-sign-on',
    'https://github.com/disqus/DISQUS-API-Recipes/tree/master/sso',
  ],
  guide: {
    title: 'Disqus — single sign-on',
    platform: 'Disqus',
    fields: {
      public_key: {
        label: 'API Key (public)',
        help: 'disqus.com/api/applications → the application (SSO domain set) → Details → API Key',
      },
      secret_key: {
        label: 'API Secret',
        help: 'disqus.com/api/applications → the application → Details → API Secret',
      },
    },
  },
  settings,
  secrets: {
    secret_key: {
      description: "the API application's secret key (disqus.com/api/applications)",
      required: true,
      check: printable,
    },
    api_key: apiKeySecret,
  },
  defaultMapping: {
    id: 'external_id',
    username: 'username',
    email: 'email',
    avatar: 'picture',
  },
  fields: {
    id: { kind: 'id', required: true },
    username: { kind: 'text', required: true },
    email: { kind: 'email', required: true },
    avatar: { kind: 'url' },
    url: { kind: 'url' },
  },
  builder: hmacBuilder<Settings>({
    digest: 'sha1',
    encoding: 'hex',
    secret: 'secret_key',
    // The message is the base64 of the JSON; what is signed is "<message> <timestamp>".
    message: (p, now) => `${base64Utf8(JSON.stringify(p))} ${now}`,
    token: ({ message, signature, now }) =>
      `${message.slice(0, message.lastIndexOf(' '))} ${signature} ${now}`,
    parts: ({ now }) => ({ timestamp: String(now) }),
    parse,
  }),
  delivery: {
    kind: 'page-snippet',
    html: (b, s, script) => `<script>${script ?? config(b.token, s.public_key)}</script>`,
    script: (b, s) => config(b.token, s.public_key),
  },
  sheet: () => ({
    platform: 'Disqus (single sign-on)',
    paste_into_platform: [],
    copy_from_platform: [
      {
        setting: 'disqus.com/api/applications → the application → API Secret',
        secret: 'secret_key',
      },
    ],
    notes: [
      'The application needs the SSO domain set and the site domains listed (Disqus "Configure your application").',
      'Render the token\'s "html" (disqus_config with remote_auth_s3 and api_key) before the Disqus embed script.',
    ],
  }),
})
