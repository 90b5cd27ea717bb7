/**
 * @module tokens/platforms/chatwoot
 * Chatwoot's identity validation for the website live-chat widget, as data
 * (tokens/definition.ts).
 *
 * Contract (https://www.chatwoot.com/docs/product/channels/live-chat/sdk/identity-validation/,
 * and the widget SDK's `setUser`, https://www.chatwoot.com/docs/product/channels/live-chat/sdk/setup):
 * `identifier_hash` = hex HMAC-SHA256 of the user's `identifier` under the inbox's HMAC token
 * ("Inboxes → Settings → Configuration → Identity Validation"), passed with the identifier to
 * `window.$chatwoot.setUser(identifier, { name, email, avatar_url, identifier_hash })`.
 *
 * `identifier` is required (it is what is signed); `name`, `email` and `avatar_url` are left out
 * when the account has none usable.
 */
import { z } from 'zod'
import type { JsonObject } from '../../accounts/types.ts'
import { hmacBuilder } from '../builders/hmac.ts'
import { definePlatform } from '../definition.ts'
import { scriptString } from '../html.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'

const settings = z.strictObject({ ...browserSettings })
type Settings = z.infer<typeof settings>

/**
 * The `setUser` call of the widget SDK, every value a safe script string: the identifier, then
 * the payload's other text members in order with `identifier_hash` set to the signature (in its
 * place if the mapping wrote one, else last). One pass over the payload, no copies of it.
 */
function setUser(payload: JsonObject, hash: string): string {
  let fields = ''
  let hashed = false
  for (const k in payload) {
    if (k === 'identifier') continue
    let v = payload[k]
    if (k === 'identifier_hash') {
      v = hash
      hashed = true
    }
    if (typeof v === 'string') fields += `${fields ? ', ' : ''}${k}: ${scriptString(v)}`
  }
  if (!hashed) fields += `${fields ? ', ' : ''}identifier_hash: ${scriptString(hash)}`
  return `window.$chatwoot.setUser(${scriptString(String(payload.identifier))}, { ${fields} });`
}

/** The `chatwoot` integration type (identity validation: hex HMAC-SHA256 of the identifier). */
export const chatwoot = definePlatform<Settings>({
  type: 'chatwoot',
  description: 'Chatwoot widget identity validation (identifier_hash, HMAC-SHA256)',
  docs: ['https://www.chatwoot.com/docs/product/channels/live-chat/sdk/identity-validation/'],
  guide: {
    title: 'Chatwoot — identity validation',
    platform: 'Chatwoot',
    fields: {
      hmac_token: {
        label: 'HMAC token',
        help: 'Inboxes → (the website inbox) → Settings → Configuration → Identity Validation → copy the token',
      },
    },
  },
  settings,
  secrets: {
    hmac_token: {
      description:
        "the website inbox's HMAC token (Settings → Configuration → Identity Validation)",
      required: true,
      check: printable,
    },
    api_key: apiKeySecret,
  },
  defaultMapping: {
    identifier: 'external_id',
    name: 'nickname',
    email: 'email',
    avatar_url: 'picture',
  },
  fields: {
    identifier: { kind: 'id', required: true, max: 255 },
    name: { kind: 'text', max: 255, cut: true },
    email: { kind: 'email' },
    avatar_url: { kind: 'url', max: 2048 },
  },
  builder: hmacBuilder<Settings>({
    digest: 'sha256',
    encoding: 'hex',
    secret: 'hmac_token',
    message: (p) => String(p.identifier),
  }),
  delivery: {
    kind: 'js-call',
    script: (b) => setUser(b.payload, b.token),
  },
  sheet: () => ({
    platform: 'Chatwoot (website inbox, identity validation)',
    paste_into_platform: [],
    copy_from_platform: [
      {
        setting: 'Inboxes → the website inbox → Settings → Configuration → Identity Validation',
        secret: 'hmac_token',
      },
    ],
    notes: [
      'After the widget script has loaded (chatwoot:ready), run the token\'s "script": window.$chatwoot.setUser(identifier, {…, identifier_hash}).',
      'The "token" is the identifier_hash; fetch it from the browser token URL (credentials: \'include\') for the signed-in member.',
      'Turn on "Enforce User Identity Validation" in the inbox once this works.',
    ],
  }),
})
