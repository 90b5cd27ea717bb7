/**
 * Regression (issue #10, "Several instances"): instances on one PostgreSQL given different
 * KEYS_DIR contents started cleanly, then failed sign-ins whenever a browser changed instance.
 * The database now records the fingerprints of the keys in use; an instance whose keys differ
 * refuses to start (ERR_KEYS_MISMATCH, naming KEYS_DIR and what differs, never a secret), and
 * `keys rotate` / `keys record` update the record. Real server and CLI processes on the test
 * PostgreSQL.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cliSandbox, removeSandboxes } from '../helpers/cli.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { runServer, startServer, type ServerProcess } from '../helpers/server.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const ADMIN = 'multi-keys-admin-token-0123456789abcdef'
const running: ServerProcess[] = []
let dir: string
let cli: Awaited<ReturnType<typeof cliSandbox>>['cli']
let url: string

beforeAll(async () => {
  ;({ dir, cli } = await cliSandbox('sso-bridge-multi-keys-'))
  url = (await freshSchemaUrl('sso_multikeys')).url
})
afterEach(async () => {
  for (const s of running.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGKILL')
      await s.exited
    }
  }
})
afterAll(async () => {
  await removeSandboxes()
  await dropFreshSchemas()
})

const env = (keys: string, data: string) => ({
  DATABASE_URL: url,
  KEYS_DIR: path.join(dir, keys),
  DATA_DIR: path.join(dir, data),
  ADMIN_TOKEN: ADMIN,
  ISSUER: 'http://127.0.0.1:1',
})
const start = async (keys: string, data: string) => {
  const s = await startServer(env(keys, data), dir)
  running.push(s)
  return s
}
const refused = (keys: string, data: string) =>
  runServer({ ...env(keys, data), PORT: '0', HOST: '127.0.0.1' })

describe('one set of keys per database (ERR_KEYS_MISMATCH)', () => {
  it(
    'an instance with other keys refuses to start; with a copy of the keys it starts; rotation and `keys record` move the record',
    async () => {
      // Instance A generates keys-a on first start and records their fingerprints.
      const a = await start('keys-a', 'data-a')
      expect(a.logs()).toMatch(/recorded the fingerprints of the keys in use/)

      // B, generating its own keys-b: refused, naming KEYS_DIR and every kind that differs.
      const b = await refused('keys-b', 'data-b')
      expect(b.code).not.toBe(0)
      expect(b.output).toContain('ERR_KEYS_MISMATCH')
      expect(b.output).toContain(path.join(dir, 'keys-b'))
      expect(b.output).toMatch(/OIDC signing keys.*SAML signing keys.*the cookie secret/)
      expect(b.output).not.toMatch(/sso-bridge listening/)
      const secretB = readFileSync(path.join(dir, 'keys-b', 'cookie-secret'), 'utf8').trim()
      expect(b.output).not.toContain(secretB)

      // Only the cookie secret differs: refused, naming just that, without its value.
      cpSync(path.join(dir, 'keys-a'), path.join(dir, 'keys-c'), { recursive: true })
      const secretC = 'another-cookie-secret-of-the-c-copy-0123456789'
      writeFileSync(path.join(dir, 'keys-c', 'cookie-secret'), `${secretC}\n`, { mode: 0o600 })
      const c = await refused('keys-c', 'data-c')
      expect(c.code).not.toBe(0)
      expect(c.output).toContain('the cookie secret')
      expect(c.output).not.toMatch(/OIDC signing keys \(/)
      expect(c.output).not.toContain(secretC)
      expect(c.output).not.toContain(
        readFileSync(path.join(dir, 'keys-a', 'cookie-secret'), 'utf8').trim(),
      )

      // A copy of A's keys: starts.
      cpSync(path.join(dir, 'keys-a'), path.join(dir, 'keys-copy'), { recursive: true })
      const copy = await start('keys-copy', 'data-copy')
      expect((await fetch(`${copy.url}/readyz`)).status).toBe(200)
      expect(copy.logs()).not.toMatch(/recorded the fingerprints/)

      // `keys rotate` on keys-a updates the record: the stale copy is refused, keys-a starts.
      const rot = await cli(['keys', 'rotate'], {
        env: { ...env('keys-a', 'data-cli'), LOG_LEVEL: 'silent' },
      })
      expect(rot.stderr).toBe('')
      expect(rot.code).toBe(0)
      const stale = await refused('keys-copy', 'data-copy2')
      expect(stale.code).not.toBe(0)
      expect(stale.output).toContain('ERR_KEYS_MISMATCH')
      expect(stale.output).toMatch(/OIDC signing keys.*SAML signing keys/)
      expect(stale.output).not.toContain('the cookie secret')
      const rotated = await start('keys-a', 'data-a2')
      expect((await fetch(`${rotated.url}/readyz`)).status).toBe(200)

      // Replacing the keys on purpose: `keys record` makes keys-b the keys in use.
      const rec = await cli(['keys', 'record'], {
        env: { ...env('keys-b', 'data-cli'), LOG_LEVEL: 'silent' },
      })
      expect(rec.code).toBe(0)
      expect(rec.stdout).not.toContain(secretB)
      const now = await start('keys-b', 'data-b2')
      expect((await fetch(`${now.url}/readyz`)).status).toBe(200)
    },
    PROCESS_TEST_TIMEOUT,
  ) // eight process starts

  it(
    'keys generate with the database out of reach says the record was not updated and how to fix it',
    async () => {
      const { cli: own } = await cliSandbox('sso-bridge-multi-keys-')
      const env = {
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        ISSUER: 'http://127.0.0.1:1',
        LOG_LEVEL: 'silent',
      }
      const gen = await own(['keys', 'generate'], { env })
      expect(gen.code).toBe(1)
      expect(JSON.parse(gen.stderr)).toMatchObject({
        error: 'store_unavailable',
        message: expect.stringContaining('sso-bridge keys record'),
      })
      expect(gen.stderr).toContain('the keys were written to')
    },
    PROCESS_TEST_TIMEOUT,
  )
})
