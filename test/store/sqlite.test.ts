import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { defineStoreContract } from '../contract/store.contract.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-sqlite-'))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))

defineStoreContract('sqlite', async () => createSqliteStore(path.join(dir, `t${n++}.sqlite`)))

describe('sqlite store specifics', () => {
  it('reopens an existing file without re-running migrations and keeps the data', async () => {
    const file = path.join(dir, 'reopen.sqlite')
    const a = createSqliteStore(file)
    await a.putIntegration({ id: 'x', type: 'jwt', settings: {}, secrets: {}, mapping: null })
    await a.close()
    const b = createSqliteStore(file)
    expect(await b.getIntegration('x')).not.toBeNull()
    await b.close()
  })

  it('reports an unopenable file as ERR_STORE_UNAVAILABLE', () => {
    const notADir = path.join(dir, 'plain-file')
    writeFileSync(notADir, 'x')
    expect(() => createSqliteStore(path.join(notADir, 'here.sqlite'))).toThrow(
      expect.objectContaining({ code: 'ERR_STORE_UNAVAILABLE' }),
    )
  })

  it('every statement the store prepares on the raw connection only reads: writes go through writer.ts (issue #11: flush-before-write is structural)', () => {
    // writer.ts commits any open KV batch before each write; a write prepared on `db` directly
    // would skip that and could wait on a lock its own thread holds (group-commit.ts).
    const source = readFileSync(new URL('../../src/store/sqlite/store.ts', import.meta.url), 'utf8')
    const direct = [...source.matchAll(/\bdb\.prepare\(\s*[`'"]\s*(\w+)/g)].map((m) =>
      m[1]!.toUpperCase(),
    )
    const viaWriter = [...source.matchAll(/\bwriter\.prepare\(\s*[`'"]\s*(\w+)/g)].map((m) =>
      m[1]!.toUpperCase(),
    )
    expect(direct.length).toBeGreaterThan(0)
    expect(direct.filter((verb) => verb !== 'SELECT')).toEqual([])
    expect(new Set(viaWriter)).toEqual(new Set(['INSERT', 'UPDATE', 'DELETE']))
    expect(source).not.toMatch(/\bdb\.exec\(\s*['"`]BEGIN/)
  })
})
