import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { describe, expect, it } from 'vitest'
import { envSchema, loadConfig } from '../../src/config/index.ts'

const noFile = { envFile: false as const }

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({}, noFile)
    expect(c).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      issuer: 'http://localhost:3000',
      logLevel: 'info',
      maxBodyBytes: 1_048_576,
    })
    expect(c.store).toEqual({ kind: 'sqlite', file: path.resolve('./data/sso-bridge.sqlite') })
    expect(c.keysDir).toBe(path.resolve('./keys'))
    expect(c.adminToken).toBeUndefined()
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('derives ISSUER from PORT and trims a trailing slash from a given one', () => {
    expect(loadConfig({ PORT: '8080' }, noFile).issuer).toBe('http://localhost:8080')
    expect(loadConfig({ ISSUER: 'https://sso.example.com/' }, noFile).issuer).toBe(
      'https://sso.example.com',
    )
  })

  it('selects PostgreSQL from DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/sso' }, noFile).store).toMatchObject({
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/sso',
    })
  })

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', ADMIN_TOKEN: '' }, noFile)).toMatchObject({
      port: 3000,
      store: { kind: 'sqlite' },
    })
  })

  it('names every bad key in one error', () => {
    let err: unknown
    try {
      loadConfig(
        {
          PORT: 'abc',
          ISSUER: 'ftp://x',
          DATABASE_URL: 'mysql://x',
          ADMIN_TOKEN: 'short',
          LOG_LEVEL: 'loud',
        },
        noFile,
      )
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID' })
    const paths = (err as { issues: { path: string }[] }).issues.map((i) => i.path).sort()
    expect(paths).toEqual(['ADMIN_TOKEN', 'DATABASE_URL', 'ISSUER', 'LOG_LEVEL', 'PORT'])
    expect((err as Error).message).toMatch(/PORT: .*"abc"/)
  })

  it('reads a .env file under the real environment, which wins', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-env-'))
    const file = path.join(dir, '.env')
    writeFileSync(file, 'PORT=4000\nLOG_LEVEL=debug\nMY_SECRET="from file"\n')
    const c = loadConfig({ PORT: '5000' }, { envFile: file })
    expect(c.port).toBe(5000)
    expect(c.logLevel).toBe('debug')
    expect(c.readSecretEnv('MY_SECRET')).toBe('from file')
    expect(c.readSecretEnv('NOPE')).toBeUndefined()
  })

  it('.env.example lists exactly the schema keys, each with a comment line above it', () => {
    const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
    const keys = Object.keys(parseEnv(text))
    expect(keys.sort()).toEqual(Object.keys(envSchema.shape).sort())
    const lines = text.split('\n')
    for (const key of keys) {
      const i = lines.findIndex((l) => l.startsWith(`${key}=`))
      expect(lines[i - 1], key).toMatch(/^# \S/)
    }
  })

  it('.env.example values are the schema defaults', () => {
    const example = parseEnv(readFileSync(new URL('../../.env.example', import.meta.url), 'utf8'))
    expect(() => loadConfig(example as Record<string, string>, noFile)).not.toThrow()
    const defaults = envSchema.parse({})
    for (const [key, value] of Object.entries(example)) {
      if (value === '') expect(defaults[key as keyof typeof defaults], key).toBeUndefined()
      else expect(String(defaults[key as keyof typeof defaults]), key).toBe(value)
    }
  })
})

describe('loadConfig error messages', () => {
  it('never echo credential values', () => {
    try {
      loadConfig({ ADMIN_TOKEN: 'sekrit', DATABASE_URL: 'mysql://u:hunter2@db/x' }, noFile)
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).not.toMatch(/sekrit|hunter2/)
      expect((err as Error).message).toMatch(/ADMIN_TOKEN: .*value hidden/)
    }
  })
})

describe('README configuration table', () => {
  it('names every configuration key', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const start = readme.indexOf('\n## Configuration\n')
    const table = readme.slice(start, readme.indexOf('\n## ', start + 5))
    for (const key of Object.keys(envSchema.shape)) expect(table, key).toContain(`\`${key}\``)
  })
})
