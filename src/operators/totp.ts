/**
 * @module operators/totp
 * TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, the parameters every authenticator app
 * reads from an otpauth URI) through `otpauth`, a small dependency-free library, rather than
 * hand-written HMAC truncation. It is loaded on first use, so a process that never signs an
 * operator in never loads it.
 */
import { randomBytes } from 'node:crypto'

/** RFC 6238 §4: the time step, seconds. */
const PERIOD = 30
/** One step either side of now: a phone clock a few seconds off still works (RFC 6238 §5.2). */
const WINDOW = 1

const lib = () => import('otpauth')

/** A copy of the seed's bytes as the ArrayBuffer otpauth's Secret takes. */
const toArrayBuffer = (seed: Uint8Array): ArrayBuffer => new Uint8Array(seed).buffer

/** A fresh 160-bit seed (RFC 4226 §4 recommends 160 bits), raw bytes. */
export function newTotpSeed(): Uint8Array {
  return randomBytes(20)
}

/**
 * The otpauth URI an authenticator app scans (Key Uri Format): issuer and label name the
 * console and the operator.
 */
export async function totpUri(seed: Uint8Array, issuer: string, name: string): Promise<string> {
  const { Secret, TOTP } = await lib()
  return new TOTP({
    issuer,
    label: name,
    secret: new Secret({ buffer: toArrayBuffer(seed) }),
    period: PERIOD,
    digits: 6,
    algorithm: 'SHA1',
  }).toString()
}

/**
 * The time step `code` belongs to (within {@link WINDOW} of `nowMs`), or null when it matches
 * none. The caller refuses a step already used (RFC 6238 §5.2: a code is good once).
 */
export async function totpStep(
  seed: Uint8Array,
  code: string,
  nowMs: number,
): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null
  const { Secret, TOTP } = await lib()
  const totp = new TOTP({
    secret: new Secret({ buffer: toArrayBuffer(seed) }),
    period: PERIOD,
    digits: 6,
  })
  const delta = totp.validate({ token: code, timestamp: nowMs, window: WINDOW })
  return delta === null ? null : Math.floor(nowMs / 1000 / PERIOD) + delta
}
