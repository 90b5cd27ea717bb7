/**
 * The shipped systemd unit (docs/deploy/sso-bridge.service) passes `systemd-analyze verify`:
 * exit 0 and not one warning about the unit (an unknown key, a bad value or a missing
 * executable is only a warning there). The unit names the release at /opt/sso-bridge; the check
 * runs on a copy with that path pointed at this checkout, so ExecStart names a file that exists.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { unitEnvironment, UNIT_FILE } from '../helpers/systemd-unit.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze'
const UNIT = UNIT_FILE
const RELEASE = '/opt/sso-bridge'

const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-unit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Writes `text` as sso-bridge.service in a fresh folder and runs `systemd-analyze <args> <file>` on it. */
function analyze(args: string[], text: string): { status: number | null; output: string } {
  if (!existsSync(SYSTEMD_ANALYZE))
    throw new Error(
      `${SYSTEMD_ANALYZE} is missing: \`apt-get install -y --no-install-recommends systemd\`. This test never skips.`,
    )
  const unitDir = mkdtempSync(path.join(dir, 'unit-'))
  const file = path.join(unitDir, 'sso-bridge.service')
  writeFileSync(file, text)
  const r = spawnSync(SYSTEMD_ANALYZE, [...args, file], {
    encoding: 'utf8',
    timeout: PROCESS_TEST_TIMEOUT,
  })
  // Only lines about this unit: verify may also mention units of the machine it runs on.
  const output = `${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => l.includes('sso-bridge'))
    .join('\n')
  return { status: r.status, output }
}

/** `systemd-analyze verify` on `text`. */
const verify = (text: string) => analyze(['verify'], text)

/**
 * `systemd-analyze security --offline` on `text`: exit 0 when the unit's exposure score (0 best,
 * 10 worst) is at most `maxExposure`.
 */
const security = (text: string, maxExposure: number) =>
  analyze(['security', '--offline=yes', `--threshold=${Math.round(maxExposure * 10)}`], text)

/** The shipped unit with the release path pointed at this checkout. */
function shippedUnit(): string {
  const text = readFileSync(UNIT, 'utf8')
  expect(text).toContain(
    `ExecStart=${RELEASE}/node_modules/.bin/node --max-semi-space-size=4 scripts/start.js`,
  )
  return text.split(RELEASE).join(path.resolve('.'))
}

describe('docs/deploy/sso-bridge.service', () => {
  it(
    'systemd-analyze verify accepts it: exit 0, no warning about the unit',
    () => {
      expect(existsSync(path.resolve('node_modules/.bin/node'))).toBe(true)
      expect(verify(shippedUnit())).toEqual({ status: 0, output: '' })
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'is sandboxed as docs/deploying.md says',
    () => {
      const settings = new Map(
        readFileSync(UNIT, 'utf8')
          .split('\n')
          .filter((l) => /^[A-Z]\w*=/.test(l))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
      )
      expect(Object.fromEntries(settings)).toMatchObject({
        DynamicUser: 'yes',
        StateDirectory: 'sso-bridge',
        ProtectSystem: 'strict',
        NoNewPrivileges: 'yes',
        PrivateTmp: 'yes',
        ProtectHome: 'yes',
        CapabilityBoundingSet: '',
      })
      // DATA_DIR and KEYS_DIR are inside the state directory, the one writable place.
      const vars = unitEnvironment()
      expect(vars.DATA_DIR).toMatch(/^\/var\/lib\/sso-bridge\//)
      expect(vars.KEYS_DIR).toMatch(/^\/var\/lib\/sso-bridge\//)
      expect(vars).toMatchObject({ HOST: '127.0.0.1', TRUST_PROXY: '1' })
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'systemd-analyze security rates its exposure 2.0 or better (systemd\'s "OK"), and a bare unit worse',
    () => {
      const unit = shippedUnit()
      const rated = security(unit, 2.0)
      expect(rated.status, rated.output).toBe(0)
      expect(rated.output).toMatch(/Overall exposure level for sso-bridge\.service: \d+\.\d/)
      // The same service without its sandbox section is rated far worse: the check measures it.
      const bare = unit.replace(/^# Sandbox\.[\s\S]*?(?=^\[Install\])/m, '')
      expect(bare).not.toMatch(/^DynamicUser=/m)
      expect(security(bare, 2.0).status).not.toBe(0)
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'the check can fail: a misspelt key, a bad value and a missing executable are each reported',
    () => {
      const unit = shippedUnit()
      const typo = verify(unit.replace(/^ProtectHome=yes$/m, 'ProtectHome=yes\nProtectHomes=yes'))
      expect(typo.output).toMatch(/Unknown key 'ProtectHomes'/)
      const bad = verify(unit.replace(/^ProtectSystem=strict$/m, 'ProtectSystem=very'))
      expect(bad.output).toMatch(/protect system value.*very/i)
      const missing = verify(unit.replace(/^ExecStart=(\S+)\/node /m, 'ExecStart=$1/no-such-node '))
      expect(missing.status).not.toBe(0)
      expect(missing.output).toMatch(/no-such-node/)
    },
    PROCESS_TEST_TIMEOUT,
  )
})
