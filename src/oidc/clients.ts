/**
 * @module oidc/clients
 * An `oidc` integration as oidc-provider client metadata (RFC 7591 names). The integration id
 * is the client_id; its secret is the client_secret; a public client authenticates with
 * `none` and must use PKCE.
 */
import type { AdapterPayload } from 'oidc-provider'
import type { LoadedIntegration } from '../integrations/registry.ts'
import type { OidcClientSettings } from './client-settings.ts'

/** The client metadata oidc-provider reads for an `oidc` integration. */
export function clientMetadata(integration: LoadedIntegration<OidcClientSettings>): AdapterPayload {
  const s = integration.settings
  const secret = integration.secret('client_secret')
  return {
    client_id: integration.record.id,
    ...(s.public
      ? { token_endpoint_auth_method: 'none' }
      : { client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' }),
    redirect_uris: s.redirect_uris,
    post_logout_redirect_uris: s.post_logout_redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: s.scopes.join(' '),
    id_token_signed_response_alg: s.id_token_signing_alg,
    subject_type: s.subject_type,
    ...(s.display_name ? { client_name: s.display_name } : {}),
    ...(s.logo_uri ? { logo_uri: s.logo_uri } : {}),
    ...(s.backchannel_logout_uri
      ? {
          backchannel_logout_uri: s.backchannel_logout_uri,
          backchannel_logout_session_required: s.backchannel_logout_session_required === true,
        }
      : {}),
    // Our extra metadata (declared in extraClientMetadata.properties).
    access_token_ttl: s.access_token_ttl,
    refresh_token_ttl: s.refresh_token_ttl,
    first_party: s.first_party,
  } as AdapterPayload
}
