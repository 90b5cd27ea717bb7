/**
 * Shared fixtures of the token tests: one member with every field, the frozen instant of the
 * known answers, the secrets, and a bridge session for browser delivery (made by the real
 * session manager over the test app's real store).
 */
import { createSessionManager } from '../../../src/login/session.ts'
import type { TestApp } from '../../helpers/app.ts'

/** 2026-01-01T00:00:00Z: `iat` 1767225600 in every known answer. */
export const NOW = new Date('2026-01-01T00:00:00.000Z')
export const NOW_S = 1_767_225_600

export const ROB = {
  username: 'Rob',
  email: 'rob@example.com',
  email_verified: true,
  nickname: 'Robbie',
  given_name: 'Robert',
  family_name: 'Smith',
  picture: 'https://cdn.example.com/rob.png',
  rank: 'moderator',
  title: 'Night shift',
  locale: 'fr-FR',
  timezone: 'Europe/Paris',
} as const

/** Minnit's own sample key from the doc (32 characters = 32 bytes). */
export const MINNIT_KEY = 'z8pkH$jjNEWEEEe*DwThe4K2iDtjDwYQ'
/** An IV whose base64 holds `+` and `/`, so percent-encoding is exercised. */
export const FIXED_IV = Buffer.from('fbfffefdfcfbfaf9f8f7f6f5', 'hex')
export const BOOSTGPT_SECRET = '0123456789abcdef'.repeat(4)
export const MELTINGSPOT_SECRET = 'meltingspot-private-key-0123456789abcdef'
export const GENERIC_SECRET = 'generic-shared-secret-0123456789abcdef'
export const SPOT_ID = '129487c9-6acc-43d9-ab96-182ded763538'
export const DSC_KEY =
  '4f5745526b48536d56774b4c772d426f336f396462304e66585930646a667a6f686f4e796b6d2d74534f73736a563470'

export const integrations = {
  minnit: {
    type: 'minnit-zero-click',
    settings: { chat_url: 'https://organizations.minnit.chat/626811533994618/c/Main' },
    secrets: { encryption_key: MINNIT_KEY },
  },
  boostgpt: {
    type: 'boostgpt-jwt',
    settings: { bot_id: '6f1d2c3b-aaaa-4bbb-8ccc-0123456789ab' },
    secrets: { sso_secret: BOOSTGPT_SECRET },
  },
  meltingspot: {
    type: 'meltingspot-jwt',
    settings: { spot_base_url: 'https://app.meltingspot.io', spot_id: SPOT_ID },
    secrets: { jwt_secret: MELTINGSPOT_SECRET },
  },
  generic: {
    type: 'jwt',
    settings: {
      target_url: 'https://platform.example/sso?lang=en',
      query_param: 'jwt',
      audience: 'https://platform.example',
    },
    secrets: { secret: GENERIC_SECRET },
  },
  dsc: (apiBaseUrl: string) => ({
    type: 'deadsimplechat',
    settings: { api_base_url: apiBaseUrl, chat_room_url: 'https://deadsimplechat.com/CGOC0byXC' },
    secrets: { private_key: DSC_KEY },
  }),
}

/** A bridge session for the account `externalId`: the Cookie header value. */
export async function sessionCookie(t: TestApp, externalId: string): Promise<string> {
  const account = await t.services.accounts.get(externalId)
  const sessions = createSessionManager({ kv: t.services.store, ttlMs: 3_600_000 })
  const id = await sessions.create({
    account_id: account.id,
    auth_time: Math.floor(Date.now() / 1000),
    amr: ['pwd'],
  })
  return `sso_bridge=${encodeURIComponent(id)}`
}
