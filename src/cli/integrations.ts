/**
 * @module cli/integrations
 * `sso-bridge integrations …`: the registry of chat-platform connections, run against the store
 * directly. Output comes from the registry's view, so secrets show only where they come from
 * and whether they are set, never their value.
 */
import type { Command } from 'commander'
import type { CliContext } from './context.ts'
import { printJson, readJsonBody, type BodyOptions, type CliIo } from './io.ts'

/** Adds `integrations` (put, get, list, delete) to the program: the CLI twin of /api/v1/integrations. */
export function registerIntegrations(program: Command, ctx: CliContext, io: CliIo): void {
  const integrations = program
    .command('integrations')
    .description('manage integrations (the operations of /api/v1/integrations)')

  integrations
    .command('put')
    .description('create or replace an integration (omitted secrets are kept, null removes one)')
    .argument('<id>', 'integration id: a-z, 0-9, "-" and "_"')
    // Inline secret values in --data end up in `ps` and shell history; --file - avoids that.
    .option('--data <json>', 'the integration as a JSON object {type, settings, secrets, mapping}')
    .option(
      '--file <path>',
      'read the JSON object from a file ("-" for stdin); prefer this for inline secrets',
    )
    .action(async (id: string, opts: BodyOptions) => {
      const body = await readJsonBody(opts, io.stdin)
      const { integrations } = await ctx.services()
      const { integration } = await integrations.put(id, body, { actor: 'cli' })
      printJson(io, integration)
    })

  integrations
    .command('get')
    .description('show one integration (secret values are never shown)')
    .argument('<id>')
    .action(async (id: string) => {
      const { integrations } = await ctx.services()
      printJson(io, await integrations.get(id))
    })

  integrations
    .command('delete')
    .description('delete one integration')
    .argument('<id>')
    .action(async (id: string) => {
      const { integrations } = await ctx.services()
      await integrations.remove(id, { actor: 'cli' })
      printJson(io, { id, deleted: true })
    })

  integrations
    .command('list')
    .description('list every integration')
    .action(async () => {
      const { integrations } = await ctx.services()
      printJson(io, { items: await integrations.list() })
    })
}
