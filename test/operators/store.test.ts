/**
 * The operator table (migrations 004_operators) on both stores: the same answers from SQLite and
 * PostgreSQL for create, the case-insensitive unique name, patches, delete and the audit log.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { newId } from '../../src/store/ids.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import type { Store } from '../../src/store/ports.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { POSTGRES_MISSING } from '../setup/global.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-operators-'))
afterAll(async () => {
  await dropFreshSchemas()
  rmSync(dir, { recursive: true, force: true })
})

const stores: [string, () => Promise<Store>][] = [
  ['sqlite', async () => createSqliteStore(path.join(dir, `${newId()}.sqlite`))],
  [
    'postgres',
    async () => {
      if (inject('postgresUrl') === null) throw new Error(POSTGRES_MISSING)
      return createPostgresStore((await freshSchemaUrl()).url)
    },
  ],
]

describe.each(stores)('operator store: %s', (_name, open) => {
  it('creates, refuses a second spelling of a name, patches, lists, deletes and audits', async () => {
    const store = await open()
    try {
      const id = newId()
      const base = { id, name: 'Alice', password_hash: 'h1', totp_seed: null, disabled: false }
      expect(await store.insertOperator(base)).toBe(true)
      // Names are unique ignoring case: nothing is written for "alice".
      expect(await store.insertOperator({ ...base, id: newId(), name: 'alice' })).toBe(false)
      expect((await store.listOperators()).map((o) => o.name)).toEqual(['Alice'])

      const got = await store.getOperatorByName('ALICE')
      expect(got).toMatchObject({ id, name: 'Alice', password_hash: 'h1', totp_seed: null })
      expect(got!.disabled).toBe(false)
      expect(Date.parse(got!.created_at)).not.toBeNaN()

      expect(await store.updateOperator(id, { totp_seed: 'SEED', disabled: true })).toBe(true)
      expect(await store.getOperatorById(id)).toMatchObject({
        password_hash: 'h1',
        totp_seed: 'SEED',
        disabled: true,
      })
      // An absent field stays; a null seed clears it.
      expect(await store.updateOperator(id, { password_hash: 'h2', totp_seed: null })).toBe(true)
      expect(await store.getOperatorById(id)).toMatchObject({
        password_hash: 'h2',
        totp_seed: null,
        disabled: true,
      })
      expect(await store.updateOperator(newId(), { disabled: false })).toBe(false)

      await store.appendOperatorAudit({
        actor: 'cli',
        action: 'operator_added',
        target: 'operator:Alice',
      })
      await store.appendOperatorAudit({
        actor: 'operator:Alice',
        action: 'console_sign_in',
        target: 'operator:Alice',
      })
      const audit = await store.listOperatorAudit(10)
      expect(audit.map((a) => [a.actor, a.action, a.target])).toEqual([
        ['cli', 'operator_added', 'operator:Alice'],
        ['operator:Alice', 'console_sign_in', 'operator:Alice'],
      ])
      expect(await store.listOperatorAudit(1)).toHaveLength(1)

      expect(await store.deleteOperator(id)).toBe(true)
      expect(await store.deleteOperator(id)).toBe(false)
      expect(await store.getOperatorByName('alice')).toBeNull()
    } finally {
      await store.close()
    }
  })
})
