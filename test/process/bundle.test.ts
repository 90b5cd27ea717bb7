/**
 * Issue #13: `npm start` runs the server from a bundle of src/ (scripts/bundle.js), and that
 * bundle is never stale. On a copy of this checkout (its own bundle folder; the packages linked
 * from this one), real server processes started as `npm start` starts them:
 *
 * 1. the first start builds the bundle and runs it; the next one reuses it without building;
 * 2. a source file edited to the same length with its old modification time put back (what a
 *    size-and-mtime check would miss) is seen: the next start rebuilds and serves the change;
 * 3. when the bundle cannot be built (esbuild gone), the server still starts, from the sources
 *    and with the change, and says so on stderr;
 * 4. the cheap check a start makes first (every file's stat as the build recorded it) never
 *    answers a bundle its content check would refuse: a changed stat, or a file changed too
 *    shortly before the build to be trusted by its stat, sends the start to the content digest.
 *
 * Which module each server ran is read from its own record of the modules it loaded
 * (helpers/loaded-modules.ts), not inferred from timing.
 */
import { execFileSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { loadedModulesEnv } from '../helpers/loaded-modules.ts'
import {
  PROCESS_TEST_TIMEOUT,
  startServer,
  stopServer,
  type ServerProcess,
} from '../helpers/server.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const HEALTH = 'src/http/routes/health.ts'

const work = mkdtempSync(path.join(tmpdir(), 'sso-bridge-bundle-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/**
 * A copy of the checkout's tracked files (tests and connectors left out), with a node_modules
 * of links to this checkout's packages but a .cache of its own: its bundles are its own.
 */
function copyProject(name = 'app'): string {
  const app = path.join(work, name)
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter((f) => f && !f.startsWith('test/') && !f.startsWith('connectors/'))
  for (const file of files) {
    if (!existsSync(path.join(ROOT, file))) continue // deleted in the work tree
    mkdirSync(path.dirname(path.join(app, file)), { recursive: true })
    copyFileSync(path.join(ROOT, file), path.join(app, file))
  }
  mkdirSync(path.join(app, 'node_modules'))
  for (const entry of readdirSync(path.join(ROOT, 'node_modules')))
    if (entry !== '.cache')
      symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(app, 'node_modules', entry))
  return app
}

let server: ServerProcess | undefined
afterEach(async () => {
  await stopServer(server, 'SIGKILL')
  server = undefined
})

/**
 * Starts the copy's server as `npm start` does (scripts/start.js, run in the copy), asks
 * /healthz, stops it, and returns what it answered, what it said on stderr about the bundle,
 * and which main module it ran.
 */
async function startOnce(app: string, n: number) {
  const record = path.join(work, `modules-${n}.txt`)
  server = await startServer(
    { ADMIN_TOKEN: 'bundle-test-admin-token-0123456789abcdef', ...loadedModulesEnv(record) },
    path.join(work, 'state'),
    'node',
    app,
  )
  const health = await fetch(`${server.url}/healthz`)
  const body: unknown = await health.json()
  server.child.kill('SIGTERM')
  expect(await server.exited).toBe(0)
  const logs = server.logs()
  const mains = readFileSync(record, 'utf8')
    .split('\n')
    .filter((u) => /\/(main\.mjs|src\/main\.ts)$/.test(u))
  server = undefined
  return {
    status: health.status,
    body,
    built: logs.includes('sso-bridge: building the server bundle'),
    fellBack: logs.includes('sso-bridge: could not build the server bundle'),
    main: mains,
  }
}

const BUNDLE_MAIN =
  /^file:\/\/.*\/node_modules\/\.cache\/sso-bridge\/server\/([0-9a-f]{64})\/main\.mjs$/

describe('the server bundle behind npm start (issue #13)', () => {
  it(
    'is built on the first start, reused while nothing changed, rebuilt after any edit, and never run stale',
    async () => {
      const app = copyProject()
      expect(existsSync(path.join(app, 'node_modules/.cache'))).toBe(false)
      // A whole-second modification time, so it can be put back exactly after the edit below.
      const health = path.join(app, HEALTH)
      const mtime = new Date('2026-01-01T00:00:00Z')
      utimesSync(health, mtime, mtime)

      const first = await startOnce(app, 1)
      expect(first).toMatchObject({
        status: 200,
        body: { status: 'ok' },
        built: true,
        fellBack: false,
      })
      expect(first.main).toHaveLength(1)
      const firstDigest = BUNDLE_MAIN.exec(first.main[0]!)?.[1]
      expect(firstDigest).toBeDefined()

      const second = await startOnce(app, 2)
      expect(second).toMatchObject({ status: 200, body: { status: 'ok' }, built: false })
      expect(second.main).toEqual(first.main)

      // The same length, and the old modification time put back: only the content differs.
      const before = statSync(health)
      const source = readFileSync(health, 'utf8')
      expect(source).toContain("res.json({ status: 'ok' })")
      writeFileSync(
        health,
        source.replace("res.json({ status: 'ok' })", "res.json({ status: 'OK' })"),
      )
      utimesSync(health, mtime, mtime)
      expect(statSync(health).size).toBe(before.size)
      expect(statSync(health).mtimeMs).toBe(before.mtimeMs)

      const third = await startOnce(app, 3)
      expect(third).toMatchObject({
        status: 200,
        body: { status: 'OK' },
        built: true,
        fellBack: false,
      })
      const thirdDigest = BUNDLE_MAIN.exec(third.main[0] ?? '')?.[1]
      expect(thirdDigest).toBeDefined()
      expect(thirdDigest).not.toBe(firstDigest)

      // No bundler: a changed source is still what runs, from the sources.
      rmSync(path.join(app, 'node_modules/esbuild'))
      writeFileSync(
        health,
        source.replace("res.json({ status: 'ok' })", "res.json({ status: 'Ok' })"),
      )
      const fourth = await startOnce(app, 4)
      expect(fourth).toMatchObject({
        status: 200,
        body: { status: 'Ok' },
        built: true,
        fellBack: true,
      })
      expect(fourth.main).toEqual([`file://${path.join(app, 'src/main.ts')}`])
    },
    PROCESS_TEST_TIMEOUT * 2,
  )

  it(
    'trusts a file by its stat only when it was recorded settled, and reads it again after any change',
    async () => {
      const app = copyProject('app-stat')
      // scripts/bundle.js in a process of its own (the same Node; its own JavaScript rather than
      // a typed import of it): `call` is an expression over its exports, `b`.
      const call = (expression: string) =>
        execFileSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const b = await import(${JSON.stringify(path.join(app, 'scripts/bundle.js'))}); process.stdout.write(JSON.stringify(await ${expression}))`,
          ],
          { encoding: 'utf8' },
        )
      // What scripts/start.js asks first; `record` as the start records.
      const check = (record = false) =>
        JSON.parse(call(`b.checkBundle(${JSON.stringify(app)}, { record: ${record} })`)) as {
          main?: string
          by: string
        }
      const stats = () =>
        (
          JSON.parse(
            readFileSync(
              path.join(app, 'node_modules/.cache/sso-bridge/server/current.json'),
              'utf8',
            ),
          ) as { stats: Record<string, string | null> }
        ).stats
      // scripts/bundle.js's SETTLED_MS: how long ago a file must have changed to be recorded.
      const settled = () => sleep(2_000 + 250)
      const health = path.join(app, HEALTH)
      const source = readFileSync(health, 'utf8')

      // Edited right before the build (as npm and git write files right before postinstall):
      // recorded without a stat, so always read.
      await settled()
      writeFileSync(health, source.replace("status: 'ok'", "status: 'oK'"))
      expect(call(`b.buildBundle(${JSON.stringify(app)})`)).toMatch(/main\.mjs"$/)
      expect(stats()[HEALTH]).toBeNull()
      expect(stats()['src/main.ts']).toMatch(/^\d+:\d+:\d+:[\d.]+:[\d.]+$/)
      const built = check()
      expect(built).toMatchObject({ by: 'content', main: expect.stringMatching(/main\.mjs$/) })

      // npm's postinstall (`node scripts/bundle.js`) waits until such files settle and records
      // them: from then on the stat check alone answers.
      expect(
        execFileSync(process.execPath, ['scripts/bundle.js'], { cwd: app, encoding: 'utf8' }),
      ).toContain('up to date')
      expect(Object.values(stats())).not.toContain(null)
      expect(check()).toEqual({ by: 'stat', main: built.main })

      // Times changed, content not: the content decides, and the bundle is still the one; a
      // start records the stats it took before reading, so the next one trusts them again.
      const mtime = new Date('2026-01-01T00:00:00Z')
      utimesSync(health, mtime, mtime)
      expect(check()).toEqual({ by: 'content', main: built.main })
      await settled()
      expect(check(true)).toEqual({ by: 'content', main: built.main })
      expect(check()).toEqual({ by: 'stat', main: built.main })

      // The same length and the old modification time put back: only the change time tells,
      // and the content check refuses the bundle (and records nothing).
      writeFileSync(health, source.replace("status: 'ok'", "status: 'OK'"))
      utimesSync(health, mtime, mtime)
      expect(statSync(health).size).toBe(Buffer.byteLength(source))
      expect(check(true)).toEqual({ by: 'content' })
      expect(check()).toEqual({ by: 'content' })
    },
    PROCESS_TEST_TIMEOUT * 2,
  )
})
