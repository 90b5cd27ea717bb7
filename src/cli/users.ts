/**
 * @module cli/users
 * `sso-bridge users …`: the admin API's account operations, run against the store directly.
 * Each command prints what the matching API call returns, so scripts and docs can use either.
 */
import path from 'node:path'
import type { Readable } from 'node:stream'
import { Option, type Command } from 'commander'
import {
  formatFromFileName,
  IMPORT_FORMATS,
  readImport,
  type ImportFormat,
} from '../accounts/import-formats.ts'
import { ValidationFailed } from '../errors/index.ts'
import { unlockAccount } from '../login/throttle.ts'
import type { CliContext } from './context.ts'
import {
  CliFailure,
  EXIT,
  openInput,
  printJson,
  readJsonBody,
  type BodyOptions,
  type CliIo,
} from './io.ts'

/** Adds `users` (put, get, delete, unlock, list, import) to the program: the CLI twin of /api/v1/users. */
export function registerUsers(program: Command, ctx: CliContext, io: CliIo): void {
  const users = program
    .command('users')
    .description('manage accounts (the operations of /api/v1/users)')

  users
    .command('put')
    .description(
      'create or replace an account (absent fields take their defaults; the password is kept unless given)',
    )
    .argument('<external_id>', "the site's own user key")
    // A password in --data is visible in `ps` and shell history; --file - keeps it off argv.
    .option('--data <json>', 'the account as a JSON object')
    .option(
      '--file <path>',
      'read the JSON object from a file ("-" for stdin); prefer this when it holds a password',
    )
    .action(async (externalId: string, opts: BodyOptions) => {
      const body = await readJsonBody(opts, io.stdin)
      const { accounts } = await ctx.services()
      const { account } = await accounts.put(externalId, body, 'cli')
      printJson(io, account)
    })

  users
    .command('get')
    .description('show one account')
    .argument('<external_id>')
    .action(async (externalId: string) => {
      const { accounts } = await ctx.services()
      printJson(io, await accounts.get(externalId))
    })

  users
    .command('delete')
    .description('delete one account')
    .argument('<external_id>')
    .action(async (externalId: string) => {
      const { accounts } = await ctx.services()
      await accounts.remove(externalId)
      printJson(io, { external_id: externalId, deleted: true })
    })

  users
    .command('unlock')
    .description('clear the failed sign-ins that lock an account out (its IP counts stay)')
    .argument('<external_id>')
    .action(async (externalId: string) => {
      const services = await ctx.services()
      printJson(io, await unlockAccount(services, externalId))
    })

  users
    .command('list')
    .description('list accounts in creation order, one page at a time')
    .option('--limit <n>', 'page size, 1 to 500', '100')
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (opts: { limit: string; cursor?: string }) => {
      const { accounts } = await ctx.services()
      // The service checks the range and names `limit`, exactly as the API reports it.
      const page = await accounts.list({
        limit: opts.limit.trim() === '' ? Number.NaN : Number(opts.limit),
        cursor: opts.cursor ?? null,
      })
      printJson(io, { items: page.items, next_cursor: page.next })
    })

  users
    .command('import')
    .description(
      'bulk create/replace accounts from a JSON array, NDJSON or CSV file; prints the import report, exits 1 if any record was rejected',
    )
    .argument('<file>', 'file to read, or "-" for stdin (then --format is required)')
    .addOption(
      new Option('--format <format>', 'input format (default: from the file extension)').choices(
        IMPORT_FORMATS,
      ),
    )
    .option('--atomic', 'commit nothing unless every record is valid', false)
    .action(async (file: string, opts: { format?: ImportFormat; atomic: boolean }) => {
      const format = opts.format ?? (file === '-' ? null : formatFromFileName(file))
      if (!format) {
        const why =
          file === '-'
            ? 'is required when reading stdin'
            : `cannot be guessed from the name ${path.basename(file)}`
        throw new ValidationFailed([
          { path: '--format', message: `${why}: give json, ndjson or csv` },
        ])
      }
      const input: Readable = file === '-' ? io.stdin : await openInput(file, 'file')
      try {
        const { accounts } = await ctx.services()
        const report = await accounts.import(readImport(input, format), {
          atomic: opts.atomic,
          actor: 'cli',
        })
        printJson(io, report)
        if (report.rejected.length > 0) {
          const rolledBack =
            report.atomic && !report.committed
              ? '; atomic import rolled back, nothing was committed'
              : ''
          throw new CliFailure(
            'ERR_IMPORT_REJECTED',
            `${report.rejected.length} of ${report.received} records rejected${rolledBack}`,
            EXIT.failure,
          )
        }
      } finally {
        // A parser that stops early (not a JSON array…) leaves the file open otherwise.
        if (input !== io.stdin) input.destroy()
      }
    })
}
