/**
 * @module tokens/discourse/payload
 * DiscourseConnect's wire format, both ways (meta.discourse.org/t/13045 "Setup DiscourseConnect -
 * Official Single-Sign-On for Discourse (sso)", and Discourse's own lib/discourse_connect_base.rb):
 *
 * - a payload is a query string (`nonce=…&return_sso_url=…`), Base64-encoded (`Base64.strict_encode64`,
 *   with padding, no line breaks) into `sso`;
 * - `sig` is the lower-case hex HMAC-SHA256 of the Base64 text `sso` (not of the decoded query)
 *   under the shared `discourse_connect_secret`;
 * - booleans are the words `true` and `false` (its BOOLS), lists such as `groups` are comma-separated
 *   names, extra fields travel as `custom.<name>`.
 *
 * Nothing here knows HTTP or the store; the route (tokens/routes/discourse.ts) and the platform
 * (tokens/platforms/discourse.ts) use it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { JsonObject } from '../../accounts/types.ts'

/** A decoded DiscourseConnect payload: its fields by name, each once. */
export type ConnectFields = Record<string, string>

/** Why a request from Discourse was refused, as {@link verifyConnectRequest} reports it. */
export type ConnectRefusal = 'malformed' | 'signature'

/** The longest `sso` accepted: Discourse's requests are a nonce and a URL, far below this. */
export const MAX_SSO_LENGTH = 8192

/** The hex HMAC-SHA256 of `sso` under `secret` (discourse_connect_base.rb `sign`). */
export function signConnect(sso: string, secret: string): string {
  return createHmac('sha256', secret).update(sso).digest('hex')
}

/**
 * Checks a request's `sig` against `sso` in constant time, then decodes `sso`. The signature is
 * checked before anything of the payload is read, so an unsigned payload is never parsed.
 * @returns the fields, or the refusal: `malformed` (not Base64 text, or not one value each) or
 *   `signature` (no match)
 */
export function verifyConnectRequest(
  sso: unknown,
  sig: unknown,
  secret: string,
): { ok: true; fields: ConnectFields } | { ok: false; reason: ConnectRefusal } {
  if (
    typeof sso !== 'string' ||
    typeof sig !== 'string' ||
    sso === '' ||
    sso.length > MAX_SSO_LENGTH
  )
    return { ok: false, reason: 'malformed' }
  // discourse_connect_base.rb refuses any character outside Base64's alphabet (line breaks aside).
  if (!/^[A-Za-z0-9+/=\r\n]+$/.test(sso)) return { ok: false, reason: 'malformed' }
  const expected = Buffer.from(signConnect(sso, secret), 'hex')
  const given = /^[0-9a-fA-F]{64}$/.test(sig) ? Buffer.from(sig, 'hex') : Buffer.alloc(32)
  // Compared whatever its form, so a malformed sig costs what a wrong one does.
  const match = timingSafeEqual(expected, given) && /^[0-9a-fA-F]{64}$/.test(sig)
  if (!match) return { ok: false, reason: 'signature' }
  const fields = decodeConnect(sso)
  return fields ? { ok: true, fields } : { ok: false, reason: 'malformed' }
}

/** The fields of a Base64 payload, or null when a field comes twice (which would Discourse mean?). */
export function decodeConnect(sso: string): ConnectFields | null {
  const params = new URLSearchParams(Buffer.from(sso, 'base64').toString('utf8'))
  const fields: ConnectFields = {}
  for (const [k, v] of params) {
    if (Object.hasOwn(fields, k)) return null
    fields[k] = v
  }
  return fields
}

/** The text form of one payload value; undefined leaves the field out (null, objects). */
function text(v: JsonObject[string]): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) {
    const items = v.filter((x) => typeof x === 'string' || typeof x === 'number').map(String)
    return items.length > 0 ? items.join(',') : undefined
  }
  return undefined
}

/**
 * The `sso`/`sig` pair of a payload: each field as text (booleans `true`/`false`, lists joined with
 * commas, null and objects left out), as a query string, Base64-encoded, signed.
 * @example encodeConnect({ nonce: 'cb68', external_id: '42', email: 'a@b.c' }, secret)
 */
export function encodeConnect(doc: JsonObject, secret: string): { sso: string; sig: string } {
  const sso = connectBase64(doc)
  return { sso, sig: signConnect(sso, secret) }
}

/** The `sso` text of a payload, unsigned: its query string, Base64-encoded (see {@link encodeConnect}). */
export function connectBase64(doc: JsonObject): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(doc)) {
    const t = text(v)
    if (t !== undefined) params.append(k, t)
  }
  return Buffer.from(params.toString(), 'utf8').toString('base64')
}

/**
 * `base` with `sso` and `sig` appended (`&` when it already has a query), as Discourse's own
 * `to_url` does.
 */
export function connectUrl(base: string, signed: { sso: string; sig: string }): string {
  const q = new URLSearchParams(signed).toString()
  return `${base}${base.includes('?') ? '&' : '?'}${q}`
}

/**
 * Whether `candidate` lies under the configured forum URL `forum`: same scheme, host and port
 * after WHATWG URL normalisation (case, default port, IDNA, dot segments), and a path inside the
 * forum's (a forum at /forum accepts /forum/session/sso_login, not /forum-evil/…). Credentials in
 * the URL are refused: a browser would show them to nobody.
 */
export function isUnderForum(candidate: string, forum: string): boolean {
  if (!URL.canParse(candidate)) return false
  const c = new URL(candidate)
  const f = new URL(forum)
  if (c.protocol !== f.protocol || c.host !== f.host || c.username !== '' || c.password !== '')
    return false
  const base = f.pathname.endsWith('/') ? f.pathname : `${f.pathname}/`
  return c.pathname === f.pathname || c.pathname.startsWith(base)
}
