/**
 * Intercom Messenger security (tokens/platforms/intercom.ts), against its documents:
 * https://developers.intercom.com/installing-intercom/web/identity-verification (the JWT: HS256
 * under the Messenger API secret, `user_id` required, `exp`) and the legacy identity
 * verification `user_hash` (hex HMAC-SHA256 of the user_id,
 * https://www.intercom.com/help/en/articles/10807823-migrating-from-identity-verification-to-messenger-security-with-jwts).
 * Known answers computed with Python (base64url, hmac); PyJWT (Debian python3-jwt) verifies the
 * JWT and PHP's hash_hmac the user_hash.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NOW_S } from '../helpers/fixtures.ts'
import { PHP, PYTHON, runForeign } from '../helpers/foreign.ts'
import { closeDefined, definedSetup, incomplete, type DefinedSetup } from '../helpers/defined.ts'

const JWT_SECRET = 'intercom-messenger-secret-0123456789'
const IDV_SECRET = 'intercom-idv-secret-0123456789'
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiNDIiLCJlbWFpbCI6InJvYkBleGFtcGxlLmNvbSIsIm5hbWUiOiJSb2JiaWUiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyOTIwMH0.IfLpqaIIp6J-MZDkzYkVNxcaNYu1xD_zvYnJp9zh9-c'
const HASH = 'be4b9b7fa00418934e3c25e906f4756a47b0363c020207338a32dd5f90a7a1ed'

let s: DefinedSetup | undefined
beforeEach(async () => {
  s = await definedSetup('ic', {
    type: 'intercom-jwt',
    settings: { app_id: 'abc12345' },
    secrets: { messenger_secret: JWT_SECRET },
  })
  await s.t.services.integrations.put('ich', {
    type: 'intercom-user-hash',
    settings: { app_id: 'abc12345' },
    secrets: { verification_secret: IDV_SECRET },
  })
})
afterEach(async () => closeDefined(s))

describe('intercom-jwt', () => {
  it('known answer: the JWT and window.intercomSettings with intercom_user_jwt', async () => {
    expect(await s!.tokens.issue('ic', '42')).toEqual({
      token: JWT,
      url: null,
      html: null,
      expires_at: '2026-01-01T01:00:00.000Z',
      script: `window.intercomSettings = { app_id: "abc12345", intercom_user_jwt: "${JWT}" };`,
    })
  })

  it('PyJWT verifies it (HS256 only, exp honoured, user_id present)', async () => {
    const out = await s!.tokens.issue('ic', '42')
    const py = `import sys, json, jwt
i = json.load(sys.stdin)
print(json.dumps(jwt.decode(i['token'], i['key'], algorithms=['HS256'], options={'require': ['exp'], 'verify_exp': False})))`
    expect(JSON.parse(runForeign(PYTHON, py, { token: out.token, key: JWT_SECRET }))).toEqual({
      user_id: '42',
      email: 'rob@example.com',
      name: 'Robbie',
      iat: NOW_S,
      exp: NOW_S + 3600,
    })
    expect(() => runForeign(PYTHON, py, { token: out.token, key: 'wrong-secret' })).toThrow()
  })

  it('no user_id: 422 account_incomplete', async () => {
    await s!.t.services.integrations.put('ic', {
      type: 'intercom-jwt',
      settings: { app_id: 'abc12345' },
      mapping: { user_id: 'profile.intercom_id' },
      secrets: { messenger_secret: JWT_SECRET },
    })
    await expect(s!.tokens.issue('ic', '42')).rejects.toMatchObject(incomplete('ic', 'user_id'))
  })
})

describe('intercom-user-hash', () => {
  it('known answer; PHP hash_hmac of the user_id agrees; the settings carry user_id and user_hash', async () => {
    const out = await s!.tokens.issue('ich', '42')
    expect(out.token).toBe(HASH)
    expect(out.script).toBe(
      `window.intercomSettings = { app_id: "abc12345", user_id: "42", email: "rob@example.com", name: "Robbie", user_hash: "${HASH}" };`,
    )
    expect(
      runForeign(
        PHP,
        `$in = json_decode(stream_get_contents(STDIN), true); echo hash_hmac('sha256', $in['user_id'], $in['key']);`,
        { user_id: '42', key: IDV_SECRET },
      ),
    ).toBe(HASH)
  })
})
