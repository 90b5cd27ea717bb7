/**
 * The README's "Platform tokens" examples, run as written (bash, set -e) against a real server
 * started as `npm start` starts it, the CLI through `npx sso-bridge` on the same store.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from '../helpers/server.ts'
import { MINNIT_KEY } from './helpers/fixtures.ts'
import { referenceDecrypt } from './helpers/minnit-reference.ts'

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const start = README.indexOf('\n## Platform tokens\n')
const section = README.slice(start, README.indexOf('\n## ', start + 4))
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)

let server: ServerProcess
beforeAll(async () => {
  server = await startServer()
  mkdirSync(path.join(server.dir, 'node_modules', '.bin'), { recursive: true })
  symlinkSync(path.resolve('bin/sso-bridge.js'), path.join(server.dir, 'node_modules', '.bin', 'sso-bridge'))
}, 30_000)
afterAll(async () => {
  server.child.kill('SIGTERM')
  await server.exited
})

/** The JSON values printed back to back (curl adds no newline between responses). */
function jsonValues(text: string): Record<string, any>[] {
  const out: Record<string, any>[] = []
  let depth = 0
  let from = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{') depth++ === 0 && (from = i)
    else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(from, i + 1)))
  }
  return out
}

describe('README: Platform tokens', () => {
  it('the example issues a zero-click token over the API and the CLI, and inspect decrypts it', () => {
    expect(blocks).toHaveLength(1)
    const output = execFileSync('bash', ['-euo', 'pipefail', '-c', blocks[0]!.replaceAll('http://localhost:3000', server.url)], {
      cwd: server.dir,
      env: {
        PATH: `${path.resolve('node_modules/.bin')}:${process.env.PATH}`,
        HOME: process.env.HOME ?? server.dir,
        DATA_DIR: path.join(server.dir, 'data'),
        KEYS_DIR: path.join(server.dir, 'keys'),
        LOG_LEVEL: 'silent',
        PS1: '',
        npm_config_yes: 'false',
        npm_config_offline: 'true',
      },
      encoding: 'utf8',
      timeout: 60_000,
    })
    const [integration, user, issued, inspected] = jsonValues(output)
    expect(integration).toMatchObject({ id: 'minnit-chat', secrets: { encryption_key: { source: 'inline', set: true } } })
    expect(user).toMatchObject({ external_id: '1', username: 'Robert' })
    expect(JSON.parse(referenceDecrypt(MINNIT_KEY, issued!.token))).toMatchObject({ userid: '1', username: 'Robert', nickname: 'Robert Smith', rank: 'moderator' })
    expect(issued!.url).toContain('?embed&ssotoken=')
    expect(inspected).toMatchObject({ integration: 'minnit-chat', payload: { userid: '1', username: 'Robert' }, expired: false })
  })
})
