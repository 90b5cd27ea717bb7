/**
 * @module saml/catalogue
 * How the console's catalogue presents the `saml` type (issue #14): as a generic SAML service
 * provider, and preset for Minnit's SAML2 provider (../shared/platforms/minnit-sso.txt), which
 * registers sso-bridge by its metadata URL.
 */
import { urlHostMatches } from '../integrations/catalogue.ts'
import type { TypeGuide, TypePreset } from '../integrations/types.ts'

/** Minnit's hosts: its organizations (`organizations.minnit.chat`) and vanity `*.minnit.org`. */
const minnitHost = (value: unknown) => urlHostMatches(value, /(^|\.)minnit\.(chat|org)$/)

/** Labels of the key names every SAML sheet carries (the mapping's attribute names). */
const keyLabels = {
  'keys.unique_user_key': 'Unique user key',
  'keys.username_key': 'Username key',
  'keys.nickname_key': 'Nickname key',
  'keys.email_key': 'Email key',
}

/** The generic SAML 2.0 service provider. */
export const samlGuide: TypeGuide = {
  title: 'SAML 2.0 service provider',
  platform: 'Generic',
  documents: {
    metadata_xml: {
      label: "SP's metadata (XML)",
      help: 'optional: paste the metadata document and leave the fields below empty; a field you fill wins over it',
    },
  },
  fields: {
    entity_id: {
      label: 'SP entity ID',
      help: "the service provider's entityID (its metadata says)",
    },
    acs_urls: {
      label: 'Assertion Consumer Service (ACS) URLs',
      help: 'where Responses may be posted; a request naming another URL is refused',
    },
    'acs_urls.url': { label: 'URL' },
    'acs_urls.binding': { label: 'Binding' },
    slo_url: { label: 'Single logout URL' },
    signing_certificate: { label: "SP's signing certificate (PEM)" },
    encryption_certificate: { label: "SP's encryption certificate (PEM)" },
    slo_binding: { label: 'Single logout binding' },
    require_signed_requests: { label: 'Require signed requests' },
    allow_sha1_signatures: {
      label: 'Accept SHA-1 signatures',
      help: 'only for an SP that cannot sign with SHA-256',
    },
    name_id_format: { label: 'NameID format' },
    sign_response: { label: 'Sign the Response' },
    sign_assertion: { label: 'Sign the Assertion' },
    attribute_name_format: { label: 'Attribute name format' },
    site_login_url: { label: "Site's sign-in hand-off for this SP" },
  },
  connection: {
    start:
      "In the service provider's SAML settings, register this identity provider by its metadata URL, or enter the values below.",
    labels: {
      metadata_url: 'IdP metadata URL',
      entity_id: 'IdP entity ID',
      'sso_url.HTTP-Redirect': 'SSO URL (HTTP-Redirect)',
      'sso_url.HTTP-POST': 'SSO URL (HTTP-POST)',
      slo_url: 'SLO URL',
      'certificate.pem': 'Signing certificate',
      ...keyLabels,
    },
  },
}

/** "Minnit — SAML2": Minnit's SAML2 provider in its own words. */
export const minnitSaml2Preset: TypePreset = {
  key: 'minnit-saml2',
  guide: {
    title: 'Minnit — SAML2',
    platform: 'Minnit',
    documents: samlGuide.documents!,
    fields: {
      ...samlGuide.fields,
      entity_id: {
        label: "Minnit's entity ID (audience URI)",
        help: 'Organization Settings → SSO → your SAML2 provider; Minnit\'s error SML2NIA1 ("Not in audience") means it does not match',
      },
      acs_urls: {
        label: "Minnit's Assertion Consumer Service (ACS) URL",
        help: 'from the same SAML2 provider settings in Minnit',
      },
    },
    connection: {
      start: 'In Minnit, Organization Settings → SSO → Add provider → SAML2.',
      labels: { metadata_url: 'Metadata URL', ...keyLabels },
    },
  },
  settings: { name_id_format: 'persistent' },
  recognizes: (s) =>
    minnitHost(s.entity_id) ||
    (Array.isArray(s.acs_urls) &&
      s.acs_urls.some(
        (a) => typeof a === 'object' && a !== null && minnitHost((a as { url?: unknown }).url),
      )),
}
