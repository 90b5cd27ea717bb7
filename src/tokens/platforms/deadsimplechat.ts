/**
 * @module tokens/platforms/deadsimplechat
 * Dead Simple Chat's "SSO using Auth Token": the server calls Create User once per account and
 * keeps the returned accessToken (../shared/platforms/deadsimplechat-sso-auth-token.txt).
 */
import { z } from 'zod'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { httpUrl } from '../../integrations/schemas.ts'

export const deadsimplechatType: IntegrationTypeDefinition = {
  type: 'deadsimplechat',
  description: 'Dead Simple Chat access token from its Create User API',
  settings: z.strictObject({
    api_base_url: httpUrl.default('https://api.deadsimplechat.com'),
    chat_room_url: httpUrl,
  }),
  // Create User API body (deadsimplechat-sso-auth-token.txt); moderators log in as moderators.
  defaultMapping: {
    username: 'username',
    isModerator: { path: 'rank', transforms: [{ map: { moderator: true, manager: true, owner: true }, fallback: false }] },
  },
  secrets: {
    private_key: { description: 'API Private Key from Dashboard → Developer', required: true },
  },
}
