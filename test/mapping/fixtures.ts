/**
 * Accounts for the mapping tests: a complete typical member, with any field overridden.
 */
import type { Account } from '../../src/accounts/types.ts'

export function makeAccount(over: Partial<Account> = {}): Account {
  return {
    id: '01J0000000000000000000000A',
    external_id: '123',
    username: 'RobertS',
    email: 'rob@example.test',
    email_verified: true,
    nickname: 'Rob',
    given_name: 'Robert',
    family_name: 'Smith',
    picture: 'https://example.test/rob.png',
    rank: 'moderator',
    title: 'Night shift',
    locale: 'en-GB',
    timezone: 'Europe/London',
    profile: {
      names: { first: 'Robert', last: 'Smith' },
      nicknames: ['Robbie'],
      tags: ['tea', 'chess'],
      karma: 42,
    },
    status: 'active',
    desired_username: null,
    desired_email: null,
    stale: false,
    has_password: true,
    created_at: '2024-01-02T03:04:05.678Z',
    updated_at: '2024-05-06T07:08:09.000Z',
    ...over,
  }
}
