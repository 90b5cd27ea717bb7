/**
 * @module cli
 * `sso-bridge`: the admin API's operations from a shell, against the same store and KEYS_DIR
 * the server uses (same config, `.env` included). {@link run} builds a fresh program per call
 * and returns the exit code instead of exiting, so tests can drive it in-process; `main` is the
 * process entry (bin/sso-bridge.js, `npm run cli`).
 */
import { Command, CommanderError } from 'commander'
import { VERSION } from '../version.ts'
import { registerBackup } from './backup.ts'
import { createContext, type CliContext } from './context.ts'
import { registerIntegrations } from './integrations.ts'
import { describeError, EXIT, usageError, type CliIo } from './io.ts'
import { registerKeys } from './keys.ts'
import { registerMapping } from './mapping.ts'
import { registerSecrets } from './secrets.ts'
import { registerOperators } from './operators.ts'
import { registerTokens } from './tokens.ts'
import { registerUsers } from './users.ts'

/** The commander program with every command group registered, writing only through `io`. */
function buildProgram(ctx: CliContext, io: CliIo): Command {
  const program = new Command('sso-bridge')
    .description(
      'sso-bridge administration: accounts, integrations, signing keys, backup and restore (reads the server config: environment and .env)',
    )
    .version(VERSION, '-V, --version')
    // Commander would print its own error text and call process.exit; we want the wire JSON
    // and the exit code decided in one place (see routeUsageErrors). Subcommands made with
    // .command() inherit this output configuration.
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => {},
    })
  registerUsers(program, ctx, io)
  registerIntegrations(program, ctx, io)
  registerKeys(program, ctx, io)
  registerMapping(program, ctx, io)
  registerTokens(program, ctx, io)
  registerSecrets(program, ctx, io)
  registerBackup(program, ctx, io)
  registerOperators(program, ctx, io)
  routeUsageErrors(program)
  return program
}

/**
 * Makes each command turn commander's exits into our usage error, naming its own help
 * (`sso-bridge users put --help`): commander's error does not say which command failed.
 */
function routeUsageErrors(cmd: Command, parents: readonly string[] = []): void {
  const name = [...parents, cmd.name()]
  cmd.exitOverride((err) => {
    if (err.exitCode === 0) throw err // --help, --version
    // A group called without a subcommand: commander already printed its help, the message.
    if (err.code === 'commander.help') throw usageError('')
    throw usageError(`${err.message.replace(/^error: /, '')} (see ${name.join(' ')} --help)`)
  })
  for (const sub of cmd.commands) routeUsageErrors(sub, name)
}

/**
 * Runs one command line (arguments only, without node and the script) and resolves to the
 * exit code. Data goes to `io.stdout`, errors to `io.stderr`; config comes from `io.env`
 * (default: the process environment). The store is closed before it resolves.
 */
export async function run(
  argv: readonly string[],
  io: Partial<CliIo> & { env?: Record<string, string | undefined> } = {},
): Promise<number> {
  const { env, ...streams } = io
  const full: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    ...streams,
  }
  // Like main.ts, this is a composition root: the only CLI module that reads the environment.
  const ctx = createContext(env ?? process.env)
  let code: number = EXIT.ok
  try {
    await buildProgram(ctx, full).parseAsync([...argv], { from: 'user' })
  } catch (err) {
    if (!(err instanceof CommanderError && err.exitCode === 0)) code = report(err, full, ctx)
  }
  try {
    await ctx.close()
  } catch (err) {
    const closing = report(err, full, ctx)
    if (code === EXIT.ok) code = closing
  }
  return code
}

function report(err: unknown, io: CliIo, ctx: CliContext): number {
  const { wire, exitCode } = describeError(err)
  if (wire.message !== '') io.stderr.write(`${JSON.stringify(wire)}\n`)
  const level = ctx.env.LOG_LEVEL
  if (
    exitCode === EXIT.failure &&
    wire.error === 'internal_error' &&
    (level === 'debug' || level === 'trace')
  ) {
    io.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  }
  return exitCode
}

/**
 * The `sso-bridge` executable: {@link run} over process.argv, its result as the exit code.
 * Sets `process.exitCode` rather than exiting, so piped output is flushed first.
 */
export async function main(): Promise<void> {
  // `sso-bridge users list | head` closes the pipe early; that is not an error worth a stack.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
  })
  // exitCode rather than process.exit(): stdout to a pipe is asynchronous and would be cut off.
  process.exitCode = await run(process.argv.slice(2))
}

if (import.meta.main) await main()
