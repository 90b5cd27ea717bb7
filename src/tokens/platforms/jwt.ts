/**
 * @module tokens/platforms/jwt
 * A generic HS256 JWT platform: claims from the mapping, lifetime, query parameter and target
 * URL from the integration.
 */
import { z } from 'zod'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { httpUrl, lifetime } from '../../integrations/schemas.ts'

export const genericJwtType: IntegrationTypeDefinition = {
  type: 'jwt',
  description: 'Generic HS256 JWT handed to a URL query parameter',
  settings: z.strictObject({
    target_url: httpUrl.optional(),
    query_param: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a query parameter name').default('token'),
    token_ttl: lifetime(300, 86_400),
    audience: z.string().max(1024).optional(),
  }),
  defaultMapping: {
    sub: 'external_id',
    preferred_username: 'username',
    name: 'nickname',
    email: 'email',
    email_verified: 'email_verified',
    picture: 'picture',
    rank: 'rank',
  },
  secrets: {
    secret: { description: 'shared HMAC secret', required: true, check: (v) => (Buffer.byteLength(v) < 32 ? 'must be at least 32 bytes (HS256 key)' : null) },
  },
}
