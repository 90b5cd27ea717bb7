/**
 * @module tokens/dry-run
 * The dry-run inspector for the platforms that predate the platform definition
 * (tokens/definition.ts gives its own platforms theirs): each is issued as usual, then taken
 * apart with the integration's key — a JWT into its header, claims, signing input and
 * signature; a zero-click token into its JSON, IV and ciphertext. (A platform whose token the
 * platform makes itself, Dead Simple Chat's or CometChat's, has its dry run from its create-user
 * builder: the request that would be sent, and no call.)
 */
import { createDecipheriv } from 'node:crypto'
import type { Account, JsonObject } from '../accounts/types.ts'
import type { LoadedIntegration } from '../integrations/types.ts'
import type { DryRun, IssueOptions, IssuedToken, TokenDeps } from './types.ts'
import { ZERO_CLICK_IV_BYTES, ZERO_CLICK_TAG_BYTES, zeroClickKey } from './zero-click.ts'

type Issue<S extends object> = (
  account: Account,
  integration: LoadedIntegration<S>,
  deps: TokenDeps,
  options?: IssueOptions,
) => IssuedToken | Promise<IssuedToken>

const json = (segment: string): JsonObject =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as JsonObject

const snippet = (t: IssuedToken) => ({ url: t.url, html: t.html, script: t.script ?? null })

/** The dry run of a platform whose token is a compact JWT signed by `issue`. */
export function dryRunJwt<S extends object>(issue: Issue<S>) {
  return async (
    account: Account,
    integration: LoadedIntegration<S>,
    deps: TokenDeps,
    options?: IssueOptions,
  ): Promise<DryRun> => {
    const issued = await issue(account, integration, deps, options)
    const [h, p, s] = issued.token.split('.') as [string, string, string]
    const header = json(h)
    return {
      algorithm: String(header.alg),
      header,
      payload: json(p),
      signed: `${h}.${p}`,
      signature: s,
      parts: {},
      token: issued.token,
      snippet: snippet(issued),
      expires_at: issued.expires_at,
      notes: [],
    }
  }
}

/** The dry run of Minnit's zero-click token: decrypted again with the integration's key. */
export function dryRunZeroClick<S extends object>(issue: Issue<S>, secret: string) {
  return async (
    account: Account,
    integration: LoadedIntegration<S>,
    deps: TokenDeps,
    options?: IssueOptions,
  ): Promise<DryRun> => {
    const issued = await issue(account, integration, deps, options)
    const raw = Buffer.from(issued.token, 'base64')
    const iv = raw.subarray(0, ZERO_CLICK_IV_BYTES)
    const tag = raw.subarray(raw.length - ZERO_CLICK_TAG_BYTES)
    const decipher = createDecipheriv(
      'aes-256-gcm',
      deps.keys.require(integration, secret, zeroClickKey),
      iv,
      { authTagLength: ZERO_CLICK_TAG_BYTES },
    )
    decipher.setAuthTag(tag)
    const text = Buffer.concat([
      decipher.update(raw.subarray(ZERO_CLICK_IV_BYTES, raw.length - ZERO_CLICK_TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8')
    return {
      algorithm: 'AES-256-GCM',
      payload: JSON.parse(text) as JsonObject,
      signed: text,
      signature: raw.subarray(ZERO_CLICK_IV_BYTES).toString('base64'),
      parts: { iv: iv.toString('base64'), tag: tag.toString('base64') },
      token: issued.token,
      snippet: snippet(issued),
      expires_at: issued.expires_at,
      notes: [],
    }
  }
}
