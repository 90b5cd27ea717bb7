/**
 * keys/secret-file.ts: one secret file generated on first start, which several processes starting
 * at once on one folder must agree on (the cookie secret, the secrets key, the admin token).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveAdminToken } from '../../src/admin-token.ts'
import { hasCode } from '../../src/errors/index.ts'
import { ensureCookieSecret } from '../../src/keys/index.ts'
import { readOrCreateSecretFile } from '../../src/keys/secret-file.ts'
import { loadSecretBox } from '../../src/keys/secrets-key.ts'
import { NODE } from '../helpers/server.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'sso-bridge-secret-file-'))

describe('readOrCreateSecretFile', () => {
  it('creates the file (0600, folder 0700) once, then reads it; no temp file is left', () => {
    const dir = path.join(tempDir(), 'keys')
    const file = path.join(dir, 'a-secret')
    let made = 0
    const make = () => `value-${++made}`
    expect(readOrCreateSecretFile(file, make)).toEqual({ text: 'value-1', created: true })
    expect(readOrCreateSecretFile(file, make)).toEqual({ text: 'value-1', created: false })
    expect(made).toBe(1)
    expect(readFileSync(file, 'utf8')).toBe('value-1\n')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(readdirSync(dir)).toEqual(['a-secret'])
  })

  it(
    'eight processes starting at once on one folder all end up with one whole value',
    async () => {
      const dir = tempDir()
      const gate = tempDir()
      const file = path.join(dir, 'shared-secret')
      // A barrier, so the eight really race: each says it is ready, then spins until the test
      // opens the gate (process start-up would otherwise spread them over far more than the
      // few microseconds the race lasts).
      const script = `
        import { existsSync, writeFileSync } from 'node:fs'
        import { randomBytes } from 'node:crypto'
        import { readOrCreateSecretFile } from ${JSON.stringify(path.resolve('src/keys/secret-file.ts'))}
        const [file, gate, n] = process.argv.slice(1)
        writeFileSync(gate + '/ready-' + n, '')
        while (!existsSync(gate + '/go'));
        const r = readOrCreateSecretFile(file, () => randomBytes(32).toString('base64url'))
        process.stdout.write(JSON.stringify(r))
      `
      const runs = Array.from(
        { length: 8 },
        (_, n) =>
          new Promise<{ text: string; created: boolean }>((resolve, reject) => {
            const child = spawn(NODE, ['--input-type=module', '-e', script, file, gate, String(n)])
            let out = ''
            child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
            child.on('error', reject)
            child.on('close', (code) =>
              code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}`)),
            )
          }),
      )
      while (readdirSync(gate).length < 8) await new Promise((r) => setTimeout(r, 20))
      writeFileSync(path.join(gate, 'go'), '')
      const outputs = await Promise.all(runs)
      const onDisk = readFileSync(file, 'utf8').trim()
      expect(onDisk).toHaveLength(43)
      for (const r of outputs) expect(r.text).toBe(onDisk)
      expect(outputs.filter((r) => r.created)).toHaveLength(1)
      expect(readdirSync(dir)).toEqual(['shared-secret'])
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('its three users', () => {
  it('the cookie secret, the secrets key and the admin token are generated once and reused', () => {
    const dir = tempDir()
    const cookie = ensureCookieSecret(dir)
    expect(cookie.generated).toBe(true)
    expect(ensureCookieSecret(dir)).toEqual({ secret: cookie.secret, generated: false })

    const first = loadSecretBox(undefined, dir)
    expect(first.source).toBe('generated')
    const sealed = first.box.seal('s3cret', 'ctx')
    const again = loadSecretBox(undefined, dir)
    expect(again.source).toBe('file')
    expect(again.box.open(sealed, 'ctx')).toBe('s3cret')

    const admin = resolveAdminToken(undefined, dir)
    expect(admin.source).toBe('generated')
    expect(resolveAdminToken(undefined, dir)).toMatchObject({ token: admin.token, source: 'file' })
  })

  it('a short admin-token file is refused by name (ERR_CONFIG_INVALID), not overwritten', () => {
    const dir = tempDir()
    const file = path.join(dir, 'admin-token')
    writeFileSync(file, 'short\n', { mode: 0o600 })
    let thrown: unknown
    try {
      resolveAdminToken(undefined, dir)
    } catch (err) {
      thrown = err
    }
    expect(hasCode(thrown, 'ERR_CONFIG_INVALID')).toBe(true)
    expect((thrown as Error).message).toContain(file)
    expect(readFileSync(file, 'utf8')).toBe('short\n')
  })
})
