/**
 * @module tokens/platforms/crisp
 * Crisp's user verification for the chatbox, as data (tokens/definition.ts).
 *
 * Contract (https://docs.crisp.chat/guides/chatbox-sdks/web-sdk/identity-verification/): the
 * site's backend signs the member's email with HMAC-SHA256 under the website's verification
 * secret key (hex), and the browser sets the email with its signature:
 * `$crisp.push(["set", "user:email", [email, signature]])`. The email is required (it is what
 * is signed) and must be an address; `user:nickname` is set beside it when the account has one.
 */
import { z } from 'zod'
import { hmacBuilder } from '../builders/hmac.ts'
import { definePlatform } from '../definition.ts'
import { scriptString } from '../html.ts'
import { apiKeySecret, browserSettings, printable } from '../settings.ts'

const settings = z.strictObject({ ...browserSettings })
type Settings = z.infer<typeof settings>

/** The `crisp` integration type (user verification: hex HMAC-SHA256 of the email). */
export const crisp = definePlatform<Settings>({
  type: 'crisp',
  description: 'Crisp chatbox user verification (email signature, HMAC-SHA256)',
  docs: ['https://docs.crisp.chat/guides/chatbox-sdks/web-sdk/identity-verification/'],
  guide: {
    title: 'Crisp — user verification',
    platform: 'Crisp',
    fields: {
      secret_key: {
        label: 'Identity verification secret key',
        help: 'Settings → Website settings → (the website) → Chatbox & Email settings → Identity verification → secret key',
      },
    },
  },
  settings,
  secrets: {
    secret_key: {
      description: "the website's identity verification secret key from Crisp's chatbox settings",
      required: true,
      check: printable,
    },
    api_key: apiKeySecret,
  },
  defaultMapping: { email: 'email', nickname: 'nickname' },
  fields: {
    email: { kind: 'email', required: true },
    nickname: { kind: 'text', max: 255, cut: true },
  },
  builder: hmacBuilder<Settings>({
    digest: 'sha256',
    encoding: 'hex',
    secret: 'secret_key',
    message: (p) => String(p.email),
  }),
  delivery: {
    kind: 'js-call',
    script: (b) => {
      const email = `$crisp.push(["set", "user:email", [${scriptString(String(b.payload.email))}, ${scriptString(b.token)}]]);`
      const { nickname } = b.payload
      return typeof nickname === 'string'
        ? `${email}\n$crisp.push(["set", "user:nickname", [${scriptString(nickname)}]]);`
        : email
    },
  },
  sheet: () => ({
    platform: 'Crisp (chatbox identity verification)',
    paste_into_platform: [],
    copy_from_platform: [
      {
        setting:
          'Settings → Website settings → Chatbox & Email settings → Identity verification → secret key',
        secret: 'secret_key',
      },
    ],
    notes: [
      'Run the token\'s "script" after the chatbox loads: $crisp.push(["set", "user:email", [email, signature]]).',
      'The "token" is the signature; a verified email shows with a check mark in the Crisp inbox.',
    ],
  }),
})
