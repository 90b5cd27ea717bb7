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
 * Declared as data (tokens/definition.ts): an HMAC-SHA256 (hex) over the Base64 payload, the
 * field rules below, the `redirect-protocol` delivery. The token API's "token" for this type is
 * the signed `sync_sso` payload of a member (`sso=…&sig=…`, no nonce): what a site's server may
 * POST to Discourse itself; inspect checks one, the dry run shows the text signed.
 */
import { z } from 'zod'
import type { Account, JsonObject } from '../../accounts/types.ts'
import { ConfigInvalid } from '../../errors/index.ts'
import type { LoadedIntegration } from '../../integrations/registry.ts'
import { httpUrl } from '../../integrations/schemas.ts'
import { hmacBuilder } from '../builders/hmac.ts'
import type { Builder } from '../builders/types.ts'
import { definePlatform } from '../definition.ts'
import { DISCOURSE_ROUTES } from '../discourse/paths.ts'
import { logOut, syncSso } from '../discourse/api.ts'
import { connectBase64, decodeConnect, encodeConnect } from '../discourse/payload.ts'
import { applyFieldRules, type FieldRules } from '../field-rules.ts'
import { apiKeySecret, browserSettings } from '../settings.ts'

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

/**
 * The payload's rules: `external_id` and `email` are required (the document: "you must include
 * email and external_id"; Discourse maps users by email), `avatar_url` only as an http(s) URL.
 */
export const DISCOURSE_FIELDS: FieldRules = {
  external_id: { kind: 'id', required: true, max: 255 },
  email: { kind: 'email', required: true },
  avatar_url: { kind: 'url' },
}

/** The request's own fields: never a mapping's. */
const OWNED = ['nonce', 'return_sso_url'] as const

/** HMAC-SHA256 (hex) of the Base64 payload; the token `sso=…&sig=…` (discourse_connect_base.rb `payload`). */
const builder: Builder<DiscourseSettings> = {
  ...hmacBuilder<DiscourseSettings>({
    digest: 'sha256',
    encoding: 'hex',
    secret: 'connect_secret',
    message: (payload) => connectBase64(payload),
    token: ({ message, signature }) =>
      new URLSearchParams({ sso: message, sig: signature }).toString(),
    parse: (token) => {
      const q = new URLSearchParams(token)
      const sso = q.get('sso')
      const sig = q.get('sig')
      const fields = sso ? decodeConnect(sso) : null
      return sso && sig && fields ? { message: sso, signature: sig, payload: fields } : null
    },
  }),
  owned: () => OWNED,
}

/** The `discourse` platform: settings, secrets, default payload, field rules, sheet, hooks. */
export const discourse = definePlatform<DiscourseSettings>({
  type: 'discourse',
  description: 'Discourse forum signing in through DiscourseConnect (sso-bridge as the provider)',
  docs: [
    'https://meta.discourse.org/t/setup-discourseconnect-official-single-sign-on-for-discourse-sso/13045',
    'https://meta.discourse.org/t/sync-discourseconnect-user-data-with-the-sync-sso-route/84398',
  ],
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
  fields: DISCOURSE_FIELDS,
  builder,
  delivery: { kind: 'redirect-protocol' },
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
  sheet: (integration, issuer) => {
    const id = integration.record.id
    return {
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
    }
  },
  hooks: {
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
  },
})

/** The `discourse` integration type (the registry's part of {@link discourse}). */
export const discourseType = discourse.definition

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
 * The member's DiscourseConnect fields: the mapping, without the request's own fields, under
 * {@link DISCOURSE_FIELDS} — exactly what the definition signs for the token API and the dry run.
 * @throws {AccountIncomplete} no external_id, or no valid email; nothing is sent
 */
export function connectPayload(
  account: Account,
  integration: LoadedIntegration<DiscourseSettings>,
): JsonObject {
  const doc = integration.mapping.apply(account)
  for (const f of OWNED) delete doc[f]
  return applyFieldRules(doc, DISCOURSE_FIELDS, integration.record.id)
}
