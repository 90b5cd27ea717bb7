/**
 * @module connection/sheet
 * The connection sheet: every value a platform's settings page asks for, for one integration —
 * for an `oidc` integration the URLs of Minnit's OAuth2 form (Authorize, AccessToken and
 * GetUserInfo URLs), the discovery document for generic OIDC platforms, the client id and
 * redirect URIs, and the key names to enter as "unique user key", username, nickname and email
 * given the integration's mapping. Never a secret value.
 *
 * It sits above the doors (it knows every door's endpoints) and beside http/ and cli/, which
 * both serve it; the registry itself never imports a door.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto'
import { withDefaults, type Account } from '../accounts/types.ts'
import type { IntegrationService, LoadedIntegration } from '../integrations/registry.ts'
import { isIntegrationOf } from '../integrations/types.ts'
import { listPaths } from '../mapping/index.ts'
import { oidcIntegrationType } from '../oidc/client-settings.ts'
import { OIDC_DISCOVERY, OIDC_ROUTES } from '../oidc/paths.ts'
import type { KeyMaterial, SamlKeyPair } from '../keys/index.ts'
import { SAML_ROUTES } from '../saml/paths.ts'
import { samlIntegrationType } from '../saml/sp-settings.ts'
import type { SecretSource } from '../store/ports.ts'

/**
 * Distinctive values pushed through the mapping to see which output key carries which field; a
 * field not named here has its default (store/account-fields.ts).
 */
const PROBE: Account = {
  ...withDefaults({}),
  id: '00000000-0000-7000-8000-000000000000',
  external_id: 'probe-external-id-7f3a',
  username: 'probe-username-7f3a',
  email: 'probe-email-7f3a@example.invalid',
  email_verified: true,
  nickname: 'probe-nickname-7f3a',
  given_name: 'Probe',
  family_name: 'Account',
  picture: 'https://example.invalid/probe-7f3a.png',
  locale: 'en',
  timezone: 'UTC',
  desired_username: null,
  desired_email: null,
  stale: false,
  has_password: false,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
}

/** The output key names of the identity fields, as the connection sheet shows them. */
export interface KeyNames {
  unique_user_key: string | null
  username_key: string | null
  nickname_key: string | null
  email_key: string | null
}

/** Which output paths carry the external id, username, nickname and email (null: none does). */
export function keyNames(integration: LoadedIntegration): KeyNames {
  const paths = listPaths(integration.mapping.apply(PROBE))
  const find = (value: string | null) => paths.find((p) => p.value === value)?.path ?? null
  return {
    unique_user_key: find(PROBE.external_id),
    username_key: find(PROBE.username),
    nickname_key: find(PROBE.nickname),
    email_key: find(PROBE.email),
  }
}

/**
 * @param keys KEYS_DIR material: the SAML signing certificate(s) go on a `saml` integration's
 *   sheet (without it, e.g. in a CLI that did not load keys, the sheet points at the metadata).
 */
export async function connectionSheet(
  integrations: IntegrationService,
  id: string,
  issuer: string,
  keys?: KeyMaterial,
): Promise<Record<string, unknown>> {
  const integration = await integrations.load(id)
  const { record } = integration
  const base = { id: record.id, type: record.type }
  if (isIntegrationOf(integration, oidcIntegrationType)) {
    const s = integration.settings
    const url = (path: string) => `${issuer}${path}`
    return {
      ...base,
      issuer,
      discovery_url: url(OIDC_DISCOVERY),
      authorization_endpoint: url(OIDC_ROUTES.authorization),
      token_endpoint: url(OIDC_ROUTES.token),
      userinfo_endpoint: url(OIDC_ROUTES.userinfo),
      jwks_uri: url(OIDC_ROUTES.jwks),
      end_session_endpoint: url(OIDC_ROUTES.end_session),
      introspection_endpoint: url(OIDC_ROUTES.introspection),
      revocation_endpoint: url(OIDC_ROUTES.revocation),
      client_id: record.id,
      client_secret: s.public
        ? 'none (public client: use PKCE S256)'
        : clientSecretText(
            record.secrets.client_secret,
            integration.secret('client_secret') !== undefined,
          ),
      token_endpoint_auth_methods: s.public
        ? ['none']
        : ['client_secret_basic', 'client_secret_post'],
      redirect_uris: s.redirect_uris,
      post_logout_redirect_uris: s.post_logout_redirect_uris,
      scopes: s.scopes,
      keys: keyNames(integration),
    }
  }
  if (isIntegrationOf(integration, samlIntegrationType)) {
    const s = integration.settings
    const url = (path: string) => `${issuer}${path}`
    const certificate = (k: SamlKeyPair) => ({
      pem: k.certificatePem,
      fingerprint_sha256: k.fingerprintSha256,
      created_at: k.createdAt,
    })
    return {
      ...base,
      metadata_url: url(SAML_ROUTES.metadata),
      entity_id: url(SAML_ROUTES.metadata),
      sso_url: { 'HTTP-Redirect': url(SAML_ROUTES.sso), 'HTTP-POST': url(SAML_ROUTES.sso) },
      slo_url: url(SAML_ROUTES.slo),
      idp_initiated_url: url(`${SAML_ROUTES.idpInitiated}/${record.id}`),
      certificate: keys
        ? certificate(keys.saml.current)
        : `served in the metadata at ${url(SAML_ROUTES.metadata)}`,
      ...(keys && keys.saml.previous.length > 0
        ? { previous_certificates: keys.saml.previous.map(certificate) }
        : {}),
      name_id_format: s.name_id_format,
      sp_entity_id: s.entity_id,
      acs_urls: s.acs_urls,
      attribute_name_format: s.attribute_name_format,
      // SAML attribute names are the mapping's top-level keys: what the SP's attribute fields take.
      attribute_names: Object.keys(integration.mapping.apply(PROBE)),
      keys: keyNames(integration),
    }
  }
  // Doors describe their own types (the registry never imports a door).
  const sheet = integration.definition.connection?.(integration, issuer)
  if (sheet?.verify_with_jwks === true) {
    // A platform that verifies the bridge's RS256 signature (Arena): where the public key is.
    const { verify_with_jwks: _, ...rest } = sheet
    return {
      ...base,
      ...rest,
      jwks_uri: `${issuer}${OIDC_ROUTES.jwks}`,
      ...(keys ? rs256Public(keys) : {}),
      keys: keyNames(integration),
    }
  }
  if (sheet) return { ...base, ...sheet, keys: keyNames(integration) }
  return {
    ...base,
    keys: keyNames(integration),
    note: `the ${record.type} door's connection details arrive with that door`,
  }
}

/** The first RS256 key of the published JWKS: its kid and its public key as PEM (SPKI). */
function rs256Public(keys: KeyMaterial): { kid?: string; public_key_pem?: string } {
  const jwk = keys.oidc.publicJwks.keys.find((k) => k.alg === 'RS256')
  if (!jwk) return {}
  const pem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString()
  return { ...(jwk.kid ? { kid: jwk.kid } : {}), public_key_pem: pem }
}

/** What the oidc sheet says of the client secret: where it comes from and whether it is set, never its value. */
function clientSecretText(source: SecretSource | undefined, set: boolean): string {
  if (source && 'env' in source)
    return `from the server's environment variable ${source.env}${set ? '' : ' (not set where this runs: the client cannot sign in)'}`
  return set ? 'the secret shown once when the integration was created' : 'not set'
}
