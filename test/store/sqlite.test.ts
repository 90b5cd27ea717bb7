import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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
    expect(() => createSqliteStore(path.join(notADir, 'here.sqlite'))).toThrow(expect.objectContaining({ code: 'ERR_STORE_UNAVAILABLE' }))
  })
})
