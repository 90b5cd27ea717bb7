/**
 * @module tokens/platforms/boostgpt-jwt
 * BoostGPT's chat widget: an HS256 JWT `{email, name, external_id}` expiring within one hour
 * (../shared/platforms/boostgpt-widget-sso.txt).
 */
import { z } from 'zod'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { lifetime } from '../../integrations/schemas.ts'

export const boostgptJwtType: IntegrationTypeDefinition = {
  type: 'boostgpt-jwt',
  description: 'BoostGPT widget SSO token (HS256 JWT)',
  settings: z.strictObject({
    bot_id: z.string().min(1).max(255),
    /** The doc: "should expire within 1 hour". */
    token_ttl: lifetime(3600, 3600),
  }),
  // JWT payload table of boostgpt-widget-sso.txt: email (required), name, external_id.
  defaultMapping: {
    email: 'email',
    name: 'nickname',
    external_id: 'external_id',
  },
  secrets: {
    sso_secret: { description: "agent's SSO secret from BoostGPT's Deploy page", required: true, check: (v) => (v.length < 32 ? 'must be at least 32 characters' : null) },
  },
}
