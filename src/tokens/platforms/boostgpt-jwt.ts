/**
 * @module tokens/platforms/boostgpt-jwt
 * BoostGPT's chat widget, as data (tokens/definition.ts): an HS256 JWT `{email, name,
 * external_id}` expiring within one hour (../shared/platforms/boostgpt-widget-sso.txt).
 *
 * Claims: the mapped document (default `email` ← email, `name` ← nickname, `external_id` ←
 * external_id), then `iat` and `exp` = iat + `token_ttl` (≤ 3600 s, "should expire within 1
 * hour"). `email` is required and must be an address; `name` and `external_id` are left out when
 * the account has none. The output carries the doc's two widget snippets: the `data-user-token`
 * script tag (`html`) and the `BoostGPTWidget.init({botId, userToken})` call (`script`).
 */
import { z } from 'zod'
import { lifetime } from '../../integrations/schemas.ts'
import { jwtBuilder } from '../builders/jwt.ts'
import { definePlatform } from '../definition.ts'
import { escapeHtml, scriptString } from '../html.ts'
import { apiKeySecret, browserSettings } from '../settings.ts'

/** The widget script the doc loads. */
export const WIDGET_SRC = 'https://embed.boostgpt.co/widget.js'

const settings = z.strictObject({
  /** The agent's bot UUID (`botId` / `data-bot-id`). */
  bot_id: z.string().min(1).max(255),
  /** The doc: "should expire within 1 hour". */
  token_ttl: lifetime(3600, 3600),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

/** The `boostgpt-jwt` integration type (widget SSO token, HS256 JWT). */
export const boostgptJwt = definePlatform<Settings>({
  type: 'boostgpt-jwt',
  description: 'BoostGPT widget SSO token (HS256 JWT)',
  docs: ['../shared/platforms/boostgpt-widget-sso.txt'],
  guide: {
    title: 'BoostGPT — chat widget',
    platform: 'BoostGPT',
    fields: {
      bot_id: {
        label: 'Bot ID',
        help: "the agent's bot UUID (botId / data-bot-id in the widget code)",
      },
      token_ttl: { label: 'Token lifetime, seconds', help: 'BoostGPT: at most 1 hour' },
      sso_secret: {
        label: 'SSO Secret',
        help: "agent's Deploy page → Chat Widget → SSO Secret → Generate (shown once)",
      },
    },
    connection: {
      start:
        "In BoostGPT, open the agent's Deploy page → Chat Widget → SSO Secret and generate one; it goes into this integration's secrets.",
      labels: { browser_token_url: 'Browser token URL', token_api: 'Token API' },
    },
  },
  settings,
  secrets: {
    // BoostGPT generates it: "your-64-char-hex-secret".
    sso_secret: {
      description: "agent's SSO secret from BoostGPT's Deploy page",
      required: true,
      check: (v) =>
        /^[0-9a-fA-F]{64}$/.test(v)
          ? null
          : 'must be the 64 hexadecimal characters BoostGPT generates',
    },
    api_key: apiKeySecret,
  },
  // JWT payload table of boostgpt-widget-sso.txt: email (required), name, external_id.
  defaultMapping: {
    email: 'email',
    name: 'nickname',
    external_id: 'external_id',
  },
  fields: {
    email: { kind: 'email', required: true },
    name: { kind: 'text' },
    // The doc's sample passes `user.id` as it is: a string or a number.
    external_id: { kind: 'id', keepNumber: true },
  },
  builder: jwtBuilder<Settings>({ alg: 'HS256', secret: 'sso_secret', ttl: (s) => s.token_ttl }),
  delivery: {
    kind: 'page-snippet',
    html: (b, s) =>
      `<script src="${WIDGET_SRC}" data-bot-id="${escapeHtml(s.bot_id)}" data-user-token="${escapeHtml(b.token)}"></script>`,
    script: (b, s) =>
      `BoostGPTWidget.init({ botId: ${scriptString(s.bot_id)}, userToken: ${scriptString(b.token)} });`,
  },
  sheet: () => ({
    platform: 'BoostGPT chat widget',
    paste_into_platform: [],
    copy_from_platform: [
      {
        setting: "agent's Deploy page → Chat Widget → SSO Secret → Generate (shown once)",
        secret: 'sso_secret',
      },
    ],
    notes: [
      'Nothing is pasted into BoostGPT; the secret never reaches the browser.',
      `On the site: load ${WIDGET_SRC}, fetch the browser token URL (credentials: 'include') and call BoostGPTWidget.init({botId, userToken: data.token}) — the "script" of a token — or render its "html" server-side.`,
      'Regenerating the SSO secret in BoostGPT invalidates every token: save the new one here at the same time.',
    ],
  }),
})

/** The `boostgpt-jwt` integration type: settings, secrets, default claims, connection sheet. */
export const boostgptJwtType = boostgptJwt.definition
