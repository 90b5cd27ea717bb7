/**
 * @module cli/keys
 * `sso-bridge keys …`: generate or rotate the signing material in KEYS_DIR, and record its
 * fingerprints in the database as the keys in use (keys/fingerprints.ts: an instance whose
 * KEYS_DIR differs refuses to start). Prints public facts only (kids, SAML key ids and
 * certificate fingerprints): what an operator pastes into a platform, never private material.
 */
import type { Command } from 'commander'
import { BridgeError, StoreUnavailable, ValidationFailed } from '../errors/index.ts'
import {
  ensureCookieSecret,
  fingerprintKeys,
  generateKeys,
  loadKeys,
  recordKeysInUse,
  rotateKeys,
  type KeyMaterial,
} from '../keys/index.ts'
import { CLI_ACTOR, type CliContext } from './context.ts'
import { printJson, type CliIo } from './io.ts'

/** Public summary of KEYS_DIR; `signing` marks the key that signs (first per alg / current SAML key). */
export function describeKeys(keysDir: string, material: KeyMaterial) {
  const jwks = material.oidc.publicJwks.keys
  return {
    keys_dir: keysDir,
    oidc: jwks.map((k, i) => ({
      kid: k.kid,
      alg: k.alg,
      signing: jwks.findIndex((j) => j.alg === k.alg) === i,
    })),
    saml: [material.saml.current, ...material.saml.previous].map((p, i) => ({
      id: p.id,
      created_at: p.createdAt,
      fingerprint_sha256: p.fingerprintSha256,
      signing: i === 0,
    })),
  }
}

/**
 * Adds `keys` (generate, rotate, record: the OIDC and SAML signing keys in KEYS_DIR) to the
 * program. The files and the
 * database's record of them change together; a running server keeps the keys it loaded.
 */
export function registerKeys(program: Command, ctx: CliContext, io: CliIo): void {
  const keys = program
    .command('keys')
    .description(
      "manage the OIDC and SAML signing keys in KEYS_DIR and the database's record of them (a running server keeps the keys it loaded: restart it afterwards)",
    )

  // The SAML certificate names the host platforms see, like the server's first start does.
  const commonName = () => new URL(ctx.config().issuer).hostname

  /** Records `material` (and the cookie secret) in the database as the keys in use. */
  async function record(material: KeyMaterial, written: boolean): Promise<void> {
    const { keysDir } = ctx.config()
    const fingerprints = await fingerprintKeys(material, ensureCookieSecret(keysDir).secret)
    try {
      await recordKeysInUse((await ctx.services()).store, fingerprints)
    } catch (err) {
      if (!written) throw err
      // The files changed but the record did not: instances with these keys would be refused.
      const reason = err instanceof BridgeError ? err.message : String(err)
      throw new StoreUnavailable(
        `the keys were written to ${keysDir}, but the database's record of the keys in use was not updated (${reason}); run "sso-bridge keys record" once the database is reachable`,
        { cause: err },
      )
    }
  }

  keys
    .command('generate')
    .description('write fresh keys; refuses when keys exist unless --force')
    .option(
      '--force',
      'replace existing keys (the old ones are deleted and stop verifying: prefer rotate)',
      false,
    )
    .action(async (opts: { force: boolean }) => {
      const { keysDir } = ctx.config()
      const material = await generateKeys(keysDir, { commonName: commonName(), force: opts.force })
      await record(material, true)
      printJson(io, describeKeys(keysDir, material))
    })

  keys
    .command('rotate')
    .description('add new signing keys and keep the newest older ones published for verification')
    .option('--keep <n>', 'older keys of each kind to keep', '1')
    .action(async (opts: { keep: string }) => {
      if (!/^\d{1,3}$/.test(opts.keep))
        throw new ValidationFailed([
          { path: '--keep', message: 'must be an integer from 0 to 999' },
        ])
      const { keysDir } = ctx.config()
      const material = await rotateKeys(keysDir, {
        commonName: commonName(),
        keepPrevious: Number(opts.keep),
      })
      await record(material, true)
      // The operator log, as the console's rotation writes it: the kids now published (public
      // ids, never key material).
      await (
        await ctx.services()
      ).store.appendOperatorAudit({
        actor: CLI_ACTOR,
        action: 'keys_rotated',
        target: `keys:${material.oidc.publicJwks.keys.map((k) => String(k.kid)).join(',')}`,
      })
      printJson(io, describeKeys(keysDir, material))
    })

  keys
    .command('record')
    .description(
      'record the keys in KEYS_DIR in the database as the keys in use (after replacing KEYS_DIR on purpose; instances with other keys then refuse to start)',
    )
    .action(async () => {
      const { keysDir } = ctx.config()
      const material = await loadKeys(keysDir)
      await record(material, false)
      printJson(io, describeKeys(keysDir, material))
    })
}
