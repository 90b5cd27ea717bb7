/**
 * oidc/cookie-keys.ts against keygrip itself (what koa's `cookies` would use, from oidc-provider's
 * own dependency tree): the same signatures byte for byte, the same answers when checking, so
 * cookies signed before the switch, or by another instance, stay valid.
 */
import Keygrip from 'keygrip'
import { describe, expect, it } from 'vitest'
import { CookieKeys } from '../../src/oidc/cookie-keys.ts'

const SECRETS = [
  'bench-cookie-secret-0123456789abcdef0123456789',
  'an older secret, still accepted',
  'ünïcödé key',
]
const DATA = [
  '_session=abc',
  '_interaction=Q2xpZW50IGlk; path=/',
  '',
  'x'.repeat(5000),
  'ünïcödé=välue',
]

describe('CookieKeys (keygrip-compatible)', () => {
  it('signs exactly as keygrip does', () => {
    const ours = new CookieKeys(SECRETS)
    const reference = new Keygrip(SECRETS)
    for (const d of DATA) expect(ours.sign(d)).toBe(reference.sign(d))
  })

  it('finds the key that signed, as keygrip does: newest, an older one, none', () => {
    const ours = new CookieKeys(SECRETS)
    const reference = new Keygrip(SECRETS)
    for (const d of DATA) {
      for (const [i, secret] of SECRETS.entries()) {
        const digest = new Keygrip([secret]).sign(d)
        expect(ours.index(d, digest)).toBe(i)
        expect(reference.index(d, digest)).toBe(i)
      }
      const foreign = new Keygrip(['not one of ours']).sign(d)
      for (const bad of [foreign, foreign.slice(1), `${foreign}x`, '', ours.sign(`${d}!`)]) {
        expect(ours.index(d, bad)).toBe(-1)
        expect(reference.index(d, bad)).toBe(-1)
        expect(ours.verify(d, bad)).toBe(false)
      }
    }
  })

  it('refuses to be made without a key', () => {
    expect(() => new CookieKeys([])).toThrow(TypeError)
  })
})
