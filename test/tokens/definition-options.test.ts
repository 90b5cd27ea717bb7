/**
 * The platform definition's options the older platforms brought with them (#15: Minnit,
 * BoostGPT, MeltingSpot and the generic JWT moved onto definePlatform): field rules that keep a
 * number id a number and accept only IANA time zones; a JWT claim no mapping may set; a
 * delivery that checks the request's options before anything is mapped or signed, and says
 * where a redirect with no URL is refused. Over the real app and store, tokens decoded by
 * jsonwebtoken.
 */
import jsonwebtoken from 'jsonwebtoken'
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { applyFieldRules } from '../../src/tokens/field-rules.ts'
import { ADMIN_TOKEN } from '../helpers/app.ts'
import { GENERIC_SECRET, integrations, SPOT_ID } from './helpers/fixtures.ts'
import { closeDefined, definedSetup, incomplete, type DefinedSetup } from './helpers/defined.ts'
import { referenceDecrypt } from './helpers/minnit-reference.ts'

let s: DefinedSetup | undefined
afterEach(async () => {
  await closeDefined(s)
  s = undefined
})

const claims = (token: string) => jsonwebtoken.decode(token) as Record<string, unknown>

describe('field rules', () => {
  it("'id' with keepNumber leaves a number a JSON number; without, it becomes its string", () => {
    const rules = {
      kept: { kind: 'id', required: true, keepNumber: true },
      optional: { kind: 'id', keepNumber: true },
      plain: { kind: 'id' },
    } as const
    expect(applyFieldRules({ kept: 7, optional: 1.5, plain: 9 }, rules, 'i')).toEqual({
      kept: 7,
      optional: 1.5,
      plain: '9',
    })
    // Strings are still checked as text: a blank optional one is left out.
    expect(applyFieldRules({ kept: 'a', optional: '  ' }, rules, 'i')).toEqual({ kept: 'a' })
    expect(() => applyFieldRules({ kept: true }, rules, 'i')).toThrow(
      expect.objectContaining(incomplete('i', 'kept', 'invalid')),
    )
  })

  it("'timezone' keeps IANA names only; required, a missing or unknown zone is AccountIncomplete", () => {
    const optional = { tz: { kind: 'timezone' } } as const
    expect(applyFieldRules({ tz: 'Europe/Paris' }, optional, 'i')).toEqual({ tz: 'Europe/Paris' })
    for (const tz of ['Mars/Olympus', 'europe/paris', '  ', 5])
      expect(applyFieldRules({ tz }, optional, 'i'), String(tz)).toEqual({})
    const required = { tz: { kind: 'timezone', required: true } } as const
    expect(() => applyFieldRules({}, required, 'i')).toThrow(
      expect.objectContaining(incomplete('i', 'tz')),
    )
    expect(() => applyFieldRules({ tz: 'Mars/Olympus' }, required, 'i')).toThrow(
      expect.objectContaining(incomplete('i', 'tz', 'invalid')),
    )
  })

  it('minnit: a userid mapped to a number is encrypted as a number, as the document shows', async () => {
    s = await definedSetup('minnit', {
      ...integrations.minnit,
      mapping: { userid: { const: 1 } },
    })
    const out = await s.tokens.issue('minnit', '42')
    expect(
      JSON.parse(referenceDecrypt(integrations.minnit.secrets.encryption_key, out.token)),
    ).toMatchObject({ userid: 1, username: 'Rob' })
  })
})

describe('jwtBuilder reserved', () => {
  it('generic jwt: a mapped aud never reaches the token, with or without a configured audience', async () => {
    s = await definedSetup('g', {
      ...integrations.generic,
      settings: { target_url: 'https://platform.example/sso' },
      mapping: { aud: { const: 'https://attacker.example' } },
    })
    expect(claims((await s.tokens.issue('g', '42')).token)).not.toHaveProperty('aud')
    await s.t.services.integrations.put('g2', {
      ...integrations.generic,
      mapping: { aud: { const: 'https://attacker.example' } },
    })
    const token = (await s.tokens.issue('g2', '42')).token
    expect(jsonwebtoken.verify(token, GENERIC_SECRET, { algorithms: ['HS256'] })).toMatchObject({
      aud: 'https://platform.example',
    })
  })
})

describe('Delivery.check and Delivery.noUrl', () => {
  it("meltingspot: another host's redirect_url is refused before the member's fields are looked at", async () => {
    s = await definedSetup('ms', integrations.meltingspot)
    // This member lacks firstName: were the fields checked first, the answer would be 422.
    await s.t.services.accounts.put('nameless', { email: 'n@example.com' })
    const res = await request(s.t.app)
      .post('/api/v1/integrations/ms/tokens')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ external_id: 'nameless', redirect_url: 'https://evil.example/spot/x/sso/jwt' })
    expect([res.status, res.body.error]).toEqual([400, 'validation_failed'])
    expect(res.body.details.issues[0].path).toBe('redirectUrl')
    const ok = await request(s.t.app)
      .post('/api/v1/integrations/ms/tokens')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({
        external_id: '42',
        redirect_url: `https://app.meltingspot.io/spot/${SPOT_ID}/sso/jwt?referrerUrl=/spot/${SPOT_ID}/lives`,
      })
    expect(ok.status).toBe(200)
    expect(new URL(ok.body.url).searchParams.get('referrerUrl')).toBe(`/spot/${SPOT_ID}/lives`)
    expect(new URL(ok.body.url).searchParams.get('ms_token')).toBe(ok.body.token)
  })

  it('generic jwt without target_url: tokens are issued, a redirect is refused at settings.target_url', async () => {
    s = await definedSetup('g', { ...integrations.generic, settings: {} })
    expect((await s.tokens.issue('g', '42')).url).toBeNull()
    const loaded = await s.tokens.load('g')
    expect(() => s!.tokens.redirectCheck(loaded, {})).toThrow(
      expect.objectContaining({
        code: 'ERR_VALIDATION',
        issues: [
          {
            path: 'settings.target_url',
            message: 'is not set on g: there is no URL to redirect to',
          },
        ],
      }),
    )
  })
})
