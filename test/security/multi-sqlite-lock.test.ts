/**
 * Regression (issue #10, "Several instances"): two servers on one SQLite DATA_DIR started
 * without a word, then stalled each other on SQLite's write lock and failed writes with
 * "database is locked". The second server now refuses to start and names DATABASE_URL; the CLI
 * still writes beside the running server; a killed server leaves no stale lock behind.
 * Real processes throughout (`node src/main.ts`, `node bin/sso-bridge.js`).
 */
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { cliSandbox, removeSandboxes } from '../helpers/cli.ts'
import { runServer, startServer, type ServerProcess } from '../helpers/server.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const ADMIN = 'multi-sqlite-lock-admin-token-0123456789'
const running: ServerProcess[] = []
afterEach(async () => {
  for (const s of running.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGKILL')
      await s.exited
    }
  }
})
afterAll(removeSandboxes)

describe('one server per SQLite DATA_DIR (ERR_STORE_IN_USE)', () => {
  it(
    'a second server on the same DATA_DIR exits non-zero naming DATABASE_URL; the first keeps serving; the CLI still writes',
    async () => {
      const { dir, cli } = await cliSandbox('sso-bridge-multi-lock-')
      const env = {
        DATA_DIR: path.join(dir, 'data'),
        KEYS_DIR: path.join(dir, 'keys'),
        ADMIN_TOKEN: ADMIN,
      }
      const first = await startServer(env, dir)
      running.push(first)

      const second = await runServer({ ...env, PORT: '0', HOST: '127.0.0.1' })
      expect(second.code).not.toBe(0)
      expect(second.output).toContain('ERR_STORE_IN_USE')
      expect(second.output).toContain('DATABASE_URL')
      expect(second.output).toContain(env.DATA_DIR)
      expect(second.output).not.toMatch(/sso-bridge listening/)

      // The CLI beside the running server, as before: it writes, and the server sees the write.
      const put = await cli(['users', 'put', 'cli-beside', '--data', '{"username":"Beside"}'])
      expect(put.stderr).toBe('')
      expect(put.code).toBe(0)
      const res = await fetch(`${first.url}/api/v1/users/cli-beside`, {
        headers: { Authorization: `Bearer ${ADMIN}` },
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ external_id: 'cli-beside', username: 'Beside' })
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'a killed server leaves no stale lock: a new server starts on the same DATA_DIR',
    async () => {
      const { dir } = await cliSandbox('sso-bridge-multi-lock-')
      const env = {
        DATA_DIR: path.join(dir, 'data'),
        KEYS_DIR: path.join(dir, 'keys'),
        ADMIN_TOKEN: ADMIN,
      }
      const first = await startServer(env, dir)
      first.child.kill('SIGKILL') // no shutdown code runs: only the OS can drop the lock
      await first.exited
      const again = await startServer(env, dir)
      running.push(again)
      expect((await fetch(`${again.url}/readyz`)).status).toBe(200)
      // And after a clean stop too.
      again.child.kill('SIGTERM')
      expect(await again.exited).toBe(0)
      const third = await startServer(env, dir)
      running.push(third)
      expect((await fetch(`${third.url}/readyz`)).status).toBe(200)
    },
    PROCESS_TEST_TIMEOUT,
  )
})
