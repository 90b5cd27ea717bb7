/**
 * Stream Chat user tokens (tokens/platforms/stream-chat.ts), against its document:
 * https://getstream.io/chat/docs/node/tokens_and_authentication/ — an HS256 JWT under the app's
 * API secret carrying `user_id` (and `iat`/`exp` as createToken adds them). Known answer
 * computed with Python; PyJWT verifies it as Stream's Python SDK would (`jwt.decode` HS256).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NOW_S } from '../helpers/fixtures.ts'
import { PYTHON, runForeign } from '../helpers/foreign.ts'
import { closeDefined, definedSetup, incomplete, type DefinedSetup } from '../helpers/defined.ts'

const SECRET = 'stream-api-secret-0123456789abcdef'
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiNDIiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyOTIwMH0.As2YIvwMpKMMKNnHV-M5-oBP86e-C6XtYk4zrUYCQsU'

let s: DefinedSetup | undefined
beforeEach(async () => {
  s = await definedSetup('st', {
    type: 'stream-chat',
    settings: { stream_api_key: 'mmhfdzb5evj2' },
    secrets: { api_secret: SECRET },
  })
})
afterEach(async () => closeDefined(s))

describe('stream-chat', () => {
  it('known answer: {user_id, iat, exp} and the connectUser call', async () => {
    expect(await s!.tokens.issue('st', '42')).toEqual({
      token: JWT,
      url: null,
      html: null,
      expires_at: '2026-01-01T01:00:00.000Z',
      script: `await StreamChat.getInstance("mmhfdzb5evj2").connectUser({ id: "42" }, "${JWT}");`,
    })
  })

  it('PyJWT verifies it; a wrong secret fails', () => {
    const py = `import sys, json, jwt
i = json.load(sys.stdin)
print(json.dumps(jwt.decode(i['token'], i['key'], algorithms=['HS256'], options={'verify_exp': False})))`
    expect(JSON.parse(runForeign(PYTHON, py, { token: JWT, key: SECRET }))).toEqual({
      user_id: '42',
      iat: NOW_S,
      exp: NOW_S + 3600,
    })
    expect(() => runForeign(PYTHON, py, { token: JWT, key: `${SECRET}x` })).toThrow()
  })

  it('no user_id: 422 account_incomplete; inspect verifies ours and refuses another alg', async () => {
    await s!.t.services.integrations.put('st', {
      type: 'stream-chat',
      settings: { stream_api_key: 'mmhfdzb5evj2' },
      mapping: { user_id: 'profile.stream_id' },
      secrets: { api_secret: SECRET },
    })
    await expect(s!.tokens.issue('st', '42')).rejects.toMatchObject(incomplete('st', 'user_id'))
    expect(await s!.tokens.inspect('st', JWT)).toMatchObject({ payload: { user_id: '42' } })
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${JWT.split('.')[1]}.`
    await expect(s!.tokens.inspect('st', none)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
  })
})
