/**
 * The secrets box (secrets/box.ts) with real AES-256-GCM, where its key comes from
 * (keys/secrets-key.ts: SECRETS_KEY, or a key file generated in KEYS_DIR) and SECRETS_KEY's
 * formats (config), and the TOTP seed API issue #14's operator console will use.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import { loadSecretBox, SECRETS_KEY_FILE } from '../../src/keys/secrets-key.ts'
import {
  createSecretBox,
  isSealed,
  openTotpSeed,
  sealedKeyId,
  sealTotpSeed,
  secretsKeyId,
} from '../../src/secrets/index.ts'

const A = randomBytes(32)
const B = randomBytes(32)
const CONTEXT = 'integration:forum:client_secret'

describe('the secrets box', () => {
  it('seals to sb1:<key id>:<iv‖ciphertext‖tag> and opens back, a fresh IV each time', () => {
    const box = createSecretBox([A])
    const sealed = box.seal('s3cret value', CONTEXT)
    expect(sealed).toMatch(/^sb1:[0-9a-f]{16}:[A-Za-z0-9_-]+$/)
    expect(isSealed(sealed)).toBe(true)
    // The key id is the first 8 bytes of SHA-256 of the key: a fingerprint, not the key.
    expect(sealedKeyId(sealed)).toBe(createHash('sha256').update(A).digest('hex').slice(0, 16))
    expect(sealedKeyId(sealed)).toBe(secretsKeyId(A))
    const body = Buffer.from(sealed.split(':')[2]!, 'base64url')
    expect(body.length).toBe(12 + Buffer.byteLength('s3cret value') + 16)
    expect(sealed).not.toContain('s3cret')
    expect(box.open(sealed, CONTEXT)).toBe('s3cret value')
    expect(box.seal('s3cret value', CONTEXT)).not.toBe(sealed)
  })

  it('binds a ciphertext to its place: another context does not open it (ERR_SECRET_UNREADABLE)', () => {
    const box = createSecretBox([A])
    const sealed = box.seal('s3cret', CONTEXT)
    expect(() => box.open(sealed, 'integration:other:client_secret')).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_UNREADABLE' }),
    )
    expect(() => box.open(sealed, 'integration:forum:api_key')).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_UNREADABLE' }),
    )
  })

  it('refuses an altered ciphertext, tag or key id, and a value that is not sealed', () => {
    const box = createSecretBox([A, B])
    const sealed = box.seal('s3cret', CONTEXT)
    const [prefix, kid, body] = sealed.split(':') as [string, string, string]
    const raw = Buffer.from(body, 'base64url')
    for (const i of [0, 12, raw.length - 1]) {
      const bad = Buffer.from(raw)
      bad[i]! ^= 1
      expect(() => box.open(`${prefix}:${kid}:${bad.toString('base64url')}`, CONTEXT)).toThrow(
        expect.objectContaining({ code: 'ERR_SECRET_UNREADABLE' }),
      )
    }
    // Relabelled as sealed by the other configured key: the AAD carries the key id.
    expect(() => box.open(`${prefix}:${secretsKeyId(B)}:${body}`, CONTEXT)).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_UNREADABLE' }),
    )
    for (const junk of ['s3cret', 'sb1:zz:abc', `sb1:${kid}:`, `sb1:${kid}:AAAA`])
      expect(() => box.open(junk, CONTEXT)).toThrow(
        expect.objectContaining({ code: 'ERR_SECRET_UNREADABLE' }),
      )
  })

  it('names the missing key by its id when no configured key sealed it (ERR_SECRETS_KEY_MISSING)', () => {
    const sealed = createSecretBox([A]).seal('s3cret', CONTEXT)
    let caught: unknown
    try {
      createSecretBox([B]).open(sealed, CONTEXT)
    } catch (err) {
      caught = err
    }
    expect(caught).toMatchObject({ code: 'ERR_SECRETS_KEY_MISSING', keyId: secretsKeyId(A) })
    expect((caught as Error).message).toContain(secretsKeyId(A))
    expect((caught as Error).message).not.toContain('s3cret')
    expect((caught as Error).message).not.toContain(A.toString('base64url'))
  })

  it('with two keys, the first seals and both open; isStale marks what the second sealed', () => {
    const old = createSecretBox([A]).seal('old', CONTEXT)
    const both = createSecretBox([B, A])
    expect(both.keyIds).toEqual([secretsKeyId(B), secretsKeyId(A)])
    expect(both.open(old, CONTEXT)).toBe('old')
    const fresh = both.seal('new', CONTEXT)
    expect(sealedKeyId(fresh)).toBe(secretsKeyId(B))
    expect(both.isStale(old)).toBe(true)
    expect(both.isStale(fresh)).toBe(false)
    expect(createSecretBox([B]).open(fresh, CONTEXT)).toBe('new')
  })

  it('refuses no key, a short key and the same key twice', () => {
    expect(() => createSecretBox([])).toThrow(TypeError)
    expect(() => createSecretBox([randomBytes(16)])).toThrow(TypeError)
    expect(() => createSecretBox([A, Buffer.from(A)])).toThrow(TypeError)
  })

  it("seals a TOTP seed for one operator only (issue #14's API)", () => {
    const box = createSecretBox([A])
    const seed = randomBytes(20)
    const sealed = sealTotpSeed(box, 'op-1', seed)
    expect(openTotpSeed(box, 'op-1', sealed).equals(seed)).toBe(true)
    expect(() => openTotpSeed(box, 'op-2', sealed)).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_UNREADABLE' }),
    )
  })
})

describe('SECRETS_KEY and the key file', () => {
  const dirs: string[] = []
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-secrets-key-'))
    dirs.push(dir)
    return dir
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const config = (value: string) => loadConfig({ SECRETS_KEY: value }, { envFile: false })

  it('takes hex, base64 and base64url keys, comma-separated, the first first', () => {
    const c = config(
      ` ${A.toString('hex')}, ${B.toString('base64')},${A.toString('base64url').slice(0, 43)}`,
    )
    expect(c.secretsKeys!.map((k) => k.toString('hex'))).toEqual([
      A.toString('hex'),
      B.toString('hex'),
      A.toString('hex'),
    ])
    expect(config(B.toString('base64url')).secretsKeys![0]!.equals(B)).toBe(true)
  })

  it('refuses a key of the wrong length or alphabet, naming which, never echoing it', () => {
    const bad = randomBytes(16).toString('hex')
    for (const value of [
      bad,
      `${A.toString('hex')},${bad}`,
      '.'.repeat(43),
      `${A.toString('hex')},`,
    ]) {
      let caught: unknown
      try {
        config(value)
      } catch (err) {
        caught = err
      }
      expect(caught, value).toMatchObject({ code: 'ERR_CONFIG_INVALID' })
      expect((caught as Error).message).toContain('SECRETS_KEY')
      expect((caught as Error).message).toContain('value hidden')
      expect((caught as Error).message).not.toContain(bad)
    }
  })

  it('without SECRETS_KEY, generates KEYS_DIR/secrets-key (0600) once and reads it after', () => {
    const dir = tempDir()
    const first = loadSecretBox(undefined, dir)
    const file = path.join(dir, SECRETS_KEY_FILE)
    expect(first).toMatchObject({ source: 'generated', file })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const again = loadSecretBox(undefined, dir)
    expect(again.source).toBe('file')
    expect(again.box.keyIds).toEqual(first.box.keyIds)
    expect(again.box.open(first.box.seal('x', 'c'), 'c')).toBe('x')
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url')
    expect(first.box.keyIds).toEqual([secretsKeyId(key)])
  })

  it('SECRETS_KEY wins over the key file; a broken key file stops with ERR_KEYS_INVALID', () => {
    const dir = tempDir()
    expect(loadSecretBox([B, A], dir)).toMatchObject({ source: 'env' })
    expect(loadSecretBox([B, A], dir).box.keyIds).toEqual([secretsKeyId(B), secretsKeyId(A)])
    writeFileSync(path.join(dir, SECRETS_KEY_FILE), 'too short\n')
    expect(() => loadSecretBox(undefined, dir)).toThrow(
      expect.objectContaining({ code: 'ERR_KEYS_INVALID' }),
    )
  })
})
