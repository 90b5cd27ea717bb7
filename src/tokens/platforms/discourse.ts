/**
 * @module tokens/platforms/discourse
 * Discourse with sso-bridge as its DiscourseConnect provider (meta.discourse.org/t/13045 "Setup
 * DiscourseConnect - Official Single-Sign-On for Discourse (sso)"; the wire format in
 * ../discourse/payload.ts, Discourse's own lib/discourse_connect_base.rb):
 *
 * 1. Discourse sends the member to `discourse_connect_url` (our `/discourse/<id>/sso`,
 *    tokens/routes/discourse.ts) with `sso` (Base64 of `nonce=…&return_sso_url=…`) and `sig`;
 * 2. we check `sig`, the nonce (once) and that `return_sso_url` is the forum's, sign the member
 *    in through the bridge session, and
 * 3. send the browser to `return_sso_url` with our own `sso`/`sig`: the nonce and the member's
 *    mapped fields — `external_id` and `email` (required by the document), `username`, `name`,
 *    `avatar_url`, `admin`/`moderator`, `groups`/`add_groups`/`remove_groups`, and
 *    `require_activation` when the email is not verified (the document's warning: "Discourse uses
 *    emails to map external users to Discourse users, and assumes that external emails are secure").
 *
 * Besides the redirect: with the forum's API key set, a changed account is pushed to Discourse at
 * once (`sync_sso`, meta.discourse.org/t/84398) and a member who signs out of sso-bridge is logged
 * out of Discourse (`POST /admin/users/{id}/log_out`, the document's "Logging out users").
 *
 * The token API's "token" for this type is the signed `sync_sso` payload of a member
 * (`sso=…&sig=…`, no nonce): what a site's server may POST to Discourse itself; inspect checks one.
 */
import { z } from 'zod'
import type { Account, JsonObject } from '../../accounts/types.ts'
import { ConfigInvalid, TokenInvalid } from '../../errors/index.ts'
import type { LoadedIntegration } from '../../integrations/registry.ts'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { httpUrl } from '../../integrations/schemas.ts'
import { tokenSheet } from '../connection.ts'
import { DISCOURSE_ROUTES } from '../discourse/paths.ts'
import { logOut, syncSso } from '../discourse/api.ts'
import { encodeConnect, verifyConnectRequest } from '../discourse/payload.ts'
import { isHttpUrl, requireEmail, requireText } from '../fields.ts'
import { apiKeySecret, browserSettings } from '../settings.ts'
import type { DryRun, Inspected, IssuedToken } from '../types.ts'

const settings = z.strictObject({
  /** The forum's base URL; `return_sso_url` must lie under it. */
  discourse_url: httpUrl.refine(
    (v) => !new URL(v).search && !new URL(v).hash,
    'must be the forum URL without query or fragment',
  ),
  /** Api-Username of the API key's calls (sync_sso, log_out). */
  api_username: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,60}$/, 'must be a Discourse username')
    .default('system'),
  /** With the API key: push each changed account to Discourse (sync_sso). */
  sync_profiles: z.boolean().default(true),
  /** With the API key: log a member out of Discourse when they sign out of sso-bridge. */
  log_out: z.boolean().default(true),
  ...browserSettings,
})
/** The `discourse` integration's settings, as parsed. */
export type DiscourseSettings = z.infer<typeof settings>

/** Discourse refuses a `discourse_connect_secret` shorter than this (its site setting's minimum). */
const MIN_SECRET_LENGTH = 10

/** The `discourse` integration type: settings, secrets, default payload, connection sheet, sync. */
export const discourseType: IntegrationTypeDefinition<DiscourseSettings> = {
  type: 'discourse',
  description: 'Discourse forum signing in through DiscourseConnect (sso-bridge as the provider)',
  guide: {
    title: 'Discourse — DiscourseConnect',
    platform: 'Discourse',
    fields: {
      discourse_url: {
        label: 'Forum URL',
        help: 'The address members use for the forum (Admin → Settings → Required → "site URL")',
      },
      connect_secret: {
        label: 'discourse connect secret',
        help: 'Admin → Settings → Login → "discourse connect secret": paste the same value in both places',
      },
      discourse_api_key: {
        label: 'API key',
        help: 'Admin → Advanced → API keys → New API key, user "system" (for sync_sso and log out)',
      },
      api_username: {
        label: 'Api-Username',
        help: 'The user the API key acts as (default system)',
      },
    },
  },
  settings,
  defaultMapping: {
    external_id: 'external_id',
    email: 'email',
    username: 'username',
    name: 'nickname',
    avatar_url: 'picture',
    admin: { path: 'rank', transforms: [{ map: { owner: true }, fallback: false }] },
    moderator: {
      path: 'rank',
      transforms: [{ map: { moderator: true, manager: true, owner: true }, fallback: false }],
    },
    add_groups: { path: 'profile.discourse_groups', transforms: ['join:,'] },
    // Discourse trusts the email it is given; an unverified one must be confirmed there first.
    require_activation: {
      path: 'email_verified',
      transforms: [{ map: { true: false }, fallback: true }],
      default: true,
    },
  },
  secrets: {
    connect_secret: {
      description:
        'discourse connect secret (Admin → Settings → Login), the same value on both sides',
      required: true,
      check: (v) =>
        v.length < MIN_SECRET_LENGTH
          ? `must be at least ${MIN_SECRET_LENGTH} characters (Discourse refuses shorter)`
          : v.trim() !== v
            ? 'must not start or end with whitespace (check the copy and paste)'
            : null,
    },
    discourse_api_key: {
      description:
        'optional Discourse API key (Admin → Advanced → API keys): pushes profile changes (sync_sso) and logs members out',
      required: false,
      check: (v) => (/^[\x21-\x7e]{16,256}$/.test(v) ? null : 'must be the key Discourse showed'),
    },
    api_key: apiKeySecret,
  },
  connection: (integration, issuer) => {
    const id = integration.record.id
    const sheet = tokenSheet(integration, issuer, {
      platform: 'Discourse (DiscourseConnect)',
      paste_into_platform: [
        { setting: 'Admin → Settings → Login → enable discourse connect', value: 'checked' },
        {
          setting: 'Admin → Settings → Login → discourse connect url',
          value: `${issuer}${DISCOURSE_ROUTES.sso(id)}`,
        },
        {
          setting: 'Admin → Settings → Login → discourse connect secret',
          value: "the integration's connect_secret (the same value on both sides)",
        },
      ],
      copy_from_platform: [
        {
          setting: 'Admin → Advanced → API keys → New API key (optional)',
          secret: 'discourse_api_key',
        },
      ],
      notes: [
        'Set "logout redirect" (Admin → Settings → Login) to the site\'s own sign-out page, which ends the bridge session with a logout ticket (docs/signing-out.md): otherwise the next "Log In" on the forum signs the member straight back in.',
        integration.secret('discourse_api_key') === undefined
          ? "Without discourse_api_key, profile changes reach Discourse at the member's next sign-in only, and signing out of sso-bridge does not log them out of the forum."
          : 'Profile changes are pushed with sync_sso; signing out of sso-bridge logs the member out of the forum.',
      ],
    })
    return { ...sheet, discourse_connect_url: `${issuer}${DISCOURSE_ROUTES.sso(id)}` }
  },
  onAccountChanged: async ({ integration, account }) => {
    const s = integration.settings
    const apiKey = integration.secret('discourse_api_key')
    if (!s.sync_profiles || apiKey === undefined || account.status !== 'active') return
    await syncSso(
      { baseUrl: s.discourse_url, apiKey, apiUsername: s.api_username, fetch: globalThis.fetch },
      encodeConnect(connectPayload(account, integration), connectSecret(integration)),
    )
  },
  onSignedOut: async ({ integration, externalId }) => {
    const s = integration.settings
    const apiKey = integration.secret('discourse_api_key')
    if (!s.log_out || apiKey === undefined) return
    await logOut(
      { baseUrl: s.discourse_url, apiKey, apiUsername: s.api_username, fetch: globalThis.fetch },
      externalId,
    )
  },
}

/**
 * The integration's connect secret.
 * @throws {ConfigInvalid} not set where the server runs
 */
export function connectSecret(integration: LoadedIntegration<DiscourseSettings>): string {
  const secret = integration.secret('connect_secret')
  if (secret === undefined)
    throw new ConfigInvalid([
      {
        path: `integrations.${integration.record.id}.secrets.connect_secret`,
        message: 'is not set where the server runs',
      },
    ])
  return secret
}

/**
 * The member's DiscourseConnect fields, from the mapping: `external_id` and `email` are required
 * (the document: "you must include email and external_id"), `avatar_url` only as an http(s) URL;
 * `nonce` and `return_sso_url` are the request's, never a mapping's.
 * @throws {AccountIncomplete} no external_id, or no valid email; nothing is sent
 */
export function connectPayload(
  account: Account,
  integration: LoadedIntegration<DiscourseSettings>,
): JsonObject {
  const doc = integration.mapping.apply(account)
  const id = integration.record.id
  delete doc.nonce
  delete doc.return_sso_url
  const out: JsonObject = {
    external_id: requireText(doc, 'external_id', id, 255),
    email: requireEmail(doc, 'email', id),
  }
  for (const [k, v] of Object.entries(doc)) if (!(k in out)) out[k] = v
  if (
    out.avatar_url !== undefined &&
    !(typeof out.avatar_url === 'string' && isHttpUrl(out.avatar_url))
  )
    delete out.avatar_url
  return out
}

/**
 * The signed `sync_sso` payload of the member: `sso=…&sig=…` (see the module doc).
 * @throws {AccountIncomplete}
 */
export function issue(
  account: Account,
  integration: LoadedIntegration<DiscourseSettings>,
): IssuedToken {
  const signed = encodeConnect(connectPayload(account, integration), connectSecret(integration))
  return {
    token: new URLSearchParams(signed).toString(),
    url: null,
    html: null,
    expires_at: null,
  }
}

/**
 * Checks a `sso=…&sig=…` pair (ours, or one Discourse sent) with the connect secret and shows its
 * fields.
 * @throws {TokenInvalid} not such a pair, or the signature does not match
 */
export function inspect(
  token: string,
  integration: LoadedIntegration<DiscourseSettings>,
): Inspected {
  const q = new URLSearchParams(token.trim())
  const r = verifyConnectRequest(q.get('sso'), q.get('sig'), connectSecret(integration))
  if (!r.ok) throw new TokenInvalid()
  return { payload: r.fields, expires_at: null, expired: false }
}

/**
 * The dry run: the member's payload, the exact Base64 text that is signed (`sso`), its hex
 * HMAC-SHA256 (`sig`), and what the forum receives. Nothing is sent to Discourse.
 * @throws {AccountIncomplete}
 */
export function dryRun(
  account: Account,
  integration: LoadedIntegration<DiscourseSettings>,
): DryRun {
  const payload = connectPayload(account, integration)
  const signed = encodeConnect(payload, connectSecret(integration))
  return {
    algorithm: 'HMAC-SHA-256 (hex) over the Base64 payload (DiscourseConnect)',
    payload,
    signed: signed.sso,
    signature: signed.sig,
    parts: { sso: signed.sso, sig: signed.sig },
    token: new URLSearchParams(signed).toString(),
    snippet: { url: null, html: null, script: null },
    expires_at: null,
    notes: [
      'At sign-in the same fields go to return_sso_url with the nonce Discourse sent added first; with discourse_api_key, this payload is what sync_sso receives.',
      'Dry run: nothing was sent to Discourse.',
    ],
  }
}
