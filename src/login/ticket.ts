/**
 * @module login/ticket
 * Site tickets: the site's back end vouches for a member it has already signed in, so the member
 * walks in without a second sign-in. A ticket is a compact JWS:
 *
 * - signed HS256 with the shared secret (`SITE_TICKET_SECRET`), or RS256/ES256 with the site's
 *   registered public key (`SITE_TICKET_PUBLIC_KEY`); the algorithm is pinned by the key, so a
 *   ticket can never pick its own (no `none`, no HS256 keyed with the public key);
 * - `aud` = this server's ticket endpoint, `{ISSUER}/ticket`, as a single string (a ticket is never
 *   mistaken for a client assertion, whose audience is the issuer or its token endpoint; an array
 *   is refused even when it holds that URL, so a token made for several audiences never counts);
 * - `iat`, `exp` with `exp - iat` ≤ 120 s, a clock tolerance of 5 s, and a single-use `jti`
 *   (remembered in the KV store until the ticket could no longer be accepted anyway);
 * - `auth_time` (optional, NumericDate ≤ now + skew): when the member last entered credentials at
 *   the site; it becomes the bridge session's auth_time, and a sign-in that asked for a fresh one
 *   (a {@link FreshnessDemand}) refuses a ticket without it or with an older one;
 * - `external_id` (required) and any of the account fields in {@link TICKET_FIELDS}. Any other
 *   claim is refused by name, as the admin API refuses unknown fields (a typo never silently drops
 *   data); `status` and passwords can never come through a ticket.
 *
 * A **logout ticket** (README "Signing out") is the same JWS for another audience,
 * `{ISSUER}/logout`, carrying `external_id` and nothing else: one verifier per kind, the same code,
 * keys and `jti` namespace, so a ticket used as either kind is used up for both, and a ticket of
 * one kind shown to the other's endpoint is `ERR_TICKET_AUDIENCE`.
 *
 * Every refusal is a {@link TicketRefused} with one stable code per class; the reason is for the
 * log only, and neither carries the token. Nothing here knows HTTP.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { errors as jose, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose'
import { LOGIN_ROUTES } from './paths.ts'
import { accountInputSchema } from '../accounts/input.ts'
import type { AccountService } from '../accounts/service.ts'
import {
  ADMIN_FIELDS,
  TICKET_FIELD_NAMES,
  type Account,
  type AccountFieldName,
} from '../accounts/types.ts'
import {
  AccountDisabled,
  BridgeError,
  hasCode,
  replyFor,
  type BridgeErrorCode,
} from '../errors/index.ts'
import type { AccountWriteResult, KvStore } from '../store/ports.ts'

/** Longest a ticket may live, `exp - iat`, in seconds. */
export const TICKET_MAX_LIFETIME_S = 120
/** Clock skew allowed between the site and this server, in seconds. */
export const TICKET_CLOCK_TOLERANCE_S = 5
/** KV namespace of the `jti`s already used. */
export const TICKET_JTI_NAMESPACE = 'bridge:ticket-jti'
/** Largest ticket accepted, in characters (a ticket may carry a `profile` object). */
export const TICKET_MAX_LENGTH = 96 * 1024

/**
 * Account fields a ticket may carry: those the field table marks `ticket` (never `status`,
 * `password` or `password_hash`).
 */
export const TICKET_FIELDS: readonly AccountFieldName[] = TICKET_FIELD_NAMES
/** An account field a sign-in ticket may carry. */
export type TicketField = AccountFieldName

/** Registered JWT claims a signing library may add; read by the verifier, never stored. */
const REGISTERED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'] as const
/** A sign-in ticket may also say when the member last entered credentials at the site. */
const JWT_CLAIMS = new Set<string>([...REGISTERED_CLAIMS, 'auth_time'])
/** A logout ticket names the member and nothing else (contract §4): not even `auth_time`. */
const LOGOUT_JWT_CLAIMS = new Set<string>(REGISTERED_CLAIMS)
const FIELD_SET = new Set<string>(TICKET_FIELDS)

/** The codes a ticket verification refuses with (the door logs a few more `ERR_TICKET_*`). */
export type TicketErrorCode = Extract<
  BridgeErrorCode,
  | 'ERR_TICKET_INVALID'
  | 'ERR_TICKET_EXPIRED'
  | 'ERR_TICKET_REPLAYED'
  | 'ERR_TICKET_AUDIENCE'
  | 'ERR_TICKET_ACCOUNT_DISABLED'
  | 'ERR_TICKET_STALE'
>

/**
 * What a pending sign-in that asked for a fresh one (OIDC prompt=login or max_age, SAML
 * ForceAuthn) requires of the ticket that answers it (README "Signing in at the site").
 */
export interface FreshnessDemand {
  /** Epoch seconds: the hand-off's own time; the member must have entered credentials since. */
  since: number
  /** OIDC max_age, seconds: `now - auth_time` may be at most this (instead of `since`). */
  maxAge?: number
  /** The hand-off's instant by this server's clock (epoch ms): only a session started after it counts. */
  atMs?: number
}

/**
 * Why `authTime` does not meet `demand`, or null when it does. Contract §3: with a demand the
 * ticket must carry auth_time, no earlier than the hand-off (5 s of skew), or for max_age no
 * older than max_age.
 */
export function staleness(
  demand: FreshnessDemand,
  authTime: number | undefined,
  nowS: number,
): 'auth_time_missing' | 'auth_time_before_handoff' | 'auth_time_past_max_age' | null {
  if (authTime === undefined) return 'auth_time_missing'
  if (demand.maxAge !== undefined)
    return nowS - authTime <= demand.maxAge + TICKET_CLOCK_TOLERANCE_S
      ? null
      : 'auth_time_past_max_age'
  return authTime >= demand.since - TICKET_CLOCK_TOLERANCE_S ? null : 'auth_time_before_handoff'
}

/**
 * A ticket that signs no one in. `reason` says why, for the log (never the token itself); the
 * opaque name a browser sees is the code's wire name (errors/codes.ts).
 */
export class TicketRefused extends BridgeError {
  override readonly code: TicketErrorCode
  readonly reason: string
  constructor(code: TicketErrorCode, reason: string) {
    super(`site ticket refused: ${replyFor(code).error} (${reason})`)
    this.code = code
    this.reason = reason
  }
}

/** A verified, now-used ticket. */
export interface VerifiedTicket {
  externalId: string
  /** Only the account fields the ticket carried (an explicit null clears a field). */
  fields: Partial<Record<TicketField, unknown>>
  jti: string
  /** Expiry, epoch seconds. */
  exp: number
  /** When the member last entered credentials at the site (epoch seconds), if the ticket says. */
  authTime?: number
}

/**
 * What a ticket asks for: `sign-in` (`{ISSUER}/ticket`, account fields allowed) or `logout`
 * (`{ISSUER}/logout`, `external_id` only).
 */
export type TicketKind = 'sign-in' | 'logout'

/** What {@link createTicketVerifier} takes: the key(s), the audience and the replay store. At least one key. */
export interface TicketVerifierOptions {
  /** Which kind of ticket this verifier accepts; default `sign-in`. */
  kind?: TicketKind
  /** HS256 shared secret (at least 32 bytes). */
  secret?: string
  /** SPKI PEM public key: RSA (2048+ bits) verifies RS256, EC P-256 verifies ES256. */
  publicKey?: string | KeyObject
  /** The `aud` a ticket must carry: `{ISSUER}/ticket` (sign-in) or `{ISSUER}/logout` (logout). */
  audience: string
  kv: KvStore
  /** Clock for tests; epoch milliseconds. */
  now?: () => number
}

/** The JWS algorithm a public key verifies, or an error message. */
export function publicKeyAlgorithm(key: KeyObject): { alg: 'RS256' | 'ES256' } | { error: string } {
  if (key.type !== 'public') return { error: 'must be a public key' }
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa') {
    return (details?.modulusLength ?? 0) >= 2048
      ? { alg: 'RS256' }
      : { error: 'RSA keys must have at least 2048 bits' }
  }
  if (key.asymmetricKeyType === 'ec') {
    return details?.namedCurve === 'prime256v1'
      ? { alg: 'ES256' }
      : { error: 'EC keys must be on the P-256 curve (ES256)' }
  }
  return {
    error: `unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (use RSA for RS256 or EC P-256 for ES256)`,
  }
}

/**
 * A verifier for the site's tickets (signed JWTs, contract in the README): the signature with
 * the configured key, `aud` exactly (not an array), a bounded lifetime (`exp` - `iat`), only
 * known claims and account fields, and each `jti` used once across every process sharing the
 * store.
 * @throws {TypeError} at build time for a secret under 32 bytes, an unusable public key, or no key
 * @example
 * const tickets = createTicketVerifier({ secret, audience: `${issuer}/ticket`, kv: store })
 * const { externalId, fields } = await tickets.verify(req.body.ticket) // throws TicketRefused
 */
export function createTicketVerifier(opts: TicketVerifierOptions) {
  const { audience, kv } = opts
  const kind = opts.kind ?? 'sign-in'
  // A logout ticket names the member and nothing else (contract §4).
  const fieldSet: ReadonlySet<string> = kind === 'logout' ? new Set() : FIELD_SET
  const claimSet: ReadonlySet<string> = kind === 'logout' ? LOGOUT_JWT_CLAIMS : JWT_CLAIMS
  const now = opts.now ?? Date.now
  const keys = new Map<string, KeyObject>()
  if (opts.secret !== undefined) {
    if (Buffer.byteLength(opts.secret) < 32)
      throw new TypeError('the site ticket secret must be at least 32 bytes')
    keys.set('HS256', createSecretKey(Buffer.from(opts.secret)))
  }
  if (opts.publicKey !== undefined) {
    const key =
      typeof opts.publicKey === 'string' ? createPublicKey(opts.publicKey) : opts.publicKey
    const found = publicKeyAlgorithm(key)
    if ('error' in found) throw new TypeError(`the site ticket public key ${found.error}`)
    keys.set(found.alg, key)
  }
  if (keys.size === 0) throw new TypeError('a site ticket verifier needs a secret or a public key')
  const algorithms = [...keys.keys()]

  /** Checks signature and claims; does not use the ticket up. */
  async function check(token: string): Promise<VerifiedTicket> {
    if (typeof token !== 'string' || token.length === 0)
      throw new TicketRefused('ERR_TICKET_INVALID', 'missing')
    if (token.length > TICKET_MAX_LENGTH) throw new TicketRefused('ERR_TICKET_INVALID', 'too_long')
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(
        token,
        (header: JWTHeaderParameters) => keys.get(header.alg)!,
        {
          algorithms,
          audience,
          requiredClaims: ['exp', 'iat', 'jti'],
          maxTokenAge: TICKET_MAX_LIFETIME_S,
          clockTolerance: TICKET_CLOCK_TOLERANCE_S,
          currentDate: new Date(now()),
        },
      ))
    } catch (err) {
      throw refusalOf(err)
    }
    // jose accepts an `aud` array that merely contains the audience (RFC 7519 §4.1.3); a ticket
    // names this server's ticket URL and nothing else, so an array (even of that one URL) is refused.
    if (payload.aud !== audience)
      throw new TicketRefused(
        'ERR_TICKET_AUDIENCE',
        typeof payload.aud === 'string' ? 'aud_mismatch' : 'aud_not_a_string',
      )
    const { exp, iat, jti } = payload as { exp: number; iat: number; jti: unknown }
    if (exp - iat > TICKET_MAX_LIFETIME_S)
      throw new TicketRefused('ERR_TICKET_INVALID', 'lifetime_too_long')
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 255)
      throw new TicketRefused('ERR_TICKET_INVALID', 'claim_jti')

    const unknown = Object.keys(payload).filter(
      (k) => k !== 'external_id' && !claimSet.has(k) && !fieldSet.has(k),
    )
    if (unknown.length > 0)
      throw new TicketRefused(
        'ERR_TICKET_INVALID',
        `unknown_claims:${unknown.slice(0, 10).join(',').slice(0, 200)}`,
      )
    const raw = payload as Record<string, unknown>
    if (raw.external_id === undefined)
      throw new TicketRefused('ERR_TICKET_INVALID', 'claim_external_id')
    if (kind === 'logout') {
      const id = accountInputSchema.shape.external_id.safeParse(raw.external_id)
      if (!id.success) throw new TicketRefused('ERR_TICKET_INVALID', 'account_fields:external_id')
      return { externalId: id.data, fields: {}, jti, exp }
    }
    const fields: Partial<Record<TicketField, unknown>> = {}
    for (const f of TICKET_FIELDS) if (raw[f] !== undefined) fields[f] = raw[f]
    // The same rules as every other account write, checked before the ticket is used up.
    const parsed = accountInputSchema.safeParse({ external_id: raw.external_id, ...fields })
    if (!parsed.success) {
      const paths = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '')))].join(',')
      throw new TicketRefused('ERR_TICKET_INVALID', `account_fields:${paths}`)
    }
    const authTime = raw.auth_time
    if (authTime !== undefined) {
      // A NumericDate (RFC 7519 §2), not in the future beyond the skew: a site's clock a little
      // ahead is tolerated and clamped to now.
      if (
        typeof authTime !== 'number' ||
        !Number.isFinite(authTime) ||
        authTime <= 0 ||
        authTime > now() / 1000 + TICKET_CLOCK_TOLERANCE_S
      )
        throw new TicketRefused('ERR_TICKET_INVALID', 'claim_auth_time')
    }
    return {
      externalId: parsed.data.external_id,
      fields,
      jti,
      exp,
      ...(authTime === undefined
        ? {}
        : { authTime: Math.min(Math.floor(authTime), Math.floor(now() / 1000)) }),
    }
  }

  return {
    kind,
    audience,
    algorithms,

    /**
     * Verifies a ticket and uses it up: a second call with the same ticket (from any process
     * sharing the store) is refused with ERR_TICKET_REPLAYED. With `demand` (the pending sign-in
     * asked for a fresh one), a ticket whose auth_time does not meet it is refused with
     * ERR_TICKET_STALE before it is used up. (The jti namespace is shared by both kinds.)
     * @throws {TicketRefused}
     */
    async verify(token: string, demand?: FreshnessDemand | null): Promise<VerifiedTicket> {
      const ticket = await check(token)
      if (demand) {
        const stale = staleness(demand, ticket.authTime, Math.floor(now() / 1000))
        if (stale) throw new TicketRefused('ERR_TICKET_STALE', stale)
      }
      // Remember the jti for as long as the ticket could still be accepted.
      const ttlMs = Math.max(1000, (ticket.exp + TICKET_CLOCK_TOLERANCE_S) * 1000 - now() + 1000)
      if (
        !(await kv.kvSetIfAbsent(TICKET_JTI_NAMESPACE, ticket.jti, { exp: ticket.exp }, { ttlMs }))
      ) {
        throw new TicketRefused('ERR_TICKET_REPLAYED', 'jti_used')
      }
      return ticket
    },
  }
}

/** A site-ticket verifier from {@link createTicketVerifier} (sign-in or logout kind). */
export type TicketVerifier = ReturnType<typeof createTicketVerifier>

/** The path logout tickets are sent to; their `aud` is `{ISSUER}` followed by it. */
export const LOGOUT_PATH = LOGIN_ROUTES.logout

/**
 * The logout-ticket verifier for ISSUER and the site's ticket key (SITE_TICKET_SECRET or
 * SITE_TICKET_PUBLIC_KEY), or undefined when neither is configured (/logout then answers 404).
 * @throws {TypeError} a key that cannot be used
 */
export function createLogoutTicketVerifier(
  issuer: string,
  key: { secret?: string | undefined; publicKey?: string | undefined } | undefined,
  kv: KvStore,
): TicketVerifier | undefined {
  if (!key || (key.secret === undefined && key.publicKey === undefined)) return undefined
  return createTicketVerifier({
    kind: 'logout',
    secret: key.secret,
    publicKey: key.publicKey,
    audience: `${issuer}${LOGOUT_PATH}`,
    kv,
  })
}

function refusalOf(err: unknown): TicketRefused {
  if (err instanceof TicketRefused) return err
  if (err instanceof jose.JWTExpired)
    return new TicketRefused('ERR_TICKET_EXPIRED', err.claim === 'iat' ? 'iat_too_old' : 'exp')
  if (err instanceof jose.JWTClaimValidationFailed) {
    return err.claim === 'aud'
      ? new TicketRefused('ERR_TICKET_AUDIENCE', `aud_${err.reason}`)
      : new TicketRefused('ERR_TICKET_INVALID', `claim_${err.claim}_${err.reason}`)
  }
  if (err instanceof jose.JOSEAlgNotAllowed) return new TicketRefused('ERR_TICKET_INVALID', 'alg')
  if (err instanceof jose.JWSSignatureVerificationFailed)
    return new TicketRefused('ERR_TICKET_INVALID', 'signature')
  if (err instanceof jose.JOSENotSupported)
    return new TicketRefused('ERR_TICKET_INVALID', 'not_supported')
  if (err instanceof jose.JOSEError) return new TicketRefused('ERR_TICKET_INVALID', 'format')
  // jose reports some malformed inputs (e.g. a header that is not JSON) as TypeError.
  if (err instanceof TypeError) return new TicketRefused('ERR_TICKET_INVALID', 'format')
  throw err
}

/**
 * Writes the ticket's account through the conflict rules (actor `site-ticket`) and returns it.
 *
 * The ticket **merges** over the stored account: fields it carries replace the stored ones (an
 * explicit null clears one; `profile` is replaced as a whole), fields it leaves out keep their
 * stored values, where a username or email that a conflict rule kept from the account counts as
 * its stored value (the site's real value, applied again). A ticket with no account fields for an
 * existing account writes nothing. A new account starts from the defaults, active.
 *
 * @throws {TicketRefused} ERR_TICKET_ACCOUNT_DISABLED: a disabled account is never signed in
 *   nor changed by a ticket
 * @throws {AccountConflict} the conflict rules refused the username or email
 * @throws {ValidationFailed}
 */
export async function applyTicket(
  accounts: AccountService,
  ticket: VerifiedTicket,
): Promise<AccountWriteResult> {
  const current = await accounts.get(ticket.externalId).catch((err) => {
    if (hasCode(err, 'ERR_ACCOUNT_NOT_FOUND')) return null
    throw err
  })
  if (current && current.status !== 'active')
    throw new TicketRefused('ERR_TICKET_ACCOUNT_DISABLED', 'account_disabled')
  if (current && Object.keys(ticket.fields).length === 0)
    return { account: current, created: false, resolutions: [] }
  const body = { ...(current ? storedFields(current) : {}), ...ticket.fields }
  // Decided again inside the write: an account disabled since the read above (by another
  // process, say) is neither changed nor re-enabled by the merged record's `status: active`.
  return accounts
    .put(ticket.externalId, body, 'site-ticket', { onlyIfActive: true })
    .catch((err: unknown) => {
      if (err instanceof AccountDisabled)
        throw new TicketRefused('ERR_TICKET_ACCOUNT_DISABLED', 'account_disabled')
      throw err
    })
}

/** The account as the site last wrote it: every field the admin may write, wanted values first. */
function storedFields(a: Account): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  for (const name of ADMIN_FIELDS) fields[name] = a[name]
  // A unique value withheld by a conflict rule: the site's wanted one is what it wrote.
  if (a.desired_username !== null) fields.username = a.desired_username
  if (a.desired_email !== null) fields.email = a.desired_email
  return fields
}
