/**
 * scripts/system-packages.sh, the first step of `npm test`: its decisions, without installing
 * anything. Each case runs the real script in a sandbox: SYSTEM_PACKAGES_ROOT points its checks at
 * a temp dir holding the files of the packages a case calls present, and PATH holds stand-ins for
 * apt-get and sudo that only record how they were called (the apt-get stand-in may also lay down a
 * package's files, as an install would). "Not root" is real: as root, the script runs as nobody.
 */
import { execFileSync, spawn } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SCRIPT = path.join(ROOT, 'scripts/system-packages.sh')
const IS_ROOT = process.getuid?.() === 0
const BASH = ['/bin/bash', '/usr/bin/bash'].find((f) => existsSync(f))!

/** The script's own package table: each Debian package and the check that shows it installed. */
const TABLE = [
  .../^PACKAGES=\(\n([\s\S]*?)^\)/m
    .exec(readFileSync(SCRIPT, 'utf8'))![1]!
    .matchAll(/^\s*'(\S+)\s+(\S+)\s[^']*'$/gm),
].map(([, pkg, probe]) => ({ pkg: pkg!, probe: probe! }))

/** The files that make a package's check pass (a glob's `*` becomes one directory name). */
function filesOf(pkg: string): string[] {
  const { probe } = TABLE.find((row) => row.pkg === pkg)!
  if (probe === 'postgres_server')
    return ['initdb', 'pg_ctl', 'postgres'].map((b) => `/usr/lib/postgresql/15/bin/${b}`)
  if (probe.startsWith('/')) return [probe.replaceAll('*', 'x')]
  throw new Error(`no files known for the check ${probe}: teach filesOf`)
}

interface Box {
  dir: string
  root: string
  script: string
  bin: string
  log: string
}

const boxes: string[] = []
afterAll(() => {
  for (const dir of boxes) rmSync(dir, { recursive: true, force: true })
})

function lay(root: string, files: string[]): void {
  for (const file of files) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), '', { mode: 0o755 })
  }
}

/**
 * A sandbox where every package of the table is present except `missing`. `sudo` is a stand-in
 * that refuses (as `sudo -n` does when it would ask for a password) or allows; `installs` says
 * whether the apt-get stand-in lays down the files of the packages it is asked to install.
 */
function box(opts: { missing: string[]; sudo: 'refuses' | 'allows'; installs?: boolean }): Box {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-syspkg-'))
  boxes.push(dir)
  const b: Box = {
    dir,
    root: path.join(dir, 'root'),
    script: path.join(dir, 'system-packages.sh'),
    bin: path.join(dir, 'bin'),
    log: path.join(dir, 'calls.log'),
  }
  lay(
    b.root,
    TABLE.filter((row) => !opts.missing.includes(row.pkg)).flatMap((row) => filesOf(row.pkg)),
  )
  mkdirSync(path.join(b.root, 'usr/sbin'), { recursive: true })
  copyFileSync(SCRIPT, b.script)
  writeFileSync(b.log, '')
  mkdirSync(b.bin)
  // The few tools the script and the stand-ins run; nothing else of the machine is on PATH.
  for (const tool of ['env', 'sh', 'chmod', 'rm', 'mkdir', 'true']) {
    const real = ['/usr/bin', '/bin'].map((d) => path.join(d, tool)).find((f) => existsSync(f))!
    symlinkSync(real, path.join(b.bin, tool))
  }
  const provides = path.join(dir, 'provides')
  mkdirSync(provides)
  for (const row of TABLE)
    writeFileSync(path.join(provides, row.pkg), filesOf(row.pkg).join('\n') + '\n')
  writeFileSync(
    path.join(b.bin, 'apt-get'),
    `#!${BASH}
stdin=other; [[ /dev/stdin -ef /dev/null ]] && stdin=/dev/null
policy=absent; [[ -e '${b.root}/usr/sbin/policy-rc.d' ]] && policy=$(<'${b.root}/usr/sbin/policy-rc.d')
printf 'apt-get %s\\tDEBIAN_FRONTEND=%s\\tstdin=%s\\tpolicy-rc.d=%s\\n' "$*" "\${DEBIAN_FRONTEND-}" "$stdin" "\${policy//$'\\n'/ }" >> '${b.log}'
if [[ $1 == install && ${opts.installs ? 'yes' : 'no'} == yes ]]; then
  for pkg in "$@"; do
    [[ -f '${provides}'/$pkg ]] || continue
    while read -r f; do mkdir -p '${b.root}'"\${f%/*}"; : > '${b.root}'"$f"; chmod 755 '${b.root}'"$f"; done < '${provides}'/$pkg
  done
fi
`,
  )
  writeFileSync(
    path.join(b.bin, 'sudo'),
    `#!${BASH}
printf 'sudo %s\\n' "$*" >> '${b.log}'
${opts.sudo === 'allows' ? '[[ $1 == -n ]] && shift\nexec "$@"' : 'exit 1'}
`,
  )
  // nobody must be able to read and write the sandbox (it is a temp dir of this test only).
  execFileSync('chmod', ['-R', 'a+rwX', dir])
  chmodSync(path.join(b.bin, 'apt-get'), 0o777)
  chmodSync(path.join(b.bin, 'sudo'), 0o777)
  return b
}

interface Ran {
  code: number | null
  stdout: string
  stderr: string
  calls: string[]
}

/** Runs the script in `b` as this user, or (when this user is root) as nobody. */
function runScript(b: Box, as: 'self' | 'nobody', env: Record<string, string> = {}): Promise<Ran> {
  const [command, args] =
    as === 'nobody'
      ? ['/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', BASH, b.script]]
      : [BASH, [b.script]]
  const child = spawn(command, args, {
    env: { PATH: b.bin, SYSTEM_PACKAGES_ROOT: b.root, ...env },
    // A pipe, not /dev/null: apt-get must get /dev/null from the script itself.
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin.end()
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        calls: readFileSync(b.log, 'utf8').split('\n').filter(Boolean),
      }),
    )
  })
}

/** Who may not install: a user that is not root (nobody, when this test runs as root). */
const UNPRIVILEGED: 'self' | 'nobody' = IS_ROOT ? 'nobody' : 'self'

describe('scripts/system-packages.sh (the first step of npm test)', () => {
  it('lists every package the suites need, each with a check', () => {
    expect(TABLE.map((row) => row.pkg)).toEqual(
      expect.arrayContaining([
        'postgresql',
        'php-cli',
        'python3',
        'chromium',
        'wordpress',
        'mariadb-server',
        'nginx',
        'php-fpm',
        'php-mysql',
        'php',
        'openssl',
        'systemd',
      ]),
    )
    for (const row of TABLE) expect(filesOf(row.pkg).length, row.pkg).toBeGreaterThan(0)
    // apt takes php and nginx for WordPress's "libapache2-mod-php | php" and "apache2 | httpd"
    // only when they come first in the same install.
    const order = TABLE.map((row) => row.pkg)
    expect(order.indexOf('php')).toBeLessThan(order.indexOf('wordpress'))
    expect(order.indexOf('nginx')).toBeLessThan(order.indexOf('wordpress'))
  })

  it('with everything present exits 0 and runs neither apt-get nor sudo', async () => {
    const ran = await runScript(box({ missing: [], sudo: 'allows' }), 'self')
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.calls).toEqual([])
    expect(ran.stdout + ran.stderr).toBe('')
  })

  it('needs no PostgreSQL server binaries when TEST_DATABASE_URL names a server', async () => {
    const b = box({ missing: ['postgresql'], sudo: 'refuses' })
    const given = await runScript(b, UNPRIVILEGED, { TEST_DATABASE_URL: 'postgres://db/test' })
    expect(given.code, given.stderr).toBe(0)
    const none = await runScript(b, UNPRIVILEGED)
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('--no-install-recommends postgresql\n')
  })

  it('with a package missing and no right to install, exits 1 at once with the exact command naming only what is missing', async () => {
    const ran = await runScript(
      box({ missing: ['chromium', 'openssl'], sudo: 'refuses' }),
      UNPRIVILEGED,
    )
    expect(ran.code).toBe(1)
    expect(ran.stderr).toContain(
      '\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium openssl\n',
    )
    expect(ran.calls.filter((c) => c.startsWith('apt-get'))).toEqual([])
    expect(ran.calls).toEqual(['sudo -n true'])
  })

  const mayInstall: ['self' | 'nobody', string][] = IS_ROOT
    ? [
        ['self', 'as root'],
        ['nobody', 'through sudo without a password'],
      ]
    : [['self', 'through sudo without a password']]
  for (const [as, how] of mayInstall)
    it(`with packages missing, installs ${how} exactly those, non-interactively, with their services kept from starting`, async () => {
      const b = box({ missing: ['postgresql', 'wordpress'], sudo: 'allows', installs: true })
      const ran = await runScript(b, as)
      expect(ran.code, ran.stderr).toBe(0)
      const expected = (args: string) =>
        `apt-get ${args}\tDEBIAN_FRONTEND=noninteractive\tstdin=/dev/null\tpolicy-rc.d=#!/bin/sh exit 101`
      expect(ran.calls.filter((c) => c.startsWith('apt-get'))).toEqual([
        expected('update'),
        expected('install -y --no-install-recommends postgresql wordpress'),
      ])
      if (as === 'nobody')
        expect(ran.calls.filter((c) => c.startsWith('sudo'))).toEqual(
          expect.arrayContaining([
            'sudo -n true',
            'sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql wordpress',
          ]),
        )
      else expect(ran.calls.filter((c) => c.startsWith('sudo'))).toEqual([])
      // The policy-rc.d it wrote is gone again.
      expect(existsSync(path.join(b.root, 'usr/sbin/policy-rc.d'))).toBe(false)
      expect(ran.stdout).toContain('installing what the test suites need: postgresql wordpress')
    })

  it('keeps a policy-rc.d that was already there', async () => {
    const b = box({ missing: ['chromium'], sudo: 'allows', installs: true })
    writeFileSync(path.join(b.root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 0\n', { mode: 0o777 })
    const ran = await runScript(b, 'self')
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.calls.at(-1)).toContain('install -y --no-install-recommends chromium')
    expect(ran.calls.at(-1)).toContain('policy-rc.d=#!/bin/sh exit 0')
    expect(readFileSync(path.join(b.root, 'usr/sbin/policy-rc.d'), 'utf8')).toBe(
      '#!/bin/sh\nexit 0\n',
    )
  })

  it('fails when apt-get did not bring what was missing', async () => {
    const ran = await runScript(
      box({ missing: ['chromium'], sudo: 'allows', installs: false }),
      'self',
    )
    expect(ran.code).toBe(1)
    expect(ran.stderr).toContain('still missing after apt-get install: chromium')
  })

  it('is the first step of npm test, and .ci/run leaves installing packages to it', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    expect(pkg.scripts.test).toMatch(/^bash scripts\/system-packages\.sh && /)
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8')
    expect(ci).not.toMatch(/apt-get|policy-rc\.d/)
    expect(ci).toMatch(/^npm test\b/m)
  })
})
