/**
 * The documentation's examples, run as written: every `sh` block of the Admin API page
 * (docs/admin-api.md) and the Command line page (docs/cli.md) runs in bash (set -e) against a
 * real server started the way `npm start` starts it.
 * Only the base URL is pointed at the test server's port. Every command is a real process
 * (test/helpers/readme.ts says why), so these tests wait as long as a loaded machine needs.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  jsonValues,
  linkCli,
  docPage,
  PROCESS_TEST_TIMEOUT,
  runBlock,
  shBlocks,
} from '../helpers/readme.ts'
import { startServer, type ServerProcess } from '../helpers/server.ts'

let server: ServerProcess
let adminToken: string

beforeAll(async () => {
  // The Admin API example names SSO_BRIDGE_SECRET_MINNIT_KEY: the server's environment has it, as the README says.
  server = await startServer({ SSO_BRIDGE_SECRET_MINNIT_KEY: 'm'.repeat(32) })
  adminToken = readFileSync(path.join(server.dir, 'data', 'admin-token'), 'utf8').trim()
  linkCli(server)
}, PROCESS_TEST_TIMEOUT)

afterAll(async () => {
  server.child.kill('SIGTERM')
  await server.exited
}, PROCESS_TEST_TIMEOUT)

const run = (script: string) => runBlock(script, server)

async function api(p: string) {
  const res = await fetch(`${server.url}/api/v1${p}`, {
    headers: { Authorization: `Bearer ${adminToken}` },
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('documentation examples', () => {
  it(
    'Admin API (docs/admin-api.md): every block runs and does what the text says',
    async () => {
      const blocks = shBlocks(docPage('admin-api'))
      expect(blocks).toHaveLength(5)
      const outputs: string[] = []
      for (const block of blocks) outputs.push(await run(block)) // in order: each builds on the last
      expect(outputs[0]).toContain('"external_id":"42"')
      expect((await api('/users/42')).body).toMatchObject({
        username: 'Rob',
        rank: 'moderator',
        profile: { names: { nicknames: ['Rob', 'Robbie'] } },
      })
      expect(JSON.parse(outputs[1]!)).toMatchObject({ received: 2, accepted: 2, rejected: [] })
      expect((await api('/users/1001')).body).toMatchObject({
        username: 'alice',
        rank: 'owner',
        email_verified: true,
        has_password: true,
      })
      // Block 3 prints the integration, then the preview of member 42.
      const [integration, preview] = jsonValues(outputs[2]!)
      expect(integration).toMatchObject({
        id: 'minnit',
        secrets: {
          encryption_key: { source: 'env', env: 'SSO_BRIDGE_SECRET_MINNIT_KEY', set: true },
        },
      })
      expect(preview.document).toEqual({
        userid: '42',
        username: 'Rob',
        nickname: 'Robbie',
        rank: 'moderator',
        names: { nicknames: ['Rob', 'Robbie'] },
      })
      expect(preview.paths).toContainEqual({ path: 'names.nicknames.1', value: 'Robbie' })
      expect(JSON.parse(outputs[3]!).paths.map((p: { path: string }) => p.path)).toEqual([
        'id',
        'names.full_name',
        'names.first',
        'names.last',
        'names.nicknames.0',
        'names.nicknames.1',
      ])
      // Block 5 lists the site-ticket events: none here (the examples redeem no ticket).
      expect(JSON.parse(outputs[4]!)).toEqual({ items: [], next_cursor: null })
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'Command line (docs/cli.md): every block runs against the same store',
    async () => {
      const blocks = shBlocks(docPage('cli'))
      expect(blocks).toHaveLength(1)
      const out = await run(blocks[0]!)
      expect(out).toContain('"username": "Carol"')
      expect(out).toContain('"userid": "44"')
      expect(out).toContain('"cleared": false')
      expect(out).toContain('"path": "names.nicknames.1"')
      expect((await api('/users/43')).status).toBe(404)
      expect((await api('/users/45')).body).toMatchObject({ username: 'erin' })
      // Ten CLI processes one after the other, seconds each on a loaded machine (127 s seen for
      // eight): the limit only catches a hang.
    },
    PROCESS_TEST_TIMEOUT,
  )
})
