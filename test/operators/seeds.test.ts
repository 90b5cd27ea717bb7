/**
 * Operator TOTP seeds at rest (issue #14 with the secrets-at-rest box): sealed with AES-256-GCM
 * bound to the operator's id, never in the clear in the database, usable only on their own
 * operator, and resealed by `secrets rekey` under a new first key with sign-in still working.
 * Real SQLite store, real crypto.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Secret, TOTP } from 'otpauth'
import { afterAll, describe, expect, it } from 'vitest'
import { createOperatorService } from '../../src/operators/service.ts'
import { createSecretBox, isSealed, sealedKeyId, secretsKeyId } from '../../src/secrets/index.ts'
import { createServices } from '../../src/services.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-seeds-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const KEY_A = Buffer.alloc(32, 0xa1)
const KEY_B = Buffer.alloc(32, 0xb2)
const NOW = Date.parse('2026-12-04T12:00:00Z')

const codeAt = (uri: string, at: number) =>
  TOTP.generate({
    secret: Secret.fromBase32(new URL(uri).searchParams.get('secret')!),
    timestamp: at,
    period: 30,
    digits: 6,
  })

describe('operator TOTP seeds at rest', () => {
  it('are sealed, open only for their own operator, and are resealed by a rekey', async () => {
    const store = createSqliteStore(path.join(dir, 'db.sqlite'))
    try {
      let clock = NOW
      const ops = createOperatorService({
        store,
        box: createSecretBox([KEY_A]),
        now: () => clock,
      })
      await ops.add('alice', 'alice password 1', 'test')
      await ops.add('bob', 'bob password 123', 'test')
      const { uri } = await ops.setupTotp('alice', 'Site', 'test')
      const base32 = new URL(uri).searchParams.get('secret')!

      const alice = (await store.getOperatorByName('alice'))!
      expect(isSealed(alice.totp_seed)).toBe(true)
      expect(sealedKeyId(alice.totp_seed!)).toBe(secretsKeyId(KEY_A))
      expect(alice.totp_seed).not.toContain(base32)
      expect(await ops.checkTotp(alice, codeAt(uri, clock))).toBe('ok')

      // Alice's sealed seed copied onto Bob's row does not open for Bob.
      const bob = (await store.getOperatorByName('bob'))!
      await store.updateOperator(bob.id, { totp_seed: alice.totp_seed })
      clock += 30_000
      await expect(
        ops.checkTotp((await store.getOperatorByName('bob'))!, codeAt(uri, clock)),
      ).rejects.toMatchObject({ code: 'ERR_SECRET_UNREADABLE' })
      await store.updateOperator(bob.id, { totp_seed: null })

      // A new first key: `secrets rekey` (services.rekeySecrets) reseals the seed under it.
      const services = createServices(store, {
        readSecretEnv: () => undefined,
        secrets: createSecretBox([KEY_B, KEY_A]),
        now: () => clock,
      })
      const report = await services.rekeySecrets()
      expect(report.operator_totp_seeds).toEqual({ resealed: 1, current: 0 })
      const resealed = (await store.getOperatorByName('alice'))!
      expect(sealedKeyId(resealed.totp_seed!)).toBe(secretsKeyId(KEY_B))
      clock += 30_000
      expect(await services.operators.checkTotp(resealed, codeAt(uri, clock))).toBe('ok')
      expect((await services.rekeySecrets()).operator_totp_seeds).toEqual({
        resealed: 0,
        current: 1,
      })
      // Only the new key now: the seed still opens.
      const onlyB = createOperatorService({
        store,
        box: createSecretBox([KEY_B]),
        now: () => clock,
      })
      clock += 30_000
      expect(await onlyB.checkTotp(resealed, codeAt(uri, clock))).toBe('ok')
    } finally {
      await store.close()
    }
  })
})
