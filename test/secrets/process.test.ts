/**
 * Secrets at rest in the real server process (`node src/main.ts`): the key file KEYS_DIR/
 * secrets-key is generated on first start (0600), a server given another SECRETS_KEY refuses to
 * start with ERR_SECRETS_KEY_MISSING naming the key id it lacks (never a secret), and with the
 * old key listed second it starts.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { secretsKeyId } from '../../src/secrets/index.ts'
import {
  PROCESS_TEST_TIMEOUT,
  runServer,
  startServer,
  stopServer,
  type ServerProcess,
} from '../helpers/server.ts'
import { MINNIT_KEY, integrations } from '../tokens/helpers/fixtures.ts'

const ADMIN_TOKEN = 'secrets-at-rest-admin-token-0123456789'
let server: ServerProcess | undefined
afterEach(async () => {
  await stopServer(server)
  server = undefined
})

describe('secrets at rest in the server process', () => {
  it(
    'generates KEYS_DIR/secrets-key (0600); another SECRETS_KEY is refused at start, naming the missing key id',
    async () => {
      server = await startServer({ ADMIN_TOKEN, LOG_LEVEL: 'info' })
      const dir = server.dir
      const file = path.join(dir, 'keys', 'secrets-key')
      expect(statSync(file).mode & 0o777).toBe(0o600)
      const fileKey = readFileSync(file, 'utf8').trim()
      const kid = secretsKeyId(Buffer.from(fileKey, 'base64url'))
      expect(server.logs()).toContain('generated the secrets key')
      expect(server.logs()).toContain(kid)
      const res = await fetch(`${server.url}/api/v1/integrations/minnit`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(integrations.minnit),
      })
      expect(res.status).toBe(201)
      await stopServer(server)

      const dirs = { DATA_DIR: path.join(dir, 'data'), KEYS_DIR: path.join(dir, 'keys') }
      const other = randomBytes(32)
      const refused = await runServer({ ...dirs, ADMIN_TOKEN, SECRETS_KEY: other.toString('hex') })
      expect(refused.code).not.toBe(0)
      expect(refused.output).toContain('ERR_SECRETS_KEY_MISSING')
      expect(refused.output).toContain(kid)
      for (const secret of [MINNIT_KEY, fileKey, other.toString('hex')])
        expect(refused.output).not.toContain(secret)

      // The new key first, the old one (the file's) second: it starts and reads the secret.
      server = await startServer(
        { ...dirs, ADMIN_TOKEN, SECRETS_KEY: `${other.toString('base64')},${fileKey}` },
        dir,
      )
      const token = await fetch(`${server.url}/api/v1/integrations/minnit/tokens`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ external_id: 'nobody' }),
      })
      // The secret opened: the refusal is about the account, not the key.
      expect(token.status).toBe(404)
      expect(await token.json()).toMatchObject({ error: 'user_not_found' })
      expect(server.logs()).not.toContain(MINNIT_KEY)
    },
    PROCESS_TEST_TIMEOUT,
  )
})
