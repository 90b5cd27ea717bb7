/**
 * @module tokens/platforms/boostgpt-jwt
 * BoostGPT's chat widget: an HS256 JWT `{email, name, external_id}` expiring within one hour
 * (../shared/platforms/boostgpt-widget-sso.txt).
 *
 * Claims: the mapped document (default `email` ← email, `name` ← nickname, `external_id` ←
 * external_id), then `iat` and `exp` = iat + `token_ttl` (≤ 3600 s, "should expire within 1
 * hour"). `email` is required and must be an address; `name` and `external_id` are left out when
 * the account has none. The output carries the doc's two widget snippets: the `data-user-token`
 * script tag (`html`) and the `BoostGPTWidget.init({botId, userToken})` call (`script`).
 */
import { z } from 'zod'
import type { Account } from '../../accounts/types.ts'
import type { LoadedIntegration } from '../../integrations/registry.ts'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { lifetime } from '../../integrations/schemas.ts'
import { tokenSheet } from '../connection.ts'
import { optionalText, requireEmail, secondsToIso } from '../fields.ts'
import { escapeHtml, scriptString } from '../html.ts'
import { inspectJwt } from '../inspect.ts'
import { signHs256 } from '../jwt.ts'
import { apiKeySecret, browserSettings } from '../settings.ts'
import type { Inspected, IssuedToken, TokenDeps } from '../types.ts'

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

/** The `boostgpt-jwt` integration type: settings, secrets, default claims, connection sheet. */
export const boostgptJwtType: IntegrationTypeDefinition<Settings> = {
  type: 'boostgpt-jwt',
  description: 'BoostGPT widget SSO token (HS256 JWT)',
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
  // JWT payload table of boostgpt-widget-sso.txt: email (required), name, external_id.
  defaultMapping: {
    email: 'email',
    name: 'nickname',
    external_id: 'external_id',
  },
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
  connection: (integration, issuer) =>
    tokenSheet(integration, issuer, {
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
}

/**
 * Issues a widget token for `account`.
 * @throws {AccountIncomplete} no email, or not an email address
 */
export function issue(
  account: Account,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
): IssuedToken {
  const key = deps.keys.require(integration, 'sso_secret')
  const s = integration.settings
  const claims = integration.mapping.apply(account)
  claims.email = requireEmail(claims, 'email', integration.record.id)
  if ('name' in claims && optionalText(claims, 'name') === undefined) delete claims.name
  if (
    'external_id' in claims &&
    typeof claims.external_id !== 'string' &&
    typeof claims.external_id !== 'number'
  )
    delete claims.external_id
  delete claims.iat
  delete claims.exp
  const iat = Math.floor(deps.now() / 1000)
  claims.iat = iat
  claims.exp = iat + s.token_ttl
  const token = signHs256(key, claims)
  return {
    token,
    url: null,
    html: `<script src="${WIDGET_SRC}" data-bot-id="${escapeHtml(s.bot_id)}" data-user-token="${escapeHtml(token)}"></script>`,
    script: `BoostGPTWidget.init({ botId: ${scriptString(s.bot_id)}, userToken: ${scriptString(token)} });`,
    expires_at: secondsToIso(claims.exp),
  }
}

/** @throws {TokenInvalid} */
export function inspect(
  token: string,
  integration: LoadedIntegration<Settings>,
  deps: TokenDeps,
): Inspected {
  return inspectJwt(token, integration, deps, 'sso_secret')
}
