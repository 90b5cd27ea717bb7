/**
 * @module cli/operators
 * `sso-bridge operators …`: operator accounts for the /console sign-in (issue #14). Operators are
 * not members; this is the only way to make one. Every change is written to the operator audit
 * log with actor `cli`. A password is never an argument (it would sit in `ps` and shell history):
 * it is typed at a prompt with no echo, or read from `--password-file` (`-` for stdin).
 */
import type { Readable } from 'node:stream'
import type { Command } from 'commander'
import type { CliContext } from './context.ts'
import { openInput, printJson, readAll, usageError, type CliIo } from './io.ts'

/** Who the audit log names for a change made from the shell. */
const ACTOR = 'cli'

/** Adds `operators` (add, list, disable, enable, delete, reset-password, totp, audit) to the program. */
export function registerOperators(program: Command, ctx: CliContext, io: CliIo): void {
  const operators = program
    .command('operators')
    .description('manage operator accounts for the /console sign-in (not members)')

  const passwordOption = [
    '--password-file <path>',
    'read the password from the first line of a file ("-" for stdin); without it, a prompt asks (no echo)',
  ] as const

  operators
    .command('add')
    .description('create an operator (asks for a password)')
    .argument('<name>', 'letters, digits, ".", "_" or "-", up to 64')
    .option(...passwordOption)
    .action(async (name: string, opts: { passwordFile?: string }) => {
      const password = await readPassword(io, opts.passwordFile)
      const { operators: service } = await ctx.services()
      printJson(io, await service.add(name, password, ACTOR))
    })

  operators
    .command('list')
    .description('list operators (name, disabled, whether TOTP is set up)')
    .action(async () => {
      const { operators: service } = await ctx.services()
      printJson(io, await service.list())
    })

  operators
    .command('disable')
    .description(
      'disable an operator: no sign-in, and a live console session ends at its next request',
    )
    .argument('<name>')
    .action(async (name: string) => {
      const { operators: service } = await ctx.services()
      printJson(io, await service.setDisabled(name, true, ACTOR))
    })

  operators
    .command('enable')
    .description('enable a disabled operator again')
    .argument('<name>')
    .action(async (name: string) => {
      const { operators: service } = await ctx.services()
      printJson(io, await service.setDisabled(name, false, ACTOR))
    })

  operators
    .command('delete')
    .description('delete an operator')
    .argument('<name>')
    .action(async (name: string) => {
      const { operators: service } = await ctx.services()
      await service.remove(name, ACTOR)
      printJson(io, { name, deleted: true })
    })

  operators
    .command('reset-password')
    .description("set an operator's password (asks for it)")
    .argument('<name>')
    .option(...passwordOption)
    .action(async (name: string, opts: { passwordFile?: string }) => {
      const password = await readPassword(io, opts.passwordFile)
      const { operators: service } = await ctx.services()
      printJson(io, await service.resetPassword(name, password, ACTOR))
    })

  operators
    .command('totp')
    .description(
      'set up (or replace) the TOTP second factor: prints the otpauth URI and a QR code to scan',
    )
    .argument('<name>')
    .option('--remove', 'remove the second factor instead')
    .action(async (name: string, opts: { remove?: boolean }) => {
      const services = await ctx.services()
      if (opts.remove) return printJson(io, await services.operators.removeTotp(name, ACTOR))
      const { uri } = await services.operators.setupTotp(name, ctx.config().site.name, ACTOR)
      // qrcode is loaded here only: no other command (nor the server) pays for it.
      const { default: qrcode } = await import('qrcode')
      const qr = await qrcode.toString(uri, { type: 'terminal', small: true })
      io.stdout.write(
        `Scan this with an authenticator app, or enter the URI. It holds the secret: do not share it.\n${uri}\n\n${qr}\n`,
      )
    })

  operators
    .command('audit')
    .description('the operator audit log: sign-ins, sign-outs and changes, oldest first')
    .option('--limit <n>', 'at most this many entries', '1000')
    .action(async (opts: { limit: string }) => {
      const limit = Number(opts.limit)
      if (!Number.isInteger(limit) || limit < 1)
        throw usageError('--limit must be a positive integer')
      const { operators: service } = await ctx.services()
      printJson(io, await service.listAudit(limit))
    })
}

/** The password from `--password-file`, else from a no-echo prompt on a terminal. */
async function readPassword(io: CliIo, file: string | undefined): Promise<string> {
  if (file !== undefined) {
    const text = await readAll(file === '-' ? io.stdin : await openInput(file, '--password-file'))
    return text.split(/\r?\n/, 1)[0] ?? ''
  }
  const tty = io.stdin as Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown }
  if (!tty.isTTY || !tty.setRawMode)
    throw usageError('no terminal to ask for the password on: give --password-file (- for stdin)')
  const first = await prompt(io, tty, 'Password: ')
  const again = await prompt(io, tty, 'Password (again): ')
  if (first !== again) throw usageError('the two passwords differ')
  return first
}

/** Reads one line from a terminal in raw mode, echoing nothing (Ctrl-C aborts). */
function prompt(
  io: CliIo,
  tty: Readable & { setRawMode?: (raw: boolean) => unknown },
  label: string,
): Promise<string> {
  // Echo off before the label shows: whatever is typed (or pasted) once the prompt is visible
  // must never reach the screen.
  tty.setRawMode!(true)
  io.stderr.write(label)
  tty.resume()
  return new Promise((resolve, reject) => {
    let text = ''
    const done = (err?: Error) => {
      tty.off('data', onData)
      tty.setRawMode!(false)
      tty.pause()
      io.stderr.write('\n')
      if (err) reject(err)
      else resolve(text)
    }
    const onData = (chunk: Buffer | string) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(usageError('cancelled'))
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1)
        else text += ch
      }
    }
    tty.on('data', onData)
  })
}
