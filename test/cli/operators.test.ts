/**
 * `sso-bridge operators …` (issue #14) over a fresh DATA_DIR per test, through the CLI's own
 * `run()` and, once, the real `npx sso-bridge` process. The password never appears on argv: it
 * comes from `--password-file` (`-` for stdin); TOTP codes are computed from the printed
 * otpauth URI with the same library, at the server's check.
 */
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { TOTP, URI } from 'otpauth'
import { afterAll, describe, expect, it } from 'vitest'
import { envSchema } from '../../src/config/index.ts'
import {
  cliSandbox,
  PROCESS_TEST_TIMEOUT,
  removeSandboxes,
  type CliResult,
} from '../helpers/cli.ts'

afterAll(removeSandboxes)

const json = (r: CliResult) => JSON.parse(r.stdout)
const wireError = (r: CliResult) => JSON.parse(r.stderr.trim().split('\n').at(-1)!)

describe.concurrent('sso-bridge operators', () => {
  it('add/list/disable/enable/reset-password/delete, each in the audit log with actor cli', async () => {
    const { cli } = await cliSandbox('sso-bridge-ops-')
    const add = await cli(['operators', 'add', 'alice', '--password-file', '-'], {
      input: 'a long operator password\n',
    })
    expect(add.code, add.stderr).toBe(0)
    expect(json(add)).toMatchObject({ name: 'alice', disabled: false, totp: false })
    // Neither the hash nor the password is ever printed.
    expect(add.stdout).not.toMatch(/argon2|long operator password/)

    const disabled = await cli(['operators', 'disable', 'alice'])
    expect(json(disabled)).toMatchObject({ name: 'alice', disabled: true })
    const list = await cli(['operators', 'list'])
    expect(json(list)).toEqual([expect.objectContaining({ name: 'alice', disabled: true })])
    expect(json(await cli(['operators', 'enable', 'ALICE']))).toMatchObject({ disabled: false })

    const reset = await cli(['operators', 'reset-password', 'alice', '--password-file', '-'], {
      input: 'another long password\n',
    })
    expect(reset.code, reset.stderr).toBe(0)

    const del = await cli(['operators', 'delete', 'alice'])
    expect(json(del)).toEqual({ name: 'alice', deleted: true })
    expect(json(await cli(['operators', 'list']))).toEqual([])

    const audit = json(await cli(['operators', 'audit']))
    expect(audit.map((a: { action: string }) => a.action)).toEqual([
      'operator_added',
      'operator_disabled',
      'operator_enabled',
      'operator_password_reset',
      'operator_deleted',
    ])
    for (const a of audit) expect(a).toMatchObject({ actor: 'cli', target: 'operator:alice' })
  })

  it('refuses bad input with a stable code and changes nothing', async () => {
    const { cli, dir } = await cliSandbox('sso-bridge-ops-')
    const pw = path.join(dir, 'pw.txt')
    await writeFile(pw, 'first password here\n')
    expect((await cli(['operators', 'add', 'bob', '--password-file', pw])).code).toBe(0)

    const twice = await cli(['operators', 'add', 'BOB', '--password-file', pw])
    expect(twice.code).toBe(1)
    expect(wireError(twice).error).toBe('operator_exists')

    const short = await cli(['operators', 'add', 'carol', '--password-file', '-'], {
      input: 'short\n',
    })
    expect(short.code).toBe(2)
    expect(wireError(short).error).toBe('validation_failed')

    const badName = await cli(['operators', 'add', 'no spaces', '--password-file', pw])
    expect(wireError(badName).error).toBe('validation_failed')

    // No terminal to prompt on and no --password-file: a usage error, not a hang.
    const noPassword = await cli(['operators', 'add', 'dave'])
    expect(noPassword.code).toBe(2)
    expect(wireError(noPassword).error).toBe('usage_error')

    for (const cmd of ['disable', 'delete', 'totp']) {
      const missing = await cli(['operators', cmd, 'nobody'])
      expect(missing.code, cmd).toBe(1)
      expect(wireError(missing).error, cmd).toBe('operator_not_found')
    }
    expect(json(await cli(['operators', 'list'])).map((o: { name: string }) => o.name)).toEqual([
      'bob',
    ])
    expect(json(await cli(['operators', 'audit']))).toHaveLength(1)
  })

  it('totp prints an otpauth URI (RFC 6238 parameters) and a terminal QR code', async () => {
    const { cli } = await cliSandbox('sso-bridge-ops-')
    await cli(['operators', 'add', 'erin', '--password-file', '-'], {
      input: 'erin password 123\n',
    })
    const out = await cli(['operators', 'totp', 'erin'])
    expect(out.code, out.stderr).toBe(0)
    const uri = out.stdout.split('\n').find((l) => l.startsWith('otpauth://'))!
    const totp = URI.parse(uri)
    expect(totp).toBeInstanceOf(TOTP)
    expect(totp).toMatchObject({ label: 'erin', algorithm: 'SHA1', digits: 6, period: 30 })
    expect((totp as TOTP).secret.bytes.length).toBe(20)
    // The QR code: block characters on several lines after the URI.
    expect(out.stdout.split('\n').filter((l) => /[█▀▄]/.test(l)).length).toBeGreaterThan(10)
    expect(json(await cli(['operators', 'list']))[0]).toMatchObject({ totp: true })
    // A second run replaces the seed.
    const again = await cli(['operators', 'totp', 'erin'])
    expect(again.stdout).not.toContain(uri)
    const removed = await cli(['operators', 'totp', 'erin', '--remove'])
    expect(json(removed)).toMatchObject({ totp: false })
  })

  it(
    'the real binary: npx sso-bridge operators add (password on stdin) then list',
    async () => {
      const { binary } = await cliSandbox('sso-bridge-ops-bin-')
      const add = await binary(['operators', 'add', 'root', '--password-file', '-'], {
        input: 'binary operator password\n',
      })
      expect(add.code, add.stderr).toBe(0)
      const list = await binary(['operators', 'list'])
      expect(list.code, list.stderr).toBe(0)
      expect(json(list)).toEqual([expect.objectContaining({ name: 'root', totp: false })])
    },
    PROCESS_TEST_TIMEOUT * 2,
  )
})

/**
 * The prompt on a real terminal: python3's pty module gives `npx sso-bridge operators add` a
 * pseudo-terminal as stdin, types the password twice, and reads everything the terminal shows —
 * the password must not be among it (no echo), and the operator must sign in with it.
 */
const PTY_SCRIPT = String.raw`
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp('npx', ['npx', 'sso-bridge', 'operators', 'add', 'tty-op'])
out = b''
def read_until(marker, limit):
    global out
    end = time.time() + limit
    while marker not in out and time.time() < end:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
read_until(b'Password: ', 120)
os.write(fd, sys.argv[1].encode() + b'\r')
read_until(b'(again): ', 60)
os.write(fd, sys.argv[1].encode() + b'\r')
read_until(b'}', 120)
_, status = os.waitpid(pid, 0)
try:
    while True:
        chunk = os.read(fd, 1024)
        if not chunk:
            break
        out += chunk
except OSError:
    pass
sys.stdout.write(out.decode('utf-8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`

describe('sso-bridge operators add on a terminal', () => {
  it(
    'prompts twice without echo, and the operator signs in with what was typed',
    async () => {
      const { dir, cli } = await cliSandbox('sso-bridge-ops-tty-')
      const typed = 'typed at a terminal 42'
      const env: Record<string, string | undefined> = { ...process.env }
      for (const key of Object.keys(envSchema.shape)) delete env[key]
      Object.assign(env, {
        DATA_DIR: path.join(dir, 'data'),
        KEYS_DIR: path.join(dir, 'keys'),
        LOG_LEVEL: 'silent',
        PATH: `${path.resolve('node_modules/.bin')}${path.delimiter}${process.env.PATH}`,
        npm_config_yes: 'false',
        npm_config_offline: 'true',
      })
      const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
        (resolve, reject) => {
          const child = spawn('python3', ['-c', PTY_SCRIPT, typed], { cwd: dir, env })
          let stdout = ''
          child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
          child.on('error', reject)
          child.on('close', (c) => resolve({ code: c, stdout }))
        },
      )
      expect(code, stdout).toBe(0)
      expect(stdout).toContain('Password: ')
      expect(stdout).toContain('Password (again): ')
      expect(stdout).toContain('"name": "tty-op"')
      expect(stdout).not.toContain(typed)
      // The same store, in-process: the typed password is the operator's.
      const list = await cli(['operators', 'list'])
      expect(json(list)).toEqual([expect.objectContaining({ name: 'tty-op' })])
      const { createContext } = await import('../../src/cli/context.ts')
      const ctx = createContext({
        ...Object.fromEntries(Object.keys(envSchema.shape).map((k) => [k, ''])),
        DATA_DIR: path.join(dir, 'data'),
        KEYS_DIR: path.join(dir, 'keys'),
        LOG_LEVEL: 'silent',
      })
      try {
        const { operators } = await ctx.services()
        expect(await operators.checkSignIn('tty-op', typed)).not.toBeNull()
        expect(await operators.checkSignIn('tty-op', `${typed}x`)).toBeNull()
      } finally {
        await ctx.close()
      }
    },
    PROCESS_TEST_TIMEOUT * 2,
  )
})
