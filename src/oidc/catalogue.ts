/**
 * @module oidc/catalogue
 * How the console's catalogue presents the `oidc` type (issue #14): as a generic OpenID Connect
 * client, and preset for Minnit's OAuth2 form (../shared/platforms/minnit-sso.txt, "Setting up
 * OAuth2 or SAML2 manually": Authorize, AccessToken and GetUserInfo URLs, nested key targeting).
 */
import { urlHostMatches } from '../integrations/catalogue.ts'
import type { TypeGuide, TypePreset } from '../integrations/types.ts'

/** Minnit's hosts: its organizations (`organizations.minnit.chat`) and vanity `*.minnit.org`. */
const MINNIT_HOST = /(^|\.)minnit\.(chat|org)$/

/** The generic OpenID Connect / OAuth2 client. */
export const oidcGuide: TypeGuide = {
  title: 'OpenID Connect / OAuth2 client',
  platform: 'Generic',
  fields: {
    redirect_uris: {
      label: 'Redirect URIs',
      help: 'the callback URLs the client sends members back to, exactly as it sends them; one per line',
    },
    post_logout_redirect_uris: { label: 'Post-logout redirect URIs', help: 'one per line' },
    scopes: { label: 'Scopes the client may ask for', help: 'one per line' },
    public: { label: 'Public client (no client secret; PKCE S256 required)' },
    first_party: { label: 'First-party client (members are not asked to consent)' },
    id_token_signing_alg: { label: 'ID token signing algorithm' },
    subject_type: {
      label: 'Subject type',
      help: 'pairwise: each client sees its own pseudonym of a member instead of the external id',
    },
    access_token_ttl: { label: 'Access token lifetime, seconds' },
    refresh_token_ttl: { label: 'Refresh token lifetime, seconds' },
    logo_uri: { label: 'Logo URL', help: 'shown on the consent page' },
    site_login_url: {
      label: "Site's sign-in hand-off for this client",
      help: 'overrides SITE_LOGIN_URL for members arriving through this client',
    },
    backchannel_logout_uri: {
      label: 'Back-channel logout URI',
      help: 'where the client receives a logout token when a member signs out',
    },
    backchannel_logout_session_required: { label: 'Logout tokens carry the session id (sid)' },
    client_secret: {
      label: 'Client secret',
      help: 'leave it unset to have one generated: it is shown once, on the Connection page',
    },
  },
  connection: {
    start:
      "In the client's OpenID Connect or OAuth2 settings, enter the values below (a client that reads discovery needs only the discovery URL, the client ID and the secret).",
    labels: {
      discovery_url: 'Discovery URL',
      issuer: 'Issuer',
      client_id: 'Client ID',
      client_secret: 'Client secret',
      authorization_endpoint: 'Authorization endpoint',
      token_endpoint: 'Token endpoint',
      userinfo_endpoint: 'User-info endpoint',
      jwks_uri: 'JWKS URI',
      end_session_endpoint: 'End-session endpoint',
    },
  },
}

/**
 * "Minnit — OAuth2": Minnit's OAuth2 provider form in its own words. Minnit is a plain OAuth2
 * client reading the whole user-info document, so the mapping adds the nested shape Minnit's
 * doc illustrates (`names.nicknames.0`…) for its key fields.
 */
export const minnitOAuth2Preset: TypePreset = {
  key: 'minnit-oauth2',
  guide: {
    title: 'Minnit — OAuth2',
    platform: 'Minnit',
    fields: {
      ...oidcGuide.fields,
      redirect_uris: {
        label: 'Authorized Redirect URI',
        help: 'Minnit shows it in Organization Settings → SSO → your OAuth2 provider; copy it here (one per line)',
      },
      first_party: {
        label: 'Skip the consent page (the chat is part of your site)',
      },
      client_secret: {
        label: 'Client Secret',
        help: "leave it unset: one is generated and shown once, for Minnit's Client Secret field",
      },
    },
    connection: {
      start: 'In Minnit, Organization Settings → SSO → Add provider → OAuth2.',
      labels: {
        authorization_endpoint: 'Authorize URL',
        token_endpoint: 'AccessToken URL',
        userinfo_endpoint: 'GetUserInfo URL',
        client_id: 'Client ID',
        client_secret: 'Client Secret',
        'keys.unique_user_key': 'Unique user key',
        'keys.username_key': 'Username key',
        'keys.nickname_key': 'Nickname key',
        'keys.email_key': 'Email key',
      },
    },
  },
  settings: { first_party: true },
  // Minnit's doc: "separate keys by ." and arrays by their index — its own example's shape. The
  // flat claims that would repeat them are dropped, so the sheet names the nested keys.
  mapping: {
    username: 'username',
    preferred_username: null,
    nickname: null,
    'names.full_name': { template: '{given_name} {family_name}' },
    'names.first': 'given_name',
    'names.last': 'family_name',
    'names.nicknames.0': 'nickname',
  },
  recognizes: (s) =>
    Array.isArray(s.redirect_uris) && s.redirect_uris.some((u) => urlHostMatches(u, MINNIT_HOST)),
}
