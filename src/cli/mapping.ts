/**
 * @module cli/mapping
 * `sso-bridge preview <integration> <external_id>`: the document an integration would send for
 * one account, with its key paths. `sso-bridge paths FILE|-`: every leaf path of any JSON
 * document, in the form a platform's "unique user key / username key" field takes.
 * `sso-bridge connection <integration>`: the connection sheet (connection/sheet.ts).
 */
import type { Command } from 'commander'
import { connectionSheet } from '../connection/sheet.ts'
import { previewIntegration } from '../integrations/preview.ts'
import { listPaths } from '../mapping/index.ts'
import type { CliContext } from './context.ts'
import { openInput, parseJsonInput, printJson, readAll, type CliIo } from './io.ts'

/** Adds the mapping helpers to the program: `preview`, `connection` and `paths`. */
export function registerMapping(program: Command, ctx: CliContext, io: CliIo): void {
  program
    .command('preview')
    .description('show the document an integration would send for one account, and its key paths')
    .argument('<integration>', 'integration id')
    .argument('<external_id>', "the account's external_id")
    .action(async (integration: string, externalId: string) => {
      printJson(io, await previewIntegration(await ctx.services(), integration, externalId))
    })

  program
    .command('connection')
    .description(
      "every value a platform's settings page asks for (endpoints, client id, key names); never a secret",
    )
    .argument('<integration>', 'integration id')
    .action(async (integration: string) => {
      printJson(
        io,
        await connectionSheet(
          (await ctx.services()).integrations,
          integration,
          ctx.config().issuer,
        ),
      )
    })

  program
    .command('paths')
    .description('list every leaf path of a JSON document with its value (e.g. names.nicknames.0)')
    .argument('<file>', 'a JSON file, or "-" for stdin')
    .action(async (file: string) => {
      const text =
        file === '-' ? await readAll(io.stdin) : await readAll(await openInput(file, '<file>'))
      printJson(io, { paths: listPaths(parseJsonInput(text, '<file>')) })
    })
}
