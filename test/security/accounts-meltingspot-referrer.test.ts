/**
 * Issue #10, accounts part — MeltingSpot `referrerUrl`: a double-encoded dot segment
 * (`%252e%252e`) passed the path check (only one layer of encoding was looked at), so a hop that
 * decodes once more could leave the spot's path. Any encoding that decodes into a dot segment,
 * a slash or a backslash is refused, however many times it is encoded. Real app, real store;
 * the redirect's token is checked with jsonwebtoken.
 */
import jsonwebtoken from 'jsonwebtoken'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { checkReferrerUrl } from '../../src/tokens/platforms/meltingspot-jwt.ts'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import {
  integrations,
  MELTINGSPOT_SECRET,
  ROB,
  sessionCookie,
  SPOT_ID,
} from '../tokens/helpers/fixtures.ts'

const SSO = `https://app.meltingspot.io/spot/${SPOT_ID}/sso/jwt`
const encodeTimes = (s: string, n: number) =>
  Array.from({ length: n }).reduce<string>((v) => encodeURIComponent(v), s)
/** Percent-encodes every character of `s` (encodeURIComponent leaves dots alone). */
const encodeAll = (s: string) =>
  [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')

let t: TestApp
let cookie: string
beforeEach(async () => {
  t = makeTestApp()
  await t.services.accounts.put('42', ROB)
  await t.services.integrations.put('ms', integrations.meltingspot)
  cookie = await sessionCookie(t, '42')
})
afterEach(async () => t.close())

const go = (query: Record<string, string>) =>
  request(t.app)
    .get('/tokens/ms/redirect')
    .query(query)
    .set('Accept', 'text/html')
    .set('Cookie', cookie)

describe('accounts: MeltingSpot referrerUrl refuses dot segments and slashes at any encoding depth (defect: %252e%252e passed)', () => {
  const refused: Record<string, string> = {
    'double-encoded dots (%252e%252e)': `/spot/${SPOT_ID}/%252e%252e/%252e%252e/other-spot`,
    'double-encoded slash (%252f)': `/spot/${SPOT_ID}/a%252f..%252f..%252fother`,
    'double-encoded backslash (%255c)': `/spot/${SPOT_ID}/%255c%255cevil.example`,
    'triple-encoded dots': `/spot/${SPOT_ID}/${encodeTimes(encodeAll('..'), 2)}/other`,
    'quadruple-encoded dots': `/spot/${SPOT_ID}/${encodeTimes(encodeAll('..'), 3)}/other`,
    'mixed case %252E': `/spot/${SPOT_ID}/%252E%252E/other`,
    'encoded control character after decoding': `/spot/${SPOT_ID}/%250aSet-Cookie:x`,
    'encoded too deep to check': `/spot/${SPOT_ID}/${encodeTimes('%41', 6)}`,
    'malformed encoding': `/spot/${SPOT_ID}/%E0%A4%A`,
  }

  it.each(Object.entries(refused))(
    '%s: 400 in flow (a), inside redirectUrl (flow b) and on the token API; no token',
    async (_name, referrerUrl) => {
      for (const query of [
        { referrerUrl },
        { redirectUrl: `${SSO}?referrerUrl=${encodeURIComponent(referrerUrl)}` },
      ] as Record<string, string>[]) {
        const res = await go(query)
        expect(res.status, JSON.stringify(query)).toBe(400)
        expect(res.headers.location).toBeUndefined()
        expect(res.text).not.toContain('ms_token')
      }
      const api = await request(t.app)
        .post('/api/v1/integrations/ms/tokens')
        .set(auth)
        .send({ external_id: '42', referrer_url: referrerUrl })
      expect(api.status).toBe(400)
      expect(api.body).toMatchObject({
        error: 'validation_failed',
        details: { issues: [{ path: 'referrerUrl' }] },
      })
      expect(() => checkReferrerUrl(referrerUrl, SPOT_ID)).toThrow(
        expect.objectContaining({ code: 'ERR_VALIDATION' }),
      )
    },
  )

  it('ordinary paths, with an encoded space or letter, still land on the spot', async () => {
    for (const referrerUrl of [
      `/spot/${SPOT_ID}/lives`,
      `/spot/${SPOT_ID}/a%20b`,
      `/spot/${SPOT_ID}/caf%C3%A9?tab=1`,
    ]) {
      const res = await go({ referrerUrl })
      expect(res.status, referrerUrl).toBe(302)
      const target = new URL(res.headers.location!)
      expect(
        jsonwebtoken.verify(target.searchParams.get('ms_token')!, MELTINGSPOT_SECRET, {
          algorithms: ['HS256'],
        }),
      ).toMatchObject({ sub: '42' })
      expect(target.searchParams.get('referrerUrl')).toBe(referrerUrl)
    }
  })
})
