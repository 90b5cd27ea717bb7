/**
 * @module saml/sp-settings
 * Settings of a `saml` integration: one SAML 2.0 service provider of our IdP. Behaviour comes
 * with the SAML door; this is what the registry validates.
 */
import { z } from 'zod'
import type { IntegrationTypeDefinition } from '../integrations/types.ts'
import { httpUrl } from '../integrations/schemas.ts'

const BINDINGS = ['HTTP-POST', 'HTTP-Redirect'] as const
const pem = z.string().regex(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, 'must be a PEM certificate')

export const samlIntegrationType: IntegrationTypeDefinition = {
  type: 'saml',
  description: 'SAML 2.0 service provider (Minnit SAML2, any SAML SP)',
  settings: z.strictObject({
    entity_id: z.string().min(1).max(1024),
    acs_urls: z.array(z.strictObject({ url: httpUrl, binding: z.enum(BINDINGS).default('HTTP-POST') })).min(1, 'must list at least one ACS URL'),
    slo_url: httpUrl.optional(),
    signing_certificate: pem.optional(),
    encryption_certificate: pem.optional(),
    require_signed_requests: z.boolean().default(false),
    name_id_format: z.enum(['persistent', 'emailAddress', 'unspecified']).default('persistent'),
    sign_response: z.boolean().default(true),
    sign_assertion: z.boolean().default(true),
    attribute_name_format: z.enum(['basic', 'uri']).default('basic'),
  }),
  // Attribute names most SPs pre-fill (eduPerson/inetOrgPerson short names).
  defaultMapping: {
    uid: 'external_id',
    username: 'username',
    email: 'email',
    givenName: 'given_name',
    sn: 'family_name',
    displayName: 'nickname',
    picture: 'picture',
    rank: 'rank',
  },
  secrets: {},
}
