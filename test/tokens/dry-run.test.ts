/**
 * The dry-run inspector (`POST /api/v1/integrations/{id}/dry-run`, `sso-bridge dry-run`) for the
 * platforms that predate the platform definition — Minnit, BoostGPT, MeltingSpot, the generic
 * JWT, Dead Simple Chat — over the real app and store. Each answer is checked against the
 * token independently: a JWT's signing input and signature recomputed with node:crypto under
 * the secret, Minnit's JSON decrypted by the reference implementation written from its
 * document; Dead Simple Chat's dry run calls nothing. Then bad input: no member, two members,
 * an unknown one, a disabled one, an OIDC integration, an unknown integration, no admin token.
 */
import { createHmac } from 'node:crypto'
import request from 'supertest'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ADMIN_TOKEN, makeTestApp, type TestApp } from '../helpers/app.ts'
import { cliSandbox, removeSandboxes } from '../helpers/cli.ts'
import { startDscServer, type DscServer } from './helpers/dsc-server.ts'
import {
  BOOSTGPT_SECRET,
  DSC_KEY,
  GENERIC_SECRET,
  integrations,
  MELTINGSPOT_SECRET,
  MINNIT_KEY,
  NOW,
  ROB,
} from './helpers/fixtures.ts'
import { referenceDecrypt } from './helpers/minnit-reference.ts'

let t: TestApp
let dsc: DscServer | undefined
beforeEach(async () => {
  vi.setSystemTime(NOW)
  t = makeTestApp()
  await t.services.accounts.put('42', ROB)
  await t.services.integrations.put('minnit', integrations.minnit)
  await t.services.integrations.put('boostgpt', integrations.boostgpt)
  await t.services.integrations.put('ms', integrations.meltingspot)
  await t.services.integrations.put('generic', integrations.generic)
})
afterEach(async () => {
  vi.useRealTimers()
  await t.close()
  await dsc?.close()
  dsc = undefined
})
afterAll(removeSandboxes)

const dryRun = (id: string, body: unknown, auth = `Bearer ${ADMIN_TOKEN}`) =>
  request(t.app)
    .post(`/api/v1/integrations/${id}/dry-run`)
    .set('Authorization', auth)
    .send(body as object)

describe('dry run of the older platforms', () => {
  it.each([
    ['boostgpt', BOOSTGPT_SECRET, { email: 'rob@example.com', name: 'Robbie', external_id: '42' }],
    ['ms', MELTINGSPOT_SECRET, { sub: '42', firstName: 'Robert', email: 'rob@example.com' }],
    ['generic', GENERIC_SECRET, { sub: '42', aud: 'https://platform.example' }],
  ] as const)(
    '%s: header, claims, the exact signing input and its HS256 signature; the key never shown',
    async (id, secret, claims) => {
      const res = await dryRun(id, { external_id: '42' })
      expect(res.status).toBe(200)
      const out = res.body as {
        signed: string
        signature: string
        token: string
        payload: object
        header: object
      }
      expect(out).toMatchObject({
        integration: id,
        algorithm: 'HS256',
        member: { external_id: '42' },
      })
      expect(out.header).toEqual({ alg: 'HS256', typ: 'JWT' })
      expect(out.payload).toMatchObject(claims)
      expect(`${out.signed}.${out.signature}`).toBe(out.token)
      expect(createHmac('sha256', secret).update(out.signed).digest('base64url')).toBe(
        out.signature,
      )
      expect(JSON.parse(Buffer.from(out.signed.split('.')[1]!, 'base64url').toString())).toEqual(
        out.payload,
      )
      expect(JSON.stringify(out)).not.toContain(secret)
    },
  )

  it('minnit: the JSON encrypted (as the reference decrypts it), the IV and the ciphertext, the embed snippet', async () => {
    const res = await dryRun('minnit', { username: 'rob' })
    expect(res.status).toBe(200)
    const out = res.body as {
      signed: string
      signature: string
      token: string
      parts: { iv: string; tag: string }
      payload: object
      snippet: { url: string; html: string }
    }
    expect(referenceDecrypt(MINNIT_KEY, out.token)).toBe(out.signed)
    expect(JSON.parse(out.signed)).toEqual(out.payload)
    expect(out.payload).toMatchObject({ userid: '42', username: 'Rob' })
    const raw = Buffer.from(out.token, 'base64')
    expect(raw.subarray(0, 12).toString('base64')).toBe(out.parts.iv)
    expect(raw.subarray(12).toString('base64')).toBe(out.signature)
    expect(out.snippet.html).toContain('<iframe')
    expect(JSON.stringify(out)).not.toContain(MINNIT_KEY)
  })

  it('deadsimplechat: the Create User body that would be sent, and no call to the platform', async () => {
    dsc = await startDscServer(DSC_KEY)
    await t.services.integrations.put('dsc', integrations.dsc(dsc.url))
    const res = await dryRun('dsc', { external_id: '42' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      payload: { username: 'Rob', isModerator: true, externalUserId: '42' },
      signed: null,
      signature: null,
      token: null,
    })
    expect(res.body.algorithm).toContain('/consumer/api/v1/user')
    expect(dsc.calls).toEqual([])
    expect(JSON.stringify(res.body)).not.toContain(DSC_KEY)
  })
})

describe('dry run: bad input changes nothing and gets a stable 4xx', () => {
  it('member: none, two, not a string, unknown, disabled; integration: oidc, unknown; no admin token', async () => {
    await t.services.accounts.put('off', {
      username: 'Off',
      email: 'off@example.com',
      status: 'disabled',
    })
    await t.services.integrations.put('rp', {
      type: 'oidc',
      settings: { redirect_uris: ['https://rp.example.com/cb'] },
    })
    const cases: [string, unknown, number, string][] = [
      ['boostgpt', {}, 400, 'validation_failed'],
      ['boostgpt', { external_id: '42', username: 'rob' }, 400, 'validation_failed'],
      ['boostgpt', { external_id: 42 }, 400, 'validation_failed'],
      ['boostgpt', [], 400, 'validation_failed'],
      ['boostgpt', { external_id: 'ghost' }, 404, 'user_not_found'],
      ['boostgpt', { username: 'ghost' }, 404, 'user_not_found'],
      ['boostgpt', { id: 'ghost' }, 404, 'user_not_found'],
      ['boostgpt', { external_id: 'off' }, 403, 'account_disabled'],
      ['rp', { external_id: '42' }, 400, 'validation_failed'],
      ['ghost', { external_id: '42' }, 404, 'integration_not_found'],
    ]
    for (const [id, body, status, error] of cases) {
      const res = await dryRun(id, body)
      expect([id, body, res.status, res.body.error]).toEqual([id, body, status, error])
    }
    expect((await dryRun('boostgpt', { external_id: '42' }, 'Bearer wrong')).status).toBe(401)
    // Nothing was recorded as issued: a dry run is no token request.
    expect(t.logText()).not.toContain(BOOSTGPT_SECRET)
  })
})

describe('sso-bridge dry-run', () => {
  it('names the member by external_id, internal id or username; --by; user_not_found on stderr', async () => {
    const { cli } = await cliSandbox('sso-bridge-dry-run-cli-')
    await cli(['users', 'put', '42', '--file', '-'], { input: JSON.stringify(ROB) })
    await cli(['integrations', 'put', 'boost', '--file', '-'], {
      input: JSON.stringify(integrations.boostgpt),
    })
    const byExternal = await cli(['dry-run', 'boost', '42'])
    expect(byExternal.code, byExternal.stderr).toBe(0)
    const out = JSON.parse(byExternal.stdout) as { member: { id: string }; signature: string }
    expect(out).toMatchObject({
      integration: 'boost',
      algorithm: 'HS256',
      member: { external_id: '42' },
    })
    const byUsername = JSON.parse((await cli(['dry-run', 'boost', 'Rob'])).stdout) as typeof out
    const byId = JSON.parse((await cli(['dry-run', 'boost', out.member.id])).stdout) as typeof out
    expect([byUsername.member, byId.member]).toEqual([out.member, out.member])
    expect((await cli(['dry-run', 'boost', 'Rob', '--by', 'external_id'])).code).toBe(1)
    const ghost = await cli(['dry-run', 'boost', 'ghost'])
    expect(ghost.code).toBe(1)
    expect(ghost.stderr).toContain('user_not_found')
    expect(ghost.stdout + byExternal.stdout).not.toContain(BOOSTGPT_SECRET)
  })
})
