/**
 * The "Platform tokens" page's examples (docs/tokens.md), run as written (bash, set -e) against a real server
 * started as `npm start` starts it, the CLI through `npx sso-bridge` on the same store. Every
 * command is a real process (test/helpers/readme.ts says why), so the test waits as long as a
 * loaded machine needs.
 */
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
import { MINNIT_KEY } from './helpers/fixtures.ts'
import { referenceDecrypt } from './helpers/minnit-reference.ts'

const blocks = shBlocks(docPage('tokens'))

let server: ServerProcess
beforeAll(async () => {
  server = await startServer()
  linkCli(server)
}, PROCESS_TEST_TIMEOUT)
afterAll(async () => {
  server.child.kill('SIGTERM')
  await server.exited
}, PROCESS_TEST_TIMEOUT)

describe('docs/tokens.md: Platform tokens', () => {
  it(
    'the example issues a zero-click token over the API and the CLI, and inspect decrypts it',
    async () => {
      expect(blocks).toHaveLength(1)
      const output = await runBlock(blocks[0]!, server)
      const [integration, user, issued, inspected] = jsonValues(output)
      expect(integration).toMatchObject({
        id: 'minnit-chat',
        secrets: { encryption_key: { source: 'inline', set: true } },
      })
      expect(user).toMatchObject({ external_id: '1', username: 'Robert' })
      expect(JSON.parse(referenceDecrypt(MINNIT_KEY, issued!.token))).toMatchObject({
        userid: '1',
        username: 'Robert',
        nickname: 'Robert Smith',
        rank: 'moderator',
      })
      expect(issued!.url).toContain('?embed&ssotoken=')
      expect(inspected).toMatchObject({
        integration: 'minnit-chat',
        payload: { userid: '1', username: 'Robert' },
        expired: false,
      })
    },
    PROCESS_TEST_TIMEOUT,
  )
})
