/**
 * @module tokens/builders/jwt
 * The JWT builder of a platform definition: RFC 7519 claims in RFC 7515 compact serialization,
 * signed with HS256 (RFC 7518 §3.2, an integration secret's UTF-8 bytes as the key, as
 * `jsonwebtoken` and PyJWT use a string secret) or RS256 (RFC 7518 §3.3, the bridge's own OIDC
 * signing key, so a platform verifies it with the published JWKS), with the header members the
 * platform asks for (`kid`).
 *
 * Signing is node:crypto over a key object imported once per integration (tokens/keys.ts) and a
 * header encoded once per settings version: no per-token key import, which is what keeps a
 * token at the speed of a bare HMAC or RSA signature.
 */
import { sign, verify, type KeyObject } from 'node:crypto'
import type { JsonObject, JsonValue } from '../../accounts/types.ts'
import { ConfigInvalid } from '../../errors/index.ts'
import { hs256, verifyCompact, verifyHs256 } from '../jwt.ts'
import type { Builder, BuildContext, Built, Verified } from './types.ts'

/** The bridge's signing key a platform verifies through the published JWKS. */
export interface SigningKey {
  kid: string
  alg: 'RS256'
  privateKey: KeyObject
  publicKey: KeyObject
}

/** How a platform's JWT is made. `S` is the platform's settings. */
export interface JwtOptions<S extends object> {
  /** HS256 (a shared secret) or RS256 (the bridge's signing key; its `kid` is always in the header). */
  alg: 'HS256' | 'RS256'
  /** HS256: the name of the integration secret that is the key. */
  secret?: string
  /** Header members after `alg` and `typ`, from the settings (Zendesk's `kid`). */
  header?: (settings: S) => Record<string, string>
  /** The `typ` header; false leaves it out. Default `JWT`. */
  typ?: string | false
  /** Whether the door sets `iat` (default true). */
  iat?: boolean
  /** `exp` = now + this many seconds; undefined: no `exp` (the platform's own rule applies). */
  ttl?: (settings: S) => number | undefined
  /** Claims set from the settings after the mapped ones (`scope`, `iss`, `aud`); the door's own. */
  claims?: (settings: S) => Record<string, JsonValue>
  /**
   * Claims a mapping may never set, even where `claims` leaves them out for these settings (the
   * generic JWT's `aud`: the configured audience or none, never a mapped one).
   */
  reserved?: readonly string[]
}

/** What a settings version decides: the header, its encoding, fixed claims, the lifetime. */
interface Prepared {
  header: JsonObject
  encoded: string
  fixed: Record<string, JsonValue> | undefined
  ttl: number | undefined
}

const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url')

/**
 * A JWT builder.
 * @example jwtBuilder<Settings>({ alg: 'HS256', secret: 'secret', header: (s) => ({ kid: s.key_id }), ttl: (s) => s.token_ttl })
 */
export function jwtBuilder<S extends object>(o: JwtOptions<S>): Builder<S> {
  if (o.alg === 'HS256' && o.secret === undefined)
    throw new TypeError('an HS256 builder needs the name of its secret')
  const withIat = o.iat !== false
  // What a settings version decides, worked out once (a settings object is replaced when it
  // changes): the header and its encoding, the door's fixed claims, the lifetime.
  const prepared = new WeakMap<object, Prepared>()

  function prepare(settings: S, kid: string | undefined): Prepared {
    const hit = prepared.get(settings)
    if (hit && (kid === undefined || hit.header.kid === kid)) return hit
    const header: JsonObject = { alg: o.alg }
    if (o.typ !== false) header.typ = o.typ ?? 'JWT'
    if (kid !== undefined) header.kid = kid
    Object.assign(header, o.header?.(settings))
    const entry: Prepared = {
      header,
      encoded: b64url(JSON.stringify(header)),
      fixed: o.claims?.(settings),
      ttl: o.ttl?.(settings),
    }
    prepared.set(settings, entry)
    return entry
  }

  async function signingKey(ctx: BuildContext<S>): Promise<SigningKey> {
    if (!ctx.deps.signingKey)
      throw new ConfigInvalid([
        {
          path: `integrations.${ctx.integration.record.id}`,
          message: 'RS256 tokens need the bridge signing keys (KEYS_DIR), not available here',
        },
      ])
    return ctx.deps.signingKey()
  }

  /** The claims completed in place (fixed claims, `iat`, `exp`) and the JWS signing input. */
  function signingInput(payload: JsonObject, now: number, p: Prepared): string {
    if (p.fixed) Object.assign(payload, p.fixed)
    if (withIat) payload.iat = now
    if (p.ttl !== undefined) payload.exp = now + p.ttl
    return `${p.encoded}.${b64url(JSON.stringify(payload))}`
  }

  function built(
    payload: JsonObject,
    now: number,
    p: Prepared,
    signed: string,
    signature: string,
  ): Built {
    return {
      token: `${signed}.${signature}`,
      payload,
      header: p.header,
      signed,
      signature,
      algorithm: o.alg,
      expiresAt: p.ttl === undefined ? null : now + p.ttl,
      parts: {},
    }
  }

  // A header with a `typ` must carry ours (RFC 7519 §5.1: JWT unless the platform says otherwise).
  const typ = o.typ || 'JWT'
  const verified = (claims: Record<string, unknown>): Verified => ({
    payload: claims as JsonObject,
    expiry: claims.exp,
  })

  const owned = (settings: S): string[] => [
    ...(withIat ? ['iat'] : []),
    ...(o.ttl?.(settings) !== undefined ? ['exp'] : []),
    ...Object.keys(o.claims?.(settings) ?? {}),
    ...(o.reserved ?? []),
  ]

  if (o.alg === 'HS256') {
    const secret = o.secret!
    return {
      kind: 'jwt',
      owned,
      build(payload, ctx) {
        const key = ctx.deps.keys.require(ctx.integration, secret)
        const now = ctx.nowSeconds
        const p = prepare(ctx.integration.settings, undefined)
        const signed = signingInput(payload, now, p)
        return built(payload, now, p, signed, hs256(key, signed))
      },
      verify(token, ctx) {
        const key = ctx.deps.keys.require(ctx.integration, secret)
        return verified(verifyHs256(key, token, typ))
      },
    }
  }

  return {
    kind: 'jwt',
    owned,
    async build(payload, ctx) {
      const key = await signingKey(ctx)
      const now = ctx.nowSeconds
      const p = prepare(ctx.integration.settings, key.kid)
      const signed = signingInput(payload, now, p)
      const signature = sign('sha256', Buffer.from(signed), key.privateKey).toString('base64url')
      return built(payload, now, p, signed, signature)
    },
    async verify(token, ctx) {
      const key = await signingKey(ctx)
      return verified(
        verifyCompact(token, 'RS256', typ, (input, signature) =>
          verify('sha256', Buffer.from(input), key.publicKey, signature),
        ),
      )
    },
  }
}
