/**
 * @module saml/sp-settings
 * Settings of a `saml` integration: one SAML 2.0 service provider of our IdP. Behaviour comes
 * with the SAML door; this is what the registry validates.
 */
import { z } from 'zod'
import type { IntegrationTypeDefinition } from '../integrations/types.ts'
import { httpUrl, siteLoginSettings } from '../integrations/schemas.ts'
import { settingsFromSpMetadata } from './sp-metadata.ts'
import { minnitSaml2Preset, samlGuide } from './catalogue.ts'

/** Merges `metadata_xml` (SP metadata) under the explicit fields; a bad document is a field issue. */
function fromMetadata(input: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof input !== 'object' || input === null || !('metadata_xml' in input)) return input
  const { metadata_xml: xml, ...rest } = input as Record<string, unknown>
  if (typeof xml !== 'string') {
    ctx.addIssue({
      code: 'custom',
      path: ['metadata_xml'],
      message: 'must be the SP metadata XML as a string',
    })
    return z.NEVER
  }
  try {
    return { ...settingsFromSpMetadata(xml), ...rest }
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: ['metadata_xml'], message: (err as Error).message })
    return z.NEVER
  }
}

const BINDINGS = ['HTTP-POST', 'HTTP-Redirect'] as const
const pem = z
  .string()
  .regex(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, 'must be a PEM certificate')

// `metadata_xml`: the SP's metadata document; what it states fills the fields not given.
const settings = z.preprocess(
  fromMetadata,
  z.strictObject({
    entity_id: z.string().min(1).max(1024),
    acs_urls: z
      .array(z.strictObject({ url: httpUrl, binding: z.enum(BINDINGS).default('HTTP-POST') }))
      .min(1, 'must list at least one ACS URL'),
    slo_url: httpUrl.optional(),
    // How the LogoutResponse goes back to slo_url: an auto-posted form, or a signed redirect.
    slo_binding: z.enum(BINDINGS).default('HTTP-POST'),
    signing_certificate: pem.optional(),
    encryption_certificate: pem.optional(),
    require_signed_requests: z.boolean().default(false),
    // RSA-SHA1 request signatures and SHA-1 digests: refused unless the SP cannot do better.
    allow_sha1_signatures: z.boolean().default(false),
    name_id_format: z.enum(['persistent', 'emailAddress', 'unspecified']).default('persistent'),
    sign_response: z.boolean().default(true),
    sign_assertion: z.boolean().default(true),
    attribute_name_format: z.enum(['basic', 'uri']).default('basic'),
    ...siteLoginSettings,
  }),
)

/** A `saml` integration's settings after validation (defaults filled in). */
export type SamlSpSettings = z.infer<typeof settings>

/** The `saml` integration type: one service provider of our IdP. */
export const samlIntegrationType: IntegrationTypeDefinition<SamlSpSettings> = {
  type: 'saml',
  description: 'SAML 2.0 service provider (Minnit SAML2, any SAML SP)',
  guide: samlGuide,
  presets: [minnitSaml2Preset],
  settings,
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
