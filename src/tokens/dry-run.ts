/**
 * @module tokens/dry-run
 * The dry-run inspector for the platforms that predate the platform definition
 * (tokens/definition.ts gives its own platforms theirs): each is issued as usual, then taken
 * apart with the integration's key — a JWT into its header, claims, signing input and
 * signature. (A platform whose token the platform makes itself, Dead Simple Chat's or
 * CometChat's, has its dry run from its create-user builder: the request that would be sent, and
 * no call.)
 */
import type { Account, JsonObject } from '../accounts/types.ts'
import type { LoadedIntegration } from '../integrations/types.ts'
import type { DryRun, IssueOptions, IssuedToken, TokenDeps } from './types.ts'

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
