/**
 * Disqus single sign-on (tokens/platforms/disqus.ts), against its document:
 * https://help.disqus.com/en/articles/1717160-integrating-single-sign-on ("Using HMAC-SHA1 to
 * pass user data") and Disqus's own samples (github.com/disqus/DISQUS-API-Recipes, sso/). The
 * known answer (fixed key and clock) was computed with Python's base64 and hmac; a PHP verifier
 * written from the document (base64_decode, hash_hmac('sha1', "$message $timestamp")) checks
 * every issued value.
 */
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN } from '../../helpers/app.ts'
import { NOW_S } from '../helpers/fixtures.ts'
import { PHP, runForeign } from '../helpers/foreign.ts'
import { closeDefined, definedSetup, incomplete, type DefinedSetup } from '../helpers/defined.ts'

const SECRET = 'disqus-secret-key-0123456789abcdef'
const PUBLIC = 'PUBLICKEY0123456789'
const MESSAGE =
  'eyJpZCI6IjQyIiwidXNlcm5hbWUiOiJSb2IiLCJlbWFpbCI6InJvYkBleGFtcGxlLmNvbSIsImF2YXRhciI6Imh0dHBzOi8vY2RuLmV4YW1wbGUuY29tL3JvYi5wbmcifQ=='
const SIG = '06584126d386cfdeb5057aee3b1aaafd8c9a61e6'
const REMOTE_AUTH = `${MESSAGE} ${SIG} ${NOW_S}`

/** The document's check, in PHP: split, recompute the HMAC-SHA1 of "message timestamp", decode. */
const PHP_VERIFY = `$in = json_decode(stream_get_contents(STDIN), true);
[$message, $sig, $ts] = explode(' ', $in['remote_auth_s3']);
if (!hash_equals(hash_hmac('sha1', "$message $ts", $in['key']), $sig)) { echo 'BAD'; exit; }
echo json_encode(['user' => json_decode(base64_decode($message), true), 'ts' => (int) $ts]);`

let s: DefinedSetup | undefined
beforeEach(async () => {
  s = await definedSetup('dq', {
    type: 'disqus',
    settings: { public_key: PUBLIC },
    secrets: { secret_key: SECRET },
  })
})
afterEach(async () => closeDefined(s))

describe('disqus', () => {
  it('known answer: remote_auth_s3 = "<base64 JSON> <HMAC-SHA1 hex> <timestamp>" in disqus_config', async () => {
    const out = await s!.tokens.issue('dq', '42')
    const config = `var disqus_config = function () { this.page.remote_auth_s3 = "${REMOTE_AUTH}"; this.page.api_key = "${PUBLIC}"; };`
    expect(out).toEqual({
      token: REMOTE_AUTH,
      url: null,
      html: `<script>${config}</script>`,
      script: config,
      expires_at: null,
    })
  })

  it('a PHP verifier written from the document accepts it and reads the user back', async () => {
    await s!.t.services.accounts.put('x-9', { username: 'Zoë </script>', email: 'z@example.com' })
    for (const member of ['42', 'x-9']) {
      const out = await s!.tokens.issue('dq', member)
      const php = JSON.parse(
        runForeign(PHP, PHP_VERIFY, { remote_auth_s3: out.token, key: SECRET }),
      ) as { user: Record<string, string>; ts: number }
      expect(php.ts).toBe(NOW_S)
      expect(php.user).toMatchObject({
        id: member,
        email: member === '42' ? 'rob@example.com' : 'z@example.com',
      })
      // The value sits in a script: nothing in it can close the tag.
      expect(out.html).not.toMatch(/<\/script>.*<\/script>/)
    }
    expect(runForeign(PHP, PHP_VERIFY, { remote_auth_s3: REMOTE_AUTH, key: 'another-key' })).toBe(
      'BAD',
    )
  })

  it('inspect verifies and decodes; a changed timestamp or message is token_invalid', async () => {
    expect(await s!.tokens.inspect('dq', REMOTE_AUTH)).toMatchObject({
      payload: { id: '42', username: 'Rob', email: 'rob@example.com' },
    })
    for (const bad of [`${MESSAGE} ${SIG} ${NOW_S + 1}`, `e30= ${SIG} ${NOW_S}`, MESSAGE, ''])
      await expect(s!.tokens.inspect('dq', bad || ' ')).rejects.toMatchObject({
        code: bad ? 'ERR_TOKEN_INVALID' : 'ERR_VALIDATION',
      })
  })

  it('id, username and email are required: 422 account_incomplete, nothing issued', async () => {
    await s!.t.services.accounts.put('no-mail', { username: 'NoMail' })
    await expect(s!.tokens.issue('dq', 'no-mail')).rejects.toMatchObject(incomplete('dq', 'email'))
    const res = await request(s!.t.app)
      .post('/api/v1/integrations/dq/dry-run')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ external_id: 'no-mail' })
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({ error: 'account_incomplete' })
  })

  it('dry run: the JSON, the exact "message timestamp" signed, the signature, the timestamp, the snippet', async () => {
    const out = await s!.tokens.dryRun('dq', { external_id: '42' })
    expect(out).toMatchObject({
      algorithm: 'HMAC-SHA-1 (hex)',
      payload: { id: '42', username: 'Rob', email: 'rob@example.com' },
      signed: `${MESSAGE} ${NOW_S}`,
      signature: SIG,
      parts: { timestamp: String(NOW_S) },
      token: REMOTE_AUTH,
    })
    expect(out.snippet.html).toContain('remote_auth_s3')
    expect(JSON.stringify(out)).not.toContain(SECRET)
  })
})
