/**
 * Every token type through the token service over a real SQLite store: known answers with a
 * frozen clock and a fixed IV (zero-click answers from the doc's PHP, JWT answers from Python's
 * hmac), interop with jsonwebtoken and with the reference zero-click implementation, each type's
 * field rules, and secret rotation.
 */
import jsonwebtoken from 'jsonwebtoken'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createKeyCache } from '../../src/tokens/keys.ts'
import { createTokenService, type TokenService } from '../../src/tokens/index.ts'
import { makeTestApp, type TestApp } from '../helpers/app.ts'
import { startDscServer, type DscServer } from './helpers/dsc-server.ts'
import {
  BOOSTGPT_SECRET,
  DSC_KEY,
  FIXED_IV,
  GENERIC_SECRET,
  integrations,
  MELTINGSPOT_SECRET,
  MINNIT_KEY,
  NOW,
  NOW_S,
  ROB,
  SPOT_ID,
} from './helpers/fixtures.ts'
import { referenceDecrypt, referenceEncrypt } from './helpers/minnit-reference.ts'

/** Known answers (see zero-click.test.ts and jwt.test.ts for how they were computed). */
const MINNIT_TOKEN =
  '+//+/fz7+vn49/b1fQOyNEPu44PJNsS7vG0VPHLnhBhHFG2VHs8pfpVMbYQLpyvGBYSsDOyDN9SWiIggL+drDOjgFL/tuUPmHOlD33NAOKckT1u4a42wNffnUBs0d5RqNmn4kkHnRMK6U9S8pgQ/RsPqQsa+lHd1ny6EHzL8yq/NBef1vHHXc0VvEKmfL1XZpmNEgdrftdnV8ttNGNr/5tXZBOXPPrYvd3qDN37douGSMKuZNQ=='
const BOOSTGPT_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6InJvYkBleGFtcGxlLmNvbSIsIm5hbWUiOiJSb2JiaWUiLCJleHRlcm5hbF9pZCI6IjQyIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjE3NjcyMjkyMDB9.Fs-mcvcGz2T_DyC1H3NPwE84IswgCsc4EGGjx5y_P7c'
const MELTINGSPOT_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImZpcnN0TmFtZSI6IlJvYmVydCIsImxhc3ROYW1lIjoiU21pdGgiLCJlbWFpbCI6InJvYkBleGFtcGxlLmNvbSIsInRpdGxlIjoiTmlnaHQgc2hpZnQiLCJhdmF0YXJVcmwiOiJodHRwczovL2Nkbi5leGFtcGxlLmNvbS9yb2IucG5nIiwibGFuZyI6ImZyIiwidGltZXpvbmUiOiJFdXJvcGUvUGFyaXMiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyNTY2MH0.qxJejertOSOb1HrdWiJyg7XcgqROz07waKoAuPth7Jo'
const GENERIC_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInByZWZlcnJlZF91c2VybmFtZSI6IlJvYiIsIm5hbWUiOiJSb2JiaWUiLCJlbWFpbCI6InJvYkBleGFtcGxlLmNvbSIsImVtYWlsX3ZlcmlmaWVkIjp0cnVlLCJwaWN0dXJlIjoiaHR0cHM6Ly9jZG4uZXhhbXBsZS5jb20vcm9iLnBuZyIsInJhbmsiOiJtb2RlcmF0b3IiLCJhdWQiOiJodHRwczovL3BsYXRmb3JtLmV4YW1wbGUiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyNTkwMH0.4kCeepAoTl8QSiGP-H-iOoxJO2M9TOnFDmmTp0j9EPs'

let t: TestApp
let tokens: TokenService
let dsc: DscServer

beforeEach(async () => {
  vi.setSystemTime(NOW)
  t = makeTestApp()
  tokens = createTokenService({
    accounts: t.services.accounts,
    integrations: t.services.integrations,
    kv: t.services.store,
    secrets: t.services.secrets,
    randomBytes: () => Buffer.from(FIXED_IV),
  })
  await t.services.accounts.put('42', ROB)
  await t.services.integrations.put('minnit', integrations.minnit)
  await t.services.integrations.put('boostgpt', integrations.boostgpt)
  await t.services.integrations.put('ms', integrations.meltingspot)
  await t.services.integrations.put('generic', integrations.generic)
})
afterEach(async () => {
  vi.useRealTimers()
  await t.close()
})
afterAll(async () => {
  await dsc?.close()
})

/**
 * Saves an integration one millisecond later than the previous save: with the clock frozen, two
 * saves would share `updated_at`, the version the registry caches compiled mappings by.
 */
async function save(id: string, body: object) {
  vi.setSystemTime(Date.now() + 1)
  return t.services.integrations.put(id, body)
}

const incomplete = (integration: string, field: string, reason = 'missing') => ({
  code: 'ERR_ACCOUNT_INCOMPLETE',
  integrationId: integration,
  field,
  reason,
})

describe('known answers (clock frozen at 2026-01-01T00:00:00Z, fixed IV)', () => {
  it('minnit-zero-click: token, embed URL with embed and the percent-encoded ssotoken, escaped iframe', async () => {
    const out = await tokens.issue('minnit', '42')
    expect(out.token).toBe(MINNIT_TOKEN)
    expect(out.url).toBe(
      'https://organizations.minnit.chat/626811533994618/c/Main?embed&ssotoken=%2B%2F%2F%2B%2Ffz7%2Bvn49%2Fb1fQOyNEPu44PJNsS7vG0VPHLnhBhHFG2VHs8pfpVMbYQLpyvGBYSsDOyDN9SWiIggL%2BdrDOjgFL%2FtuUPmHOlD33NAOKckT1u4a42wNffnUBs0d5RqNmn4kkHnRMK6U9S8pgQ%2FRsPqQsa%2BlHd1ny6EHzL8yq%2FNBef1vHHXc0VvEKmfL1XZpmNEgdrftdnV8ttNGNr%2F5tXZBOXPPrYvd3qDN37douGSMKuZNQ%3D%3D',
    )
    // A URL parser gets the token back intact: no `+` turned into a space.
    expect(new URL(out.url!).searchParams.get('ssotoken')).toBe(MINNIT_TOKEN)
    expect(out.html).toBe(
      `<iframe src="${out.url!.replace('&', '&#38;')}" style="border:none;width:90%;height:500px;" allowTransparency="true"></iframe>`,
    )
    expect(out.expires_at).toBe('2026-01-01T01:00:00.000Z')
    expect(JSON.parse(referenceDecrypt(MINNIT_KEY, out.token))).toEqual({
      userid: '42',
      username: 'Rob',
      nickname: 'Robbie',
      rank: 'moderator',
      profile_picture_url: 'https://cdn.example.com/rob.png',
      max_valid_ts: NOW_S + 3600,
    })
  })

  it('boostgpt-jwt: token, the data-user-token script tag and the BoostGPTWidget.init call', async () => {
    const out = await tokens.issue('boostgpt', '42')
    expect(out).toEqual({
      token: BOOSTGPT_TOKEN,
      url: null,
      html: `<script src="https://embed.boostgpt.co/widget.js" data-bot-id="6f1d2c3b-aaaa-4bbb-8ccc-0123456789ab" data-user-token="${BOOSTGPT_TOKEN}"></script>`,
      script: `BoostGPTWidget.init({ botId: "6f1d2c3b-aaaa-4bbb-8ccc-0123456789ab", userToken: "${BOOSTGPT_TOKEN}" });`,
      expires_at: '2026-01-01T01:00:00.000Z',
    })
  })

  it('meltingspot-jwt: token and the /spot/<id>/sso/jwt?ms_token= URL, exp = iat + 60', async () => {
    const out = await tokens.issue('ms', '42')
    expect(out).toEqual({
      token: MELTINGSPOT_TOKEN,
      url: `https://app.meltingspot.io/spot/${SPOT_ID}/sso/jwt?ms_token=${MELTINGSPOT_TOKEN}`,
      html: null,
      expires_at: '2026-01-01T00:01:00.000Z',
    })
    const withReferrer = await tokens.issue('ms', '42', { referrerUrl: `/spot/${SPOT_ID}/lives` })
    expect(withReferrer.url).toBe(
      `https://app.meltingspot.io/spot/${SPOT_ID}/sso/jwt?referrerUrl=%2Fspot%2F${SPOT_ID}%2Flives&ms_token=${MELTINGSPOT_TOKEN}`,
    )
  })

  it('jwt (generic): token with aud, and the target URL with its query parameter added', async () => {
    const out = await tokens.issue('generic', '42')
    expect(out).toEqual({
      token: GENERIC_TOKEN,
      url: `https://platform.example/sso?lang=en&jwt=${GENERIC_TOKEN}`,
      html: null,
      expires_at: '2026-01-01T00:05:00.000Z',
    })
  })

  it('deadsimplechat: the documented Create User request, the chat room URL with accessToken= and the iframe', async () => {
    dsc = await startDscServer(DSC_KEY)
    await save('dsc', integrations.dsc(dsc.url))
    const out = await tokens.issue('dsc', '42')
    expect(dsc.calls).toEqual([
      {
        auth: DSC_KEY,
        contentType: 'application/json',
        body: { username: 'Rob', isModerator: true, externalUserId: '42' },
      },
    ])
    expect(dsc.valid.has(out.token)).toBe(true)
    expect(out).toEqual({
      token: out.token,
      url: `https://deadsimplechat.com/CGOC0byXC?accessToken=${out.token}`,
      html: `<iframe src="https://deadsimplechat.com/CGOC0byXC?accessToken=${out.token}" width="100%" height="600px"></iframe>`,
      expires_at: null,
    })
    await dsc.close()
  })
})

describe('interop', () => {
  it('every JWT verifies with jsonwebtoken (algorithms: [HS256]) under the integration secret, within the platform lifetime', async () => {
    const verify = (token: string, secret: string) =>
      jsonwebtoken.verify(token, secret, {
        algorithms: ['HS256'],
        clockTimestamp: NOW_S,
      }) as Record<string, number>
    const boost = verify((await tokens.issue('boostgpt', '42')).token, BOOSTGPT_SECRET)
    expect(boost).toEqual({
      email: 'rob@example.com',
      name: 'Robbie',
      external_id: '42',
      iat: NOW_S,
      exp: NOW_S + 3600,
    })
    const ms = verify((await tokens.issue('ms', '42')).token, MELTINGSPOT_SECRET)
    expect(ms.exp! - ms.iat!).toBe(60)
    expect(verify((await tokens.issue('generic', '42')).token, GENERIC_SECRET)).toMatchObject({
      sub: '42',
      aud: 'https://platform.example',
    })
    expect(() =>
      jsonwebtoken.verify(BOOSTGPT_TOKEN, BOOSTGPT_SECRET, {
        algorithms: ['HS256'],
        clockTimestamp: NOW_S + 3600,
      }),
    ).toThrow(/expired/)
  })

  it('zero-click tokens made from the documented format alone are decrypted by inspect; ours by the reference', async () => {
    const foreign = referenceEncrypt(
      MINNIT_KEY,
      JSON.stringify({ userid: 7, username: 'Ana', max_valid_ts: NOW_S + 60 }),
    )
    expect(await tokens.inspect('minnit', foreign)).toEqual({
      integration: 'minnit',
      type: 'minnit-zero-click',
      payload: { userid: 7, username: 'Ana', max_valid_ts: NOW_S + 60 },
      expires_at: '2026-01-01T00:01:00.000Z',
      expired: false,
    })
    const ours = await tokens.issue('minnit', '42')
    expect(JSON.parse(referenceDecrypt(MINNIT_KEY, ours.token))).toMatchObject({ userid: '42' })
  })

  it('inspect verifies a JWT with the integration secret and reports expiry (expired tokens are shown, flagged)', async () => {
    const token = (await tokens.issue('boostgpt', '42')).token
    expect(await tokens.inspect('boostgpt', token)).toMatchObject({
      payload: { email: 'rob@example.com' },
      expires_at: '2026-01-01T01:00:00.000Z',
      expired: false,
    })
    vi.setSystemTime(new Date('2026-01-01T01:00:00.000Z'))
    expect(await tokens.inspect('boostgpt', token)).toMatchObject({ expired: true })
    await expect(tokens.inspect('ms', token)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' }) // another integration's key
  })
})

describe('field rules', () => {
  it('a missing required field stops the issue with AccountIncomplete naming the field and the integration', async () => {
    await t.services.accounts.put('nobody', { username: null, email: null })
    await expect(tokens.issue('minnit', 'nobody')).rejects.toMatchObject(
      incomplete('minnit', 'username'),
    )
    await expect(tokens.issue('boostgpt', 'nobody')).rejects.toMatchObject(
      incomplete('boostgpt', 'email'),
    )
    await expect(tokens.issue('ms', 'nobody')).rejects.toMatchObject(incomplete('ms', 'firstName'))
    await t.services.accounts.put('noemail', { given_name: 'A', family_name: 'B' })
    await expect(tokens.issue('ms', 'noemail')).rejects.toMatchObject(incomplete('ms', 'email'))
  })

  it('unknown account and integration are not found; a disabled account gets nothing; oidc integrations issue no tokens', async () => {
    await expect(tokens.issue('minnit', 'ghost')).rejects.toMatchObject({
      code: 'ERR_ACCOUNT_NOT_FOUND',
    })
    await expect(tokens.issue('ghost', '42')).rejects.toMatchObject({
      code: 'ERR_INTEGRATION_NOT_FOUND',
    })
    await t.services.accounts.put('off', {
      ...ROB,
      username: 'Off',
      email: 'off@example.com',
      status: 'disabled',
    })
    await expect(tokens.issue('minnit', 'off')).rejects.toMatchObject({
      code: 'ERR_ACCOUNT_DISABLED',
    })
    await save('rp', { type: 'oidc', settings: { redirect_uris: ['https://rp.example.com/cb'] } })
    await expect(tokens.issue('rp', '42')).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
      issues: [{ path: 'integration' }],
    })
    await expect(tokens.issue('minnit', 42 as unknown as string)).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
      issues: [{ path: 'external_id' }],
    })
  })

  it('meltingspot: strings ≤ 255, a valid email; unusable optional values are left out, the title cut to 255', async () => {
    const long = 'x'.repeat(256)
    await save('ms', {
      ...integrations.meltingspot,
      mapping: { sub: { template: `${long}{external_id}` } },
    })
    await expect(tokens.issue('ms', '42')).rejects.toMatchObject(incomplete('ms', 'sub', 'invalid'))
    await save('ms', { ...integrations.meltingspot, mapping: { email: { const: 'not-an-email' } } })
    await expect(tokens.issue('ms', '42')).rejects.toMatchObject(
      incomplete('ms', 'email', 'invalid'),
    )
    await save('ms', {
      ...integrations.meltingspot,
      mapping: {
        title: { const: 'é'.repeat(300) },
        avatarUrl: { const: 'javascript:alert(1)' },
        lang: { const: 'es' },
        timezone: { const: 'Mars/Olympus' },
      },
    })
    const claims = jsonwebtoken.decode((await tokens.issue('ms', '42')).token) as Record<
      string,
      unknown
    >
    expect(claims).toEqual({
      sub: '42',
      firstName: 'Robert',
      lastName: 'Smith',
      email: 'rob@example.com',
      title: 'é'.repeat(255),
      iat: NOW_S,
      exp: NOW_S + 60,
    })
    await save('ms', {
      ...integrations.meltingspot,
      mapping: {
        avatarUrl: { const: `https://cdn.example.com/${'a'.repeat(250)}` },
        lang: { const: 'de' },
        timezone: { const: 'America/Argentina/Buenos_Aires' },
      },
    })
    expect(jsonwebtoken.decode((await tokens.issue('ms', '42')).token)).toMatchObject({
      lang: 'de',
      timezone: 'America/Argentina/Buenos_Aires',
    })
    expect(jsonwebtoken.decode((await tokens.issue('ms', '42')).token)).not.toHaveProperty(
      'avatarUrl',
    )
  })

  it("minnit: only its five ranks, an http(s) picture, text nickname; max_valid_ts is the door's, never the mapping's", async () => {
    await save('minnit', {
      ...integrations.minnit,
      settings: { ...integrations.minnit.settings, token_ttl: 600 },
      mapping: {
        rank: { const: 'admin' },
        profile_picture_url: { const: 'ftp://x/y.png' },
        nickname: { const: 5 },
        max_valid_ts: { const: 9_999_999_999 },
      },
    })
    const out = await tokens.issue('minnit', '42')
    expect(JSON.parse(referenceDecrypt(MINNIT_KEY, out.token))).toEqual({
      userid: '42',
      username: 'Rob',
      max_valid_ts: NOW_S + 600,
    })
  })

  it('boostgpt: email must be an address; name and external_id are left out when absent; exp never beyond 1 h', async () => {
    await save('boostgpt', { ...integrations.boostgpt, mapping: { email: { const: 'nope' } } })
    await expect(tokens.issue('boostgpt', '42')).rejects.toMatchObject(
      incomplete('boostgpt', 'email', 'invalid'),
    )
    await t.services.accounts.put('7', { email: 'seven@example.com' })
    await save('boostgpt', { ...integrations.boostgpt, mapping: { exp: { const: 9_999_999_999 } } })
    expect(jsonwebtoken.decode((await tokens.issue('boostgpt', '7')).token)).toEqual({
      email: 'seven@example.com',
      external_id: '7',
      iat: NOW_S,
      exp: NOW_S + 3600,
    })
    await expect(
      save('boostgpt', {
        ...integrations.boostgpt,
        settings: { ...integrations.boostgpt.settings, token_ttl: 3601 },
      }),
    ).rejects.toMatchObject({ code: 'ERR_VALIDATION' })
  })

  it('escapes mapped values and settings in the HTML snippets', async () => {
    await save('boostgpt', {
      ...integrations.boostgpt,
      settings: { bot_id: '"><script>alert(1)</script>' },
    })
    const out = await tokens.issue('boostgpt', '42')
    expect(out.html).toContain('data-bot-id="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"')
    expect(out.script).toContain(
      'botId: "\\"\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"',
    )
  })
})

describe('secrets', () => {
  it('rotating a secret invalidates old tokens at once: inspect refuses them, new tokens use the new key', async () => {
    const old = await tokens.issue('minnit', '42')
    const newKey = 'N'.repeat(32)
    await save('minnit', { ...integrations.minnit, secrets: { encryption_key: newKey } })
    await expect(tokens.inspect('minnit', old.token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_INVALID',
    })
    const fresh = await tokens.issue('minnit', '42')
    expect(JSON.parse(referenceDecrypt(newKey, fresh.token))).toMatchObject({ userid: '42' })
    const jwtOld = await tokens.issue('boostgpt', '42')
    await save('boostgpt', { ...integrations.boostgpt, secrets: { sso_secret: 'a'.repeat(64) } })
    await expect(tokens.inspect('boostgpt', jwtOld.token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_INVALID',
    })
    expect(
      jsonwebtoken.verify((await tokens.issue('boostgpt', '42')).token, 'a'.repeat(64), {
        algorithms: ['HS256'],
        clockTimestamp: NOW_S,
      }),
    ).toMatchObject({ email: 'rob@example.com' })
  })

  it('an environment secret that changes is picked up on the next token, without saving the integration', async () => {
    t.env.SSO_BRIDGE_SECRET_MS_KEY = MELTINGSPOT_SECRET
    await save('ms', {
      ...integrations.meltingspot,
      secrets: { jwt_secret: { env: 'SSO_BRIDGE_SECRET_MS_KEY' } },
    })
    expect((await tokens.issue('ms', '42')).token).toBe(MELTINGSPOT_TOKEN)
    t.env.SSO_BRIDGE_SECRET_MS_KEY = 'rotated-meltingspot-key-0123456789abcdef'
    const token = (await tokens.issue('ms', '42')).token
    expect(
      jsonwebtoken.verify(token, 'rotated-meltingspot-key-0123456789abcdef', {
        algorithms: ['HS256'],
        clockTimestamp: NOW_S,
      }),
    ).toMatchObject({ sub: '42' })
  })

  it('keys are imported once per integration version and secret value', async () => {
    const cache = createKeyCache()
    const loaded = await t.services.integrations.load('boostgpt')
    const first = cache.get(loaded, 'sso_secret')
    expect(cache.get(await t.services.integrations.load('boostgpt'), 'sso_secret')).toBe(first)
    vi.setSystemTime(new Date(NOW.getTime() + 1000))
    await save('boostgpt', { ...integrations.boostgpt, settings: { bot_id: 'other' } })
    expect(cache.get(await t.services.integrations.load('boostgpt'), 'sso_secret')).not.toBe(first)
    expect(cache.get(loaded, 'api_key')).toBeUndefined()
  })

  it('a secret of the wrong length or format is refused when the integration is saved', async () => {
    const refused = async (id: string, body: object, path: string) =>
      expect(save(id, body)).rejects.toMatchObject({
        code: 'ERR_VALIDATION',
        issues: [expect.objectContaining({ path })],
      })
    await refused(
      'm2',
      { ...integrations.minnit, secrets: { encryption_key: 'k'.repeat(31) } },
      'secrets.encryption_key',
    )
    await refused(
      'm2',
      { ...integrations.minnit, secrets: { encryption_key: 'é'.repeat(32) } },
      'secrets.encryption_key',
    ) // 64 bytes
    await refused(
      'b2',
      { ...integrations.boostgpt, secrets: { sso_secret: 'g'.repeat(64) } },
      'secrets.sso_secret',
    )
    await refused(
      'b2',
      { ...integrations.boostgpt, secrets: { sso_secret: 'f'.repeat(63) } },
      'secrets.sso_secret',
    )
    await refused(
      'ms2',
      { ...integrations.meltingspot, secrets: { jwt_secret: 'short' } },
      'secrets.jwt_secret',
    )
    await refused(
      'ms2',
      { ...integrations.meltingspot, secrets: { jwt_secret: ` ${MELTINGSPOT_SECRET}` } },
      'secrets.jwt_secret',
    )
    await refused(
      'd2',
      {
        ...integrations.dsc('https://api.deadsimplechat.com'),
        secrets: { private_key: 'has space' },
      },
      'secrets.private_key',
    )
    await refused(
      'g2',
      { ...integrations.generic, secrets: { secret: GENERIC_SECRET, api_key: 'too-short' } },
      'secrets.api_key',
    )
  })
})
