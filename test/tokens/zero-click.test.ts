/**
 * Minnit's zero-click format (tokens/zero-click.ts): a known answer computed with the doc's own
 * PHP `encrypt()` (openssl_encrypt, IV fixed instead of random), interop both ways with an
 * implementation written from the doc alone, and one opaque error for every bad token.
 */
import { createSecretKey } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import {
  issueZeroClickToken,
  verifyZeroClickToken,
  zeroClickKey,
} from '../../src/tokens/zero-click.ts'
import { FIXED_IV, MINNIT_KEY } from './helpers/fixtures.ts'
import { referenceDecrypt, referenceEncrypt } from './helpers/minnit-reference.ts'

const JSON_TEXT =
  '{"userid":"42","username":"Rob","nickname":"Robbie","rank":"moderator","profile_picture_url":"https://cdn.example.com/rob.png","max_valid_ts":1767229200}'
/** `php` running the doc's encrypt() with iv = FIXED_IV over JSON_TEXT (see the PHP block below). */
const PHP_TOKEN =
  '+//+/fz7+vn49/b1fQOyNEPu44PJNsS7vG0VPHLnhBhHFG2VHs8pfpVMbYQLpyvGBYSsDOyDN9SWiIggL+drDOjgFL/tuUPmHOlD33NAOKckT1u4a42wNffnUBs0d5RqNmn4kkHnRMK6U9S8pgQ/RsPqQsa+lHd1ny6EHzL8yq/NBef1vHHXc0VvEKmfL1XZpmNEgdrftdnV8ttNGNr/5tXZBOXPPrYvd3qDN37douGSMKuZNQ=='

const key = zeroClickKey(MINNIT_KEY)
const invalid = { code: 'ERR_TOKEN_INVALID' }

describe('zero-click token (AES-256-GCM)', () => {
  it("known answer: the same bytes as the doc's PHP encrypt() with the same IV", () => {
    expect(issueZeroClickToken(key, JSON_TEXT, FIXED_IV)).toBe(PHP_TOKEN)
    expect(referenceEncrypt(MINNIT_KEY, JSON_TEXT, FIXED_IV)).toBe(PHP_TOKEN)
  })

  const php = (() => {
    try {
      return (
        execFileSync('php', ['-r', 'echo function_exists("openssl_encrypt") ? "yes" : "no";'], {
          encoding: 'utf8',
        }) === 'yes'
      )
    } catch {
      return false
    }
  })()
  it.runIf(php)(
    "the doc's PHP code, run as written (random IV), makes tokens we decrypt; PHP decrypts ours",
    () => {
      const script = `
function encrypt($key, $textToEncrypt) {
$tag_length = 16;
$iv_len = 12;
$iv = openssl_random_pseudo_bytes($iv_len);
$tag = "";
$ciphertext = openssl_encrypt($textToEncrypt, "aes-256-gcm", $key, OPENSSL_RAW_DATA, $iv, $tag, "", $tag_length);
return base64_encode($iv . $ciphertext . $tag);
}
$encryptionKey = 'z8pkH$jjNEWEEEe*DwThe4K2iDtjDwYQ';
echo encrypt($encryptionKey, json_encode(array("userid" => "1", "username" => "Minnit", "nickname" => "Minnit Chat", "profile_picture_url" => "https://minnit.chat/images/hotlink-ok/fav64.png", "max_valid_ts" => 1767229200)));`
      const token = execFileSync('php', ['-r', script], { encoding: 'utf8' })
      expect(verifyZeroClickToken(key, token)).toEqual({
        userid: '1',
        username: 'Minnit',
        nickname: 'Minnit Chat',
        profile_picture_url: 'https://minnit.chat/images/hotlink-ok/fav64.png',
        max_valid_ts: 1767229200,
      })
      const ours = issueZeroClickToken(key, JSON_TEXT, Buffer.alloc(12, 7))
      const decrypt = `$raw = base64_decode('${ours}'); $tag = substr($raw, -16); echo openssl_decrypt(substr($raw, 12, -16), "aes-256-gcm", 'z8pkH$jjNEWEEEe*DwThe4K2iDtjDwYQ', OPENSSL_RAW_DATA, substr($raw, 0, 12), $tag);`
      expect(execFileSync('php', ['-r', decrypt], { encoding: 'utf8' })).toBe(JSON_TEXT)
    },
  )

  it('interop: the reference implementation decrypts ours, and we decrypt its tokens', () => {
    for (let i = 0; i < 20; i++) {
      const text = JSON.stringify({
        userid: String(i),
        username: `user-${i}`,
        nickname: 'ü ✓ "quoted" </script>',
        max_valid_ts: 1767229200 + i,
      })
      const ours = issueZeroClickToken(key, text, Buffer.from(`iv-${String(i).padStart(9, '0')}`))
      expect(referenceDecrypt(MINNIT_KEY, ours)).toBe(text)
      expect(verifyZeroClickToken(key, referenceEncrypt(MINNIT_KEY, text))).toEqual(
        JSON.parse(text),
      )
    }
  })

  it('token layout: standard base64 of iv (12) ‖ ciphertext (as long as the JSON) ‖ tag (16)', () => {
    const raw = Buffer.from(PHP_TOKEN, 'base64')
    expect(raw.subarray(0, 12)).toEqual(FIXED_IV)
    expect(raw.length).toBe(12 + Buffer.byteLength(JSON_TEXT) + 16)
    expect(PHP_TOKEN).toMatch(/^[A-Za-z0-9+/]+=*$/)
  })

  it('reads a token whose + became a space (the PHP sample puts it in a URL unencoded) or that is still percent-encoded', () => {
    expect(verifyZeroClickToken(key, PHP_TOKEN.replaceAll('+', ' '))).toMatchObject({
      userid: '42',
    })
    expect(verifyZeroClickToken(key, encodeURIComponent(PHP_TOKEN))).toMatchObject({ userid: '42' })
  })

  it('every failure is the same opaque TokenInvalid: tampered iv, ciphertext or tag, wrong key, truncated, not base64, not JSON', () => {
    const raw = Buffer.from(PHP_TOKEN, 'base64')
    const flip = (i: number) => {
      const copy = Buffer.from(raw)
      copy[i] = copy[i]! ^ 1
      return copy.toString('base64')
    }
    const wrongKey = zeroClickKey('A'.repeat(32))
    const cases: [string, () => unknown][] = [
      ['iv', () => verifyZeroClickToken(key, flip(0))],
      ['ciphertext', () => verifyZeroClickToken(key, flip(20))],
      ['tag', () => verifyZeroClickToken(key, flip(raw.length - 1))],
      ['wrong key', () => verifyZeroClickToken(wrongKey, PHP_TOKEN)],
      ['truncated', () => verifyZeroClickToken(key, raw.subarray(0, 27).toString('base64'))],
      ['empty', () => verifyZeroClickToken(key, '')],
      ['not base64', () => verifyZeroClickToken(key, 'not a token!')],
      ['a JWT', () => verifyZeroClickToken(key, 'eyJhbGciOiJIUzI1NiJ9.e30.x')],
      [
        'JSON but not an object',
        () => verifyZeroClickToken(key, issueZeroClickToken(key, '[1,2]', FIXED_IV)),
      ],
      ['not JSON', () => verifyZeroClickToken(key, issueZeroClickToken(key, 'hello', FIXED_IV))],
    ]
    const messages = new Set<string>()
    for (const [name, fn] of cases) {
      let caught: unknown
      try {
        fn()
      } catch (err) {
        caught = err
      }
      expect(caught, name).toMatchObject(invalid)
      messages.add((caught as Error).message)
    }
    expect(messages.size).toBe(1)
  })

  it('a key must be exactly 32 bytes (a 32-character key is the raw AES-256 key); the IV exactly 12', () => {
    expect(() => zeroClickKey('k'.repeat(31))).toThrow(TypeError)
    expect(() => zeroClickKey('é'.repeat(32))).toThrow(TypeError) // 64 bytes
    expect(zeroClickKey('k'.repeat(32)).symmetricKeySize).toBe(32)
    expect(() =>
      issueZeroClickToken(createSecretKey(Buffer.alloc(32)), '{}', Buffer.alloc(16)),
    ).toThrow(TypeError)
  })
})

describe('IV pool', () => {
  it('hands out distinct, never-reused slices (no two IVs alike over several refills)', async () => {
    const { createRandomPool } = await import('../../src/tokens/random.ts')
    const next = createRandomPool()
    const first = next(12)
    const copy = Buffer.from(first)
    const seen = new Set<string>()
    for (let i = 0; i < 5000; i++) seen.add(next(12).toString('hex'))
    expect(seen.size).toBe(5000)
    expect(first).toEqual(copy) // a refill never overwrites a slice already handed out
    expect(next(2048)).toHaveLength(2048)
  })
})
