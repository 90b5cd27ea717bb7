/**
 * accounts/passwords against hashes made by the reference implementations, not by our code.
 *
 * Provenance of every fixture below: generated once, offline, with Debian 12's php-cli
 * (PHP 8.2.36, `apt-get install php-cli`); PHP is not needed to run these tests.
 * - bcrypt `$2y$`: `password_hash($pw, PASSWORD_BCRYPT)` (PHP's default cost 10).
 * - bcrypt `$2a$` / `$2b$`: `crypt($pw, '$2a$10$' . $salt)` / `crypt($pw, '$2b$10$' . $salt)`, with
 *   `$salt = substr(password_hash('x', PASSWORD_BCRYPT), 7, 22)`.
 * - argon2: `password_hash($pw, PASSWORD_ARGON2ID | PASSWORD_ARGON2I,
 *   ['memory_cost' => M, 'time_cost' => T, 'threads' => 1])` with the m/t shown in each hash.
 * - WordPress 6.8 (wp_hash_password):
 *   `'$wp' . password_hash(base64_encode(hash_hmac('sha384', $pw, 'wp-sha384', true)), PASSWORD_BCRYPT)`.
 * - phpass: Openwall phpass 0.5.4, src/PasswordHash.php from github.com/openwall/phpass at
 *   b92823e6293efb45db8bcea0ee56759cfd079391, unmodified. `$P$`: `(new PasswordHash(8, true))->HashPassword($pw)`
 *   (what WordPress before 6.8 does); `$H$` (phpBB3's prefix, count char '9' as phpBB's
 *   _hash_gensalt_private writes it): `$ph->crypt_private($pw, '$H$9' . $ph->encode64($ph->get_random_bytes(6), 6))`.
 *   PHPASS_OPENWALL is not generated: it is the known-answer vector from phpass's own tests/test.php.
 * The generator also re-checked each hash with the PHP verifiers (password_verify, the WordPress
 * check, PasswordHash::CheckPassword) before printing it.
 */
import { describe, expect, it } from 'vitest'
import {
  hashPassword,
  identifyHash,
  verifyPassword,
  type HashScheme,
} from '../../src/accounts/passwords.ts'

const PW = 'correct horse battery staple'
/** Non-ASCII password, composed (NFC) form; PHP hashed its UTF-8 bytes. */
const UNI = 'pässwörd✓'
/** The same text decomposed: different bytes, so it must not match (no normalization). */
const UNI_NFD = UNI.normalize('NFD')
/** 73 bytes; bcrypt reads only the first 72. */
const LONG = 'a'.repeat(72) + 'X'
const LONG_SAME_72 = 'a'.repeat(72) + 'Y'

const BCRYPT_2Y = '$2y$10$DCDx16xMyNz5/haj0mGYbOlvpUPkB.bPT.LLrm5NJqpwEfQzi/JwW'
const BCRYPT_2Y_UNI = '$2y$10$YWgO18a3VrFUnYo9DDZYS.fCskA0.OyX2y.P5q.V6isFIdxbN8V.S'
const BCRYPT_2Y_LONG = '$2y$10$FSyTeFUMbFFs0AqZVs2DdeXALk/gyrodFPOJjSIoaHrAVZ8UoqEzG'
const BCRYPT_2A = '$2a$10$ivNKneAhHVei/TMpvvQgQOisFUbEBlSUZo3jmn7rPiqfM1lFyeJtO'
const BCRYPT_2B = '$2b$10$ivNKneAhHVei/TMpvvQgQOisFUbEBlSUZo3jmn7rPiqfM1lFyeJtO'

const ARGON2I =
  '$argon2i$v=19$m=4096,t=3,p=1$OTkxUXQuUVZudC5UQlB4Ug$dTzMIn6OsPrBaygbDVO7JZHhkxKxoHwnlGJ/3xwJMxI'
const ARGON2ID_WEAK =
  '$argon2id$v=19$m=4096,t=2,p=1$WDhpWTZ6b0ZPNzVoU2JuSg$TtLHM+NQ0qRst0f/kePR0nOlba2DewV7sqZu3zzZ+oU'
const ARGON2ID_POLICY =
  '$argon2id$v=19$m=19456,t=2,p=1$L3lweEtXSTlKN1dpNlhXRQ$VQrZAnIkXPoKym6q5CrkJjvYXeQHRI4+k/mrc2oRTug'
const ARGON2ID_STRONGER =
  '$argon2id$v=19$m=32768,t=3,p=1$RGNJOThwd1lOald4ZWNJcg$+Bjtnl99cfLznzicrBX7yxwGdqM8IfpYgVz9z0rBPks'
const ARGON2ID_UNI =
  '$argon2id$v=19$m=4096,t=2,p=1$RC5vcms0ZU1SdHJySjB4dA$HHos1ZpqlkfCWwGEM7xYV9idcRY/Lyrhq9kZjDYgVIU'

const WP = '$wp$2y$10$OA5BGacEAk67e.YjAxvldOQmHmN7AWTrMdliH7wIbYy2/ttxlEEHu'
const WP_UNI = '$wp$2y$10$1J5y6C4ru5S5jndn4OKwiuBulLHsvjSw0bYx7lzg7kpFSClYkPQ0q'
const WP_LONG = '$wp$2y$10$soIu0vzhzV/KoQRbUusPmeqhydgP9LXb/Qh9OWZFfTh./mErMmyWC'

const PHPASS_P = '$P$BY/sPRGLALD5E6ntPgjU8rsFpwwPfc1'
const PHPASS_P_UNI = '$P$Bn5wLUE9xws5GpqY0w18CDSrSTgeDG.'
const PHPASS_H = '$H$9S5QGUzX5tg6FHW1c95w3f0TNkN5VR0'
/** openwall/phpass tests/test.php: "A correct portable hash for 'test12345'". */
const PHPASS_OPENWALL = '$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0'

const NO = { ok: false, needsRehash: false }

interface Vector {
  name: string
  hash: string
  scheme: HashScheme
  password: string
  wrong: string
  needsRehash: boolean
}

const VECTORS: Vector[] = [
  {
    name: 'argon2id at the policy (PHP)',
    hash: ARGON2ID_POLICY,
    scheme: 'argon2id',
    password: PW,
    wrong: PW + '!',
    needsRehash: false,
  },
  {
    name: 'argon2id stronger than the policy (PHP)',
    hash: ARGON2ID_STRONGER,
    scheme: 'argon2id',
    password: PW,
    wrong: PW + '!',
    needsRehash: false,
  },
  {
    name: 'argon2id m=4096 (PHP)',
    hash: ARGON2ID_WEAK,
    scheme: 'argon2id',
    password: PW,
    wrong: PW + '!',
    needsRehash: true,
  },
  {
    name: 'argon2id m=4096, non-ASCII (PHP)',
    hash: ARGON2ID_UNI,
    scheme: 'argon2id',
    password: UNI,
    wrong: UNI_NFD,
    needsRehash: true,
  },
  {
    name: 'argon2i (PHP)',
    hash: ARGON2I,
    scheme: 'argon2i',
    password: PW,
    wrong: PW + '!',
    needsRehash: true,
  },
  {
    name: 'bcrypt $2y$ (PHP password_hash)',
    hash: BCRYPT_2Y,
    scheme: 'bcrypt',
    password: PW,
    wrong: PW + '!',
    needsRehash: true,
  },
  {
    name: 'bcrypt $2y$ non-ASCII (PHP password_hash)',
    hash: BCRYPT_2Y_UNI,
    scheme: 'bcrypt',
    password: UNI,
    wrong: UNI_NFD,
    needsRehash: true,
  },
  {
    name: 'bcrypt $2a$ (PHP crypt)',
    hash: BCRYPT_2A,
    scheme: 'bcrypt',
    password: PW,
    wrong: PW + '!',
    needsRehash: true,
  },
  {
    name: 'bcrypt $2b$ (PHP crypt)',
    hash: BCRYPT_2B,
    scheme: 'bcrypt',
    password: PW,
    wrong: PW + '!',
    needsRehash: true,
  },
  {
    name: 'WordPress 6.8 $wp$2y$',
    hash: WP,
    scheme: 'wp-bcrypt',
    password: PW,
    wrong: PW + '!',
    needsRehash: true,
  },
  {
    name: 'WordPress 6.8 $wp$2y$ non-ASCII',
    hash: WP_UNI,
    scheme: 'wp-bcrypt',
    password: UNI,
    wrong: UNI_NFD,
    needsRehash: true,
  },
  {
    name: 'phpass $P$ (WordPress < 6.8)',
    hash: PHPASS_P,
    scheme: 'phpass',
    password: PW,
    wrong: PW + '!',
    needsRehash: true,
  },
  {
    name: 'phpass $P$ non-ASCII',
    hash: PHPASS_P_UNI,
    scheme: 'phpass',
    password: UNI,
    wrong: UNI_NFD,
    needsRehash: true,
  },
  {
    name: 'phpass $H$ (phpBB3)',
    hash: PHPASS_H,
    scheme: 'phpass',
    password: PW,
    wrong: PW + '!',
    needsRehash: true,
  },
  {
    name: 'phpass $P$ Openwall known answer',
    hash: PHPASS_OPENWALL,
    scheme: 'phpass',
    password: 'test12345',
    wrong: 'test12346',
    needsRehash: true,
  },
]

describe('verifyPassword on reference-made hashes', () => {
  it.each(VECTORS)('$name: accepts the right password', async (v) => {
    expect(await verifyPassword(v.password, v.hash)).toEqual({
      ok: true,
      needsRehash: v.needsRehash,
    })
  })

  it.each(VECTORS)('$name: rejects a wrong password', async (v) => {
    expect(await verifyPassword(v.wrong, v.hash)).toEqual(NO)
  })

  it.each(VECTORS)('$name: is identified as $scheme', (v) => {
    expect(identifyHash(v.hash)).toBe(v.scheme)
  })

  it('bcrypt ignores bytes past the 72nd (inherent to the stored hash)', async () => {
    expect(await verifyPassword(LONG, BCRYPT_2Y_LONG)).toEqual({ ok: true, needsRehash: true })
    expect(await verifyPassword(LONG_SAME_72, BCRYPT_2Y_LONG)).toEqual({
      ok: true,
      needsRehash: true,
    })
  })

  it("WordPress's pre-hash keeps bytes past the 72nd significant", async () => {
    expect(await verifyPassword(LONG, WP_LONG)).toEqual({ ok: true, needsRehash: true })
    expect(await verifyPassword(LONG_SAME_72, WP_LONG)).toEqual(NO)
  })
})

describe('hashPassword', () => {
  it('makes argon2id at the OWASP parameters that verifies without a rehash', async () => {
    const hash = await hashPassword(PW)
    expect(hash.startsWith('$argon2id$v=19$m=19456,t=2,p=1$')).toBe(true)
    expect(identifyHash(hash)).toBe('argon2id')
    expect(await verifyPassword(PW, hash)).toEqual({ ok: true, needsRehash: false })
    expect(await verifyPassword(PW + '!', hash)).toEqual(NO)
  })

  it('round-trips a non-ASCII password byte for byte', async () => {
    const hash = await hashPassword(UNI)
    expect(await verifyPassword(UNI, hash)).toEqual({ ok: true, needsRehash: false })
    expect(await verifyPassword(UNI_NFD, hash)).toEqual(NO)
  })
})

describe('identifyHash', () => {
  it.each([
    ['empty', ''],
    ['plain text', 'plain'],
    ['md5-crypt', '$1$abc'],
    ['bcrypt $2x$ (crypt_blowfish sign-extension bug)', '$2x$' + BCRYPT_2Y.slice(4)],
    ['bcrypt cost below 4', '$2y$03$' + BCRYPT_2Y.slice(7)],
    ['bcrypt truncated', BCRYPT_2Y.slice(0, 40)],
    ['bcrypt with a trailing character', BCRYPT_2Y + 'x'],
    ['argon2d', ARGON2ID_POLICY.replace('$argon2id$', '$argon2d$')],
    [
      'argon2 without parameters',
      '$argon2id$v=19$L3lweEtXSTlKN1dpNlhXRQ$VQrZAnIkXPoKym6q5CrkJjvYXeQHRI4',
    ],
    ['phpass too short', PHPASS_P.slice(0, 30)],
    ['phpass too long', PHPASS_P + 'x'],
    ['phpass below 2^7 rounds', '$P$4' + PHPASS_P.slice(4)],
    ['phpass above the 2^16 cap', '$P$F' + PHPASS_P.slice(4)],
    ['phpass at 2^30 rounds', '$P$S' + PHPASS_P.slice(4)],
    // An imported hash chooses each sign-in's work: costs above the caps are a denial of service.
    ['bcrypt cost 15, above the cap of 14', '$2y$15$' + BCRYPT_2Y.slice(7)],
    ['bcrypt cost 31 (2^31 rounds: days per attempt)', '$2b$31$' + BCRYPT_2Y.slice(7)],
    ['WordPress bcrypt cost 31', '$wp$2y$31$' + BCRYPT_2Y.slice(7)],
    ['argon2id with 4 GiB of memory', ARGON2ID_POLICY.replace(/m=\d+/, 'm=4194304')],
    [
      'argon2id with 256 MiB × 8 iterations',
      ARGON2ID_POLICY.replace(/m=\d+,t=\d+/, 'm=262144,t=8'),
    ],
    ['argon2id with parallelism 255', ARGON2ID_POLICY.replace(/p=\d+/, 'p=255')],
    ['WordPress prefix without bcrypt', '$wp$' + PHPASS_P],
    ['a non-string from an untyped import', 42 as unknown as string],
  ])('%s → null', (_label, stored) => {
    expect(identifyHash(stored)).toBeNull()
  })

  it('accepts the work the caps leave room for: bcrypt cost 14, argon2id 64 MiB × 4 (PHP) and 256 MiB × 4', () => {
    expect(identifyHash('$2y$14$' + BCRYPT_2Y.slice(7))).toBe('bcrypt')
    expect(identifyHash('$wp$2y$14$' + BCRYPT_2Y.slice(7))).toBe('wp-bcrypt')
    expect(identifyHash(ARGON2ID_POLICY.replace(/m=\d+,t=\d+/, 'm=65536,t=4'))).toBe('argon2id')
    expect(identifyHash(ARGON2ID_POLICY.replace(/m=\d+,t=\d+/, 'm=262144,t=4'))).toBe('argon2id')
  })
})

describe('verifyPassword on malformed stored hashes', () => {
  it.each([
    ['truncated bcrypt', BCRYPT_2Y.slice(0, 40)],
    ['truncated WordPress bcrypt', WP.slice(0, 50)],
    ['$P$ of a bad length', PHPASS_P.slice(0, 33)],
    ['$H$ of a bad length', PHPASS_H + '.'],
    // Must not spend 2^30 MD5 rounds on the event loop.
    ['phpass claiming 2^30 rounds', '$P$S' + PHPASS_P.slice(4)],
    // Syntactically argon2, but the library rejects it (memory below its minimum).
    ['argon2id with m=1', ARGON2ID_POLICY.replace('m=19456', 'm=1')],
    ['argon2id with a truncated tag', ARGON2ID_POLICY.slice(0, -30)],
    ['unknown scheme', '$argon2d$' + ARGON2ID_POLICY.slice('$argon2id$'.length)],
    ['empty', ''],
    ['undefined from an untyped row', undefined as unknown as string],
  ])('%s → not ok, no throw', async (_label, stored) => {
    await expect(verifyPassword(PW, stored)).resolves.toEqual(NO)
  })
})
