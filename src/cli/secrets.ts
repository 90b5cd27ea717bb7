/**
 * @module cli/secrets
 * `sso-bridge secrets rekey`: seals every secret at rest under the first key of SECRETS_KEY (or
 * the key file in KEYS_DIR) — inline integration secrets and what integration types store per
 * account (Dead Simple Chat's access tokens); plain text left by a version from before secrets
 * at rest is sealed too. Prints counts and key ids only, never a value. Safe to run again, on
 * SQLite and PostgreSQL, while servers run. Once it has run under the new first key, the older
 * keys may be removed from SECRETS_KEY.
 */
import type { Command } from 'commander'
import { CLI_ACTOR, type CliContext } from './context.ts'
import { printJson, type CliIo } from './io.ts'

/** Adds `secrets rekey` to the program. */
export function registerSecrets(program: Command, ctx: CliContext, io: CliIo): void {
  const secrets = program
    .command('secrets')
    .description('the secrets at rest (encrypted with SECRETS_KEY or KEYS_DIR/secrets-key)')

  secrets
    .command('rekey')
    .description(
      're-encrypt every stored secret under the first SECRETS_KEY key (run after putting a new key first; then the old one may go)',
    )
    .action(async () => {
      const services = await ctx.services()
      const report = await services.rekeySecrets()
      // The operator log: the key everything is now sealed under (its id, never the key).
      await services.store.appendOperatorAudit({
        actor: CLI_ACTOR,
        action: 'secrets_rekeyed',
        target: `secrets:${report.key_id}`,
      })
      printJson(io, { ...report, decrypt_key_ids: services.secrets.keyIds })
    })
}
