/**
 * @module tokens/platforms/minnit-zero-click
 * Minnit's zero-click SSO: an AES-256-GCM `ssotoken` in the embed URL
 * (../shared/platforms/minnit-sso.txt). Token issuing comes with the token door.
 */
import { z } from 'zod'
import type { IntegrationTypeDefinition } from '../../integrations/types.ts'
import { httpUrl, lifetime } from '../../integrations/schemas.ts'

export const minnitZeroClickType: IntegrationTypeDefinition = {
  type: 'minnit-zero-click',
  description: 'Minnit zero-click SSO token (AES-256-GCM) in the chat embed URL',
  settings: z.strictObject({
    /** The chat's URL as Minnit shows it; the token and `embed` are added to it. */
    chat_url: httpUrl,
    /** Seconds a token stays valid (`max_valid_ts` = now + this). */
    token_ttl: lifetime(3600, 86_400),
  }),
  // The zero-click JSON minus max_valid_ts, which the door sets (minnit-sso.txt, Zero-Click SSO).
  defaultMapping: {
    userid: 'external_id',
    username: 'username',
    nickname: 'nickname',
    rank: 'rank',
    profile_picture_url: 'picture',
  },
  secrets: {
    // The doc's PHP uses the key string as raw key bytes: AES-256 needs exactly 32 of them.
    encryption_key: { description: "organization's encryption key from Minnit's SSO settings", required: true, check: (v) => (Buffer.byteLength(v) !== 32 ? 'must be exactly 32 bytes (AES-256 key)' : null) },
  },
}
