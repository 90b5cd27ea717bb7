/**
 * Zendesk messaging authentication (tokens/platforms/zendesk-messaging.ts), against its
 * documents: https://developer.zendesk.com/documentation/zendesk-web-widget-sdks/sdks/web/enabling_auth_visitors
 * (HS256 JWT, the signing key's id as `kid`, `scope: "user"`, `external_id`, `name`, `email`,
 * `email_verified`) and https://developer.zendesk.com/api-reference/widget-messaging/web/authentication
 * (`zE("messenger", "loginUser", …)`, `exp` honoured). Known answer computed with Python
 * (base64url, hmac); PyJWT verifies it and reads the `kid` from the header.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NOW_S } from '../helpers/fixtures.ts'
import { PYTHON, runForeign } from '../helpers/foreign.ts'
import { closeDefined, definedSetup, incomplete, type DefinedSetup } from '../helpers/defined.ts'

const SECRET = 'zendesk-shared-secret-0123456789abcdef'
const KID = 'app_64e8f0c1a2b3'
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImFwcF82NGU4ZjBjMWEyYjMifQ.eyJleHRlcm5hbF9pZCI6IjQyIiwibmFtZSI6IlJvYmJpZSIsImVtYWlsIjoicm9iQGV4YW1wbGUuY29tIiwiZW1haWxfdmVyaWZpZWQiOnRydWUsInNjb3BlIjoidXNlciIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjoxNzY3MjI2MjAwfQ.tqy7MdPywh6CwddwtK8NUOZ9cO9oKyGZozc3nUCglHM'

let s: DefinedSetup | undefined
beforeEach(async () => {
  s = await definedSetup('zd', {
    type: 'zendesk-messaging',
    settings: { key_id: KID },
    secrets: { shared_secret: SECRET },
  })
})
afterEach(async () => closeDefined(s))

describe('zendesk-messaging', () => {
  it('known answer: kid header, scope user, external_id, name, email, email_verified, exp; the loginUser call', async () => {
    expect(await s!.tokens.issue('zd', '42')).toEqual({
      token: JWT,
      url: null,
      html: null,
      expires_at: '2026-01-01T00:10:00.000Z',
      script: `zE("messenger", "loginUser", function (callback) { callback("${JWT}"); });`,
    })
  })

  it('PyJWT: the header names the key, the claims are the documented ones', async () => {
    const py = `import sys, json, jwt
i = json.load(sys.stdin)
h = jwt.get_unverified_header(i['token'])
c = jwt.decode(i['token'], i['key'], algorithms=['HS256'], options={'verify_exp': False})
print(json.dumps({'kid': h['kid'], 'claims': c}))`
    expect(JSON.parse(runForeign(PYTHON, py, { token: JWT, key: SECRET }))).toEqual({
      kid: KID,
      claims: {
        external_id: '42',
        name: 'Robbie',
        email: 'rob@example.com',
        email_verified: true,
        scope: 'user',
        iat: NOW_S,
        exp: NOW_S + 600,
      },
    })
  })

  it('a mapping cannot change scope or exp; no external_id is 422 account_incomplete', async () => {
    await s!.t.services.integrations.put('zd', {
      type: 'zendesk-messaging',
      settings: { key_id: KID },
      mapping: { scope: { const: 'admin' }, exp: { const: 9999999999 } },
      secrets: { shared_secret: SECRET },
    })
    const { payload } = await s!.tokens.dryRun('zd', { external_id: '42' })
    expect(payload).toMatchObject({ scope: 'user', exp: NOW_S + 600 })
    await s!.t.services.integrations.put('zd', {
      type: 'zendesk-messaging',
      settings: { key_id: KID },
      mapping: { external_id: 'profile.zendesk_id' },
      secrets: { shared_secret: SECRET },
    })
    await expect(s!.tokens.issue('zd', '42')).rejects.toMatchObject(incomplete('zd', 'external_id'))
  })
})
