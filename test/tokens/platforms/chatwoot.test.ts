/**
 * Chatwoot identity validation (tokens/platforms/chatwoot.ts), against its document:
 * https://www.chatwoot.com/docs/product/channels/live-chat/sdk/identity-validation/ —
 * `identifier_hash` = hex HMAC-SHA256 of the identifier under the inbox's HMAC token, given to
 * `window.$chatwoot.setUser(identifier, {…, identifier_hash})`. The known answer was computed
 * with Python's hmac; PHP's `hash_hmac` (the doc's own PHP sample) checks every issued hash.
 */
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN } from '../../helpers/app.ts'
import { PHP, runForeign } from '../helpers/foreign.ts'
import { closeDefined, definedSetup, incomplete, type DefinedSetup } from '../helpers/defined.ts'

const TOKEN = 'chatwoot-hmac-token-0123456789'
/** hmac.new(b'chatwoot-hmac-token-0123456789', b'42', hashlib.sha256).hexdigest() */
const HASH = 'dc04bfcf4f23f9e2033f613661382ad9007286d2f74ecfdd63f531742df25d71'

let s: DefinedSetup | undefined
beforeEach(async () => {
  s = await definedSetup('cw', { type: 'chatwoot', settings: {}, secrets: { hmac_token: TOKEN } })
})
afterEach(async () => closeDefined(s))

describe('chatwoot', () => {
  it('known answer: the identifier_hash and the setUser call', async () => {
    const out = await s!.tokens.issue('cw', '42')
    expect(out).toEqual({
      token: HASH,
      url: null,
      html: null,
      expires_at: null,
      script: `window.$chatwoot.setUser("42", { name: "Robbie", email: "rob@example.com", avatar_url: "https://cdn.example.com/rob.png", identifier_hash: "${HASH}" });`,
    })
  })

  it("PHP's hash_hmac, as in the doc, agrees", async () => {
    await s!.t.services.accounts.put('x-9', { username: 'Ünïcode', email: 'u@example.com' })
    for (const member of ['42', 'x-9']) {
      const out = await s!.tokens.issue('cw', member)
      const php = runForeign(
        PHP,
        `$in = json_decode(stream_get_contents(STDIN), true);
         echo hash_hmac('sha256', $in['identifier'], $in['key']);`,
        { identifier: member, key: TOKEN },
      )
      expect(out.token).toBe(php)
    }
  })

  it('inspect: "<identifier> <hash>" verifies; any other hash or identifier is token_invalid', async () => {
    expect(await s!.tokens.inspect('cw', `42 ${HASH}`)).toMatchObject({
      payload: { message: '42' },
      expired: false,
    })
    await expect(s!.tokens.inspect('cw', `43 ${HASH}`)).rejects.toMatchObject({
      code: 'ERR_TOKEN_INVALID',
    })
    await expect(s!.tokens.inspect('cw', HASH)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
  })

  it('a member without the identifier gets 422 account_incomplete and nothing', async () => {
    await s!.t.services.integrations.put('cw', {
      type: 'chatwoot',
      settings: {},
      mapping: { identifier: 'profile.chatwoot_id' },
      secrets: { hmac_token: TOKEN },
    })
    await expect(s!.tokens.issue('cw', '42')).rejects.toMatchObject(incomplete('cw', 'identifier'))
    const res = await request(s!.t.app)
      .post('/api/v1/integrations/cw/tokens')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ external_id: '42' })
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({ error: 'account_incomplete' })
    expect(JSON.stringify(res.body)).not.toContain(TOKEN)
  })

  it('dry run: the identifier signed, the hash, the call to paste — never the HMAC token', async () => {
    const res = await request(s!.t.app)
      .post('/api/v1/integrations/cw/dry-run')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ username: 'rob' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      integration: 'cw',
      type: 'chatwoot',
      member: { external_id: '42' },
      algorithm: 'HMAC-SHA-256 (hex)',
      payload: { identifier: '42', name: 'Robbie', email: 'rob@example.com' },
      signed: '42',
      signature: HASH,
      token: HASH,
    })
    expect(res.body.snippet.script).toContain(`identifier_hash: "${HASH}"`)
    expect(JSON.stringify(res.body)).not.toContain(TOKEN)
  })
})
