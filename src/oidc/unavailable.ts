/**
 * @module oidc/unavailable
 * The OAuth answer when our store does not answer. oidc-provider turns any error it does not
 * know into `server_error` 500, so a refresh grant during a database restart answered 500 where
 * the token API answered 503 for the same cause. Every store call oidc-provider makes through us
 * (its adapter, findAccount, the client lookup, the bridge-session check) translates
 * `ERR_STORE_UNAVAILABLE` into `temporarily_unavailable` with status 503 (the OAuth error
 * registry's code, RFC 6749 §4.1.2.1), which oidc-provider renders as it renders any of its
 * errors: a JSON error body at the token endpoint, the error page or a redirect to the client
 * at the authorization endpoint. `Retry-After` is added by the provider's outermost middleware.
 */
import { errors } from 'oidc-provider'
import { hasCode, replyFor, StoreUnavailable } from '../errors/index.ts'

/**
 * `err` as oidc-provider should see it: a store outage becomes 503 temporarily_unavailable, and
 * so does a client secret this server cannot decrypt (a missing SECRETS_KEY: the operator's to
 * fix, never the client's), with our code in the description instead of a bare server_error.
 */
export function toOidcError(err: unknown): unknown {
  if (hasCode(err, 'ERR_SECRETS_KEY_MISSING') || hasCode(err, 'ERR_SECRET_UNREADABLE')) {
    const code = replyFor(err.code).error
    const out = new errors.TemporarilyUnavailable(
      `a stored secret cannot be decrypted with this server's secrets keys (${code})`,
      { cause: err },
    )
    out.status = out.statusCode = 503
    return out
  }
  if (!(err instanceof StoreUnavailable)) return err
  const out = new errors.TemporarilyUnavailable('the database does not answer; try again shortly', {
    cause: err,
  })
  // A 400 by default (it is meant for the authorization endpoint's redirect): the cause here is
  // ours, not the client's. `expose` stays true, so oidc-provider shows the code, not server_error.
  out.status = out.statusCode = 503
  return out
}

/** Awaits `work`, translating a store outage (see {@link toOidcError}). */
export async function storeCall<T>(work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (err) {
    throw toOidcError(err)
  }
}

/** The same for every method of an oidc-provider adapter. */
export function guardAdapter<A extends object>(adapter: A): A {
  return new Proxy(adapter, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) =>
        storeCall(Promise.resolve().then(() => value.apply(target, args)))
    },
  })
}
