/**
 * @module cli/tokens
 * `sso-bridge token <integration> <external_id>`: issues the platform token an integration gives
 * an account — `{token, url, html, expires_at}`, as `POST /api/v1/integrations/{id}/tokens` does.
 * `sso-bridge inspect <integration> <token|->`: decrypts a zero-click token or verifies a JWT
 * with the integration's secret and shows its JSON and expiry (Minnit's "enter an encrypted
 * ssotoken and retrieve the decrypted output"); any failure is one opaque `token_invalid`.
 * `sso-bridge dry-run <integration> <member>`: the dry-run inspector, as `POST
 * /api/v1/integrations/{id}/dry-run` — the payload, the string signed or encrypted, the signature
 * or ciphertext and the snippet for one member (by external_id, else internal id, else
 * username; `--by` to say which).
 */
import type { Command } from 'commander'
import { hasCode } from '../errors/index.ts'
import type { IssueOptions } from '../tokens/index.ts'
import type { CliContext } from './context.ts'
import { printJson, readAll, usageError, type CliIo } from './io.ts'

/** Adds `token` and `inspect` to the program. */
export function registerTokens(program: Command, ctx: CliContext, io: CliIo): void {
  const service = async () => (await ctx.services()).tokens

  program
    .command('token')
    .description(
      "issue an integration's platform token for one account (Minnit ssotoken, JWT, Dead Simple Chat accessToken)",
    )
    .argument('<integration>', 'integration id')
    .argument('<external_id>', "the account's external_id")
    .option('--referrer-url <path>', 'MeltingSpot: the page of the spot to land on (/spot/<id>/…)')
    .option(
      '--rejected-token <token>',
      'Dead Simple Chat: an accessToken the chat refused, to replace',
    )
    .action(
      async (
        integration: string,
        externalId: string,
        opts: { referrerUrl?: string; rejectedToken?: string },
      ) => {
        const options: IssueOptions = {}
        if (opts.referrerUrl !== undefined) options.referrerUrl = opts.referrerUrl
        if (opts.rejectedToken !== undefined) options.rejectedToken = opts.rejectedToken
        printJson(io, await (await service()).issue(integration, externalId, options))
      },
    )

  program
    .command('inspect')
    .description("decrypt or verify a token with the integration's secret: its JSON and expiry")
    .argument('<integration>', 'integration id')
    // Tokens in argv end up in `ps` and shell history; "-" reads it from stdin instead.
    .argument('<token>', 'the token, or "-" to read it from stdin')
    .action(async (integration: string, token: string) => {
      const text = token === '-' ? (await readAll(io.stdin)).trim() : token
      printJson(io, await (await service()).inspect(integration, text))
    })

  program
    .command('dry-run')
    .description(
      "what an integration's token would be for one member, step by step: payload, string signed or encrypted, signature or ciphertext, snippet (no key shown, nothing sent or stored)",
    )
    .argument('<integration>', 'integration id')
    .argument('<member>', 'the member: external_id, internal id or username')
    .option('--by <field>', 'how <member> names the member: external_id, id or username')
    .action(async (integration: string, member: string, opts: { by?: string }) => {
      const tokens = await service()
      if (opts.by !== undefined) {
        if (!['external_id', 'id', 'username'].includes(opts.by))
          throw usageError('--by must be external_id, id or username')
        printJson(io, await tokens.dryRun(integration, { [opts.by]: member }))
        return
      }
      // Each way of naming a member in turn; only "no such member" moves on to the next.
      for (const by of ['external_id', 'id'] as const) {
        try {
          printJson(io, await tokens.dryRun(integration, { [by]: member }))
          return
        } catch (err) {
          if (!hasCode(err, 'ERR_ACCOUNT_NOT_FOUND')) throw err
        }
      }
      printJson(io, await tokens.dryRun(integration, { username: member }))
    })
}
