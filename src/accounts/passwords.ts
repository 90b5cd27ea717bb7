/**
 * @module accounts/passwords
 * Password hashing for members. New hashes are argon2id; hashes imported from the platforms a
 * site migrates from (PHP's `password_hash`, WordPress, phpBB) are verified as they are, so members
 * keep their passwords, and are flagged for an upgrade (`needsRehash`) the first time the plain
 * password is at hand, i.e. at a successful sign-in.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { Algorithm, Version } from '@node-rs/argon2'
import { lazyImport } from '../lazy.ts'

// Both loaded the first time a password is hashed or checked, not at start-up: a server whose
// members sign in at the site only (site tickets) never needs them (docs/performance.md).
const argon2 = lazyImport(() => import('@node-rs/argon2'))
// bcryptjs is pure JavaScript: no per-platform binary to fetch, and legacy bcrypt hashes are
// verified once per member before being upgraded to argon2id, so its speed is not on a hot path.
const bcryptjs = lazyImport(async () => (await import('bcryptjs')).default)

/**
 * Hash formats we can verify: argon2id (ours) and those sites import (WordPress phpass and
 * bcrypt, plain bcrypt, argon2i). Anything but argon2id is rehashed on the next good sign-in.
 */
export type HashScheme = 'argon2id' | 'argon2i' | 'bcrypt' | 'phpass' | 'wp-bcrypt'

/**
 * OWASP Password Storage Cheat Sheet, argon2id minimum: 19 MiB, 2 passes, 1 lane. Salt and tag
 * lengths are the library defaults (16 and 32 bytes); they are part of the policy because a
 * stored hash with a shorter salt or tag is weaker even at the same m/t/p.
 */
const ARGON2_POLICY = {
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
  saltBytes: 16,
  tagBytes: 32,
} as const

/** Argon2 version 0x13 (19); v=16 hashes predate a fix to the memory-filling pass. */
const ARGON2_CURRENT_VERSION = 19

/**
 * phpass portable hashes run `2^count_log2` MD5 rounds synchronously on the event loop (there is
 * no native async MD5 chain), so an imported hash may not choose an unbounded cost: the format
 * allows up to 2^30 (about 25 minutes of a blocked server per sign-in attempt). WordPress writes
 * 2^13 (`$P$B`), phpBB3 2^11 (`$H$9`); 2^16 leaves headroom for sites that raised it while
 * keeping the worst case near 0.1 s (0.5 s for a 4096-byte password). Hashes above it are reported as unsupported
 * by {@link identifyHash}, so an import rejects them up front instead of a sign-in stalling.
 */
const PHPASS_MAX_COUNT_LOG2 = 16
/** The lower bound is the reference implementation's own (`crypt_private` refuses below 7). */
const PHPASS_MIN_COUNT_LOG2 = 7

/**
 * The same reasoning for the other imported formats: the stored hash chooses the work of every
 * sign-in attempt against it, and an unbounded one is a denial of service that no throttle or
 * timing floor can hide (`$2b$31$` is 2^31 Blowfish rounds: days per attempt; argon2 with
 * m=4 GiB allocates that much per verify). Sites write bcrypt costs 10–12 (PHP's default is 10,
 * WordPress 6.8's too) and argon2id at most PHP's 64 MiB × 4; the caps leave headroom above both
 * while keeping one attempt near a second. A hash above them is unsupported: an import rejects it.
 */
const BCRYPT_MAX_COST = 14
const ARGON2_MAX_MEMORY_KIB = 262_144
const ARGON2_MAX_WORK_KIB = 1_048_576 // memory × iterations
const ARGON2_MAX_PARALLELISM = 16

/**
 * WordPress (`wp_check_password`) and phpBB (`phpbb_check_hash`) refuse passwords over 4096
 * bytes, so no stored legacy hash can match one; refusing here too also keeps phpass cheap,
 * because every one of its MD5 rounds hashes the whole password again.
 */
const LEGACY_MAX_PASSWORD_BYTES = 4096

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

// The patterns are anchored and bounded so identifyHash stays a cheap syntactic check, usable on
// every row of an import file. Only the parts the verifiers below rely on are checked.
const ARGON2_RE =
  /^\$(argon2id|argon2i)\$(?:v=(\d{1,3})\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{6,})$/
// `$2x$` is deliberately absent: it marks hashes made with the sign-extension bug of crypt_blowfish
// before 1.1 (2011), which bcrypt libraries would verify with the corrected algorithm (wrong for any
// password with non-ASCII bytes). `$2a$`, `$2b$` and `$2y$` are one algorithm for our purposes.
const BCRYPT_RE = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/
const WP_BCRYPT_RE = /^\$wp\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/
const PHPASS_RE = /^\$[PH]\$[./0-9A-Za-z]{31}$/

const NO = { ok: false, needsRehash: false } as const

// @node-rs/argon2 declares Algorithm and Version as ambient `const enum`s, whose values TypeScript
// refuses to read under verbatimModuleSyntax (TS2748: Node's type stripping would not inline them).
// The enums are imported as types and the two values we need are spelled out, annotated with the
// enum member types so the compiler still checks them against the library's declaration.
const ARGON2ID: Algorithm.Argon2id = 2
const ARGON2_V0X13: Version.V0x13 = 1

/**
 * Hashes a new password with argon2id at {@link ARGON2_POLICY}. The password is taken as UTF-8
 * bytes, without Unicode normalization: what the member typed is what is stored.
 */
export async function hashPassword(plain: string): Promise<string> {
  const { hash } = await argon2()
  return hash(Buffer.from(plain, 'utf8'), {
    algorithm: ARGON2ID,
    version: ARGON2_V0X13,
    memoryCost: ARGON2_POLICY.memoryCost,
    timeCost: ARGON2_POLICY.timeCost,
    parallelism: ARGON2_POLICY.parallelism,
    outputLen: ARGON2_POLICY.tagBytes,
  })
}

/**
 * Checks `plain` against a stored hash of any {@link HashScheme}. Never throws: a malformed or
 * unsupported stored hash is simply not a match, because the stored value may come from an
 * import and a bad row must not turn a sign-in into a server error.
 * @returns `ok` whether the password matches; `needsRehash` (only when `ok`) whether the caller
 *   should replace the stored hash with {@link hashPassword}(plain) now that it has the plain
 *   password: every legacy scheme, and argon2id below the current parameters.
 */
export async function verifyPassword(
  plain: string,
  stored: string,
): Promise<{ ok: boolean; needsRehash: boolean }> {
  if (typeof plain !== 'string') return NO
  const scheme = identifyHash(stored)
  if (scheme === null) return NO
  const password = Buffer.from(plain, 'utf8')
  // Outside the try: a library that cannot be loaded is a broken install, not a wrong password.
  const [{ verify: argon2Verify }, bcrypt] = await Promise.all([argon2(), bcryptjs()])
  try {
    let ok: boolean
    switch (scheme) {
      case 'argon2id':
      case 'argon2i':
        ok = await argon2Verify(stored, password)
        return { ok, needsRehash: ok && argon2BelowPolicy(stored) }
      case 'bcrypt':
        // bcrypt reads only the first 72 bytes of the password: longer passwords that share those
        // bytes all match. That is inherent to the stored hash and cannot be undone when
        // verifying; the rehash to argon2id on success removes it for the member from then on.
        ok = await bcrypt.compare(plain, stored)
        break
      case 'wp-bcrypt':
        ok =
          password.length <= LEGACY_MAX_PASSWORD_BYTES &&
          (await verifyWordPressBcrypt(bcrypt, password, stored))
        break
      case 'phpass':
        ok = password.length <= LEGACY_MAX_PASSWORD_BYTES && verifyPhpass(password, stored)
        break
    }
    return { ok, needsRehash: ok }
  } catch {
    return NO
  }
}

/**
 * Names the scheme of a stored hash, or `null` when this module cannot verify it. Purely
 * syntactic (no hashing), so an importer can validate every row before accepting a file. A
 * non-null result means {@link verifyPassword} will attempt the hash, not that it is intact.
 */
export function identifyHash(stored: string): HashScheme | null {
  if (typeof stored !== 'string') return null
  const argon2 = ARGON2_RE.exec(stored)
  if (argon2) {
    const [m, t, p] = [Number(argon2[3]), Number(argon2[4]), Number(argon2[5])]
    if (m > ARGON2_MAX_MEMORY_KIB || m * t > ARGON2_MAX_WORK_KIB || p > ARGON2_MAX_PARALLELISM)
      return null
    return argon2[1] === 'argon2id' ? 'argon2id' : 'argon2i'
  }
  const bcryptCost = BCRYPT_RE.exec(stored)?.[1] ?? WP_BCRYPT_RE.exec(stored)?.[1]
  if (bcryptCost !== undefined) {
    if (Number(bcryptCost) > BCRYPT_MAX_COST) return null
    return stored.startsWith('$wp$') ? 'wp-bcrypt' : 'bcrypt'
  }
  if (PHPASS_RE.test(stored)) {
    const countLog2 = ITOA64.indexOf(stored.charAt(3))
    return countLog2 >= PHPASS_MIN_COUNT_LOG2 && countLog2 <= PHPASS_MAX_COUNT_LOG2
      ? 'phpass'
      : null
  }
  return null
}

/**
 * Whether an argon2 hash that just verified is weaker than what {@link hashPassword} makes now.
 * Parameters read from the PHC string, so a hash made elsewhere with stronger settings (PHP's
 * default is m=65536,t=4) is kept rather than downgraded.
 */
function argon2BelowPolicy(stored: string): boolean {
  const match = ARGON2_RE.exec(stored)
  if (!match) return true
  const [, algorithm, version, m, t, p, salt, tag] = match
  return (
    algorithm !== 'argon2id' ||
    // A PHC string without v= is version 16 by the reference implementation's convention.
    Number(version ?? 16) !== ARGON2_CURRENT_VERSION ||
    Number(m) < ARGON2_POLICY.memoryCost ||
    Number(t) < ARGON2_POLICY.timeCost ||
    Number(p) < ARGON2_POLICY.parallelism ||
    unpaddedBase64Bytes(salt ?? '') < ARGON2_POLICY.saltBytes ||
    unpaddedBase64Bytes(tag ?? '') < ARGON2_POLICY.tagBytes
  )
}

function unpaddedBase64Bytes(text: string): number {
  return Math.floor((text.length * 3) / 4)
}

/**
 * WordPress 6.8+ `$wp$2y$…` hashes: bcrypt over a pre-hash, as in wp_check_password():
 * `password_verify(base64_encode(hash_hmac('sha384', $password, 'wp-sha384', true)), substr($hash, 3))`.
 * The pre-hash (64 base64 characters) is what lets WordPress accept passwords past bcrypt's
 * 72-byte limit; the key is a fixed domain separator, not a secret.
 */
async function verifyWordPressBcrypt(
  bcrypt: { compare(plain: string, hash: string): Promise<boolean> },
  password: Buffer,
  stored: string,
): Promise<boolean> {
  const prehash = createHmac('sha384', 'wp-sha384').update(password).digest('base64')
  return bcrypt.compare(prehash, stored.slice(3))
}

/**
 * phpass "portable" hashes (`$P$` WordPress before 6.8, `$H$` phpBB3), a port of
 * PasswordHash::crypt_private() from Openwall phpass: `count = 2^itoa64(setting[3])`,
 * `h = md5(salt . password)`, then `count` times `h = md5(h . password)`, then phpass's own
 * little-endian base64 of the 16-byte digest appended to the 12-character setting.
 * No library does this for us; the format is simple enough that the published vectors in the
 * tests pin it.
 */
function verifyPhpass(password: Buffer, stored: string): boolean {
  const countLog2 = ITOA64.indexOf(stored.charAt(3))
  if (countLog2 < PHPASS_MIN_COUNT_LOG2 || countLog2 > PHPASS_MAX_COUNT_LOG2) return false
  const salt = Buffer.from(stored.slice(4, 12), 'latin1')
  let digest = createHash('md5').update(salt).update(password).digest()
  for (let count = 2 ** countLog2; count > 0; count--) {
    digest = createHash('md5').update(digest).update(password).digest()
  }
  const computed = Buffer.from(stored.slice(0, 12) + phpassEncode64(digest, 16), 'latin1')
  const expected = Buffer.from(stored, 'latin1')
  // Constant time, unlike phpass's own `===`, so the comparison leaks nothing about the stored
  // digest; the lengths are public (always 34) and checked only to keep timingSafeEqual from throwing.
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}

/** phpass encode64(): 6 bits at a time, least significant first, over groups of 3 bytes. */
function phpassEncode64(input: Uint8Array, count: number): string {
  const byte = (index: number): number => input[index] ?? 0
  let output = ''
  let i = 0
  do {
    let value = byte(i++)
    output += ITOA64.charAt(value & 0x3f)
    if (i < count) value |= byte(i) << 8
    output += ITOA64.charAt((value >> 6) & 0x3f)
    if (i++ >= count) break
    if (i < count) value |= byte(i) << 16
    output += ITOA64.charAt((value >> 12) & 0x3f)
    if (i++ >= count) break
    output += ITOA64.charAt((value >> 18) & 0x3f)
  } while (i < count)
  return output
}
