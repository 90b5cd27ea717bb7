/**
 * @module tokens/platforms/meltingspot-jwt
 * MeltingSpot's JWT SSO: HS256 token passed as `ms_token` to the spot's `/sso/jwt`
 * (../shared/platforms/meltingspot-jwt-sso.txt).
 */
import { z } from 'zod'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { httpUrl, lifetime } from '../../integrations/schemas.ts'

export const meltingspotJwtType: IntegrationTypeDefinition = {
  type: 'meltingspot-jwt',
  description: 'MeltingSpot community JWT SSO (HS256, redirect to /sso/jwt)',
  settings: z.strictObject({
    /** Base URL of the MeltingSpot app hosting the spot (its host is the only redirect target). */
    spot_base_url: httpUrl,
    /** The string after `spot/` in the spot's URL. */
    spot_id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be the spot id from the spot URL'),
    /** The doc recommends 60 seconds. */
    token_ttl: lifetime(60, 3600),
  }),
  // Payload fields of meltingspot-jwt-sso.txt; lang only where MeltingSpot has the locale.
  defaultMapping: {
    sub: 'external_id',
    firstName: 'given_name',
    lastName: 'family_name',
    email: 'email',
    title: 'title',
    avatarUrl: 'picture',
    lang: { path: 'locale', transforms: [{ map: { en: 'en', 'en-US': 'en', 'en-GB': 'en', fr: 'fr', 'fr-FR': 'fr', 'fr-CA': 'fr', de: 'de', 'de-DE': 'de', 'de-AT': 'de', 'de-CH': 'de' } }] },
    timezone: 'timezone',
  },
  secrets: {
    jwt_secret: { description: "private key copied from the spot's SSO settings", required: true },
  },
}
