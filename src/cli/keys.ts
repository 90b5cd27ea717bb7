/**
 * @module cli/keys
 * `sso-bridge keys …`: generate or rotate the signing material in KEYS_DIR. Needs the config
 * but never the store. Prints public facts only (kids, SAML key ids and certificate
 * fingerprints): what an operator pastes into a platform, never private material.
 */
import type { Command } from 'commander'
import { ValidationFailed } from '../errors/index.ts'
import { generateKeys, rotateKeys, type KeyMaterial } from '../keys/index.ts'
import type { CliContext } from './context.ts'
import { printJson, type CliIo } from './io.ts'

/** Public summary of KEYS_DIR; `signing` marks the key that signs (first per alg / current SAML key). */
export function describeKeys(keysDir: string, material: KeyMaterial) {
  const jwks = material.oidc.publicJwks.keys
  return {
    keys_dir: keysDir,
    oidc: jwks.map((k, i) => ({ kid: k.kid, alg: k.alg, signing: jwks.findIndex((j) => j.alg === k.alg) === i })),
    saml: [material.saml.current, ...material.saml.previous].map((p, i) => ({
      id: p.id,
      created_at: p.createdAt,
      fingerprint_sha256: p.fingerprintSha256,
      signing: i === 0,
    })),
  }
}

export function registerKeys(program: Command, ctx: CliContext, io: CliIo): void {
  const keys = program
    .command('keys')
    .description('manage the OIDC and SAML signing keys in KEYS_DIR (a running server keeps the keys it loaded: restart it afterwards)')

  // The SAML certificate names the host platforms see, like the server's first start does.
  const commonName = () => new URL(ctx.config().issuer).hostname

  keys
    .command('generate')
    .description('write fresh keys; refuses when keys exist unless --force')
    .option('--force', 'replace existing keys (the old ones are deleted and stop verifying: prefer rotate)', false)
    .action(async (opts: { force: boolean }) => {
      const { keysDir } = ctx.config()
      printJson(io, describeKeys(keysDir, await generateKeys(keysDir, { commonName: commonName(), force: opts.force })))
    })

  keys
    .command('rotate')
    .description('add new signing keys and keep the newest older ones published for verification')
    .option('--keep <n>', 'older keys of each kind to keep', '1')
    .action(async (opts: { keep: string }) => {
      if (!/^\d{1,3}$/.test(opts.keep)) throw new ValidationFailed([{ path: '--keep', message: 'must be an integer from 0 to 999' }])
      const { keysDir } = ctx.config()
      printJson(io, describeKeys(keysDir, await rotateKeys(keysDir, { commonName: commonName(), keepPrevious: Number(opts.keep) })))
    })
}
