/**
 * @module saml/redirect-query
 * Reads an inbound HTTP-Redirect message (saml-bindings §3.4.4) from the raw query string, once.
 *
 * Why not express's `req.query`: it keeps the first of duplicated values, stops at 1,000 keys,
 * and decodes everything — while the signature covers the parameters *as sent*. Reading the
 * message from one parse and the signed octet string from another let a forged `SAMLRequest`
 * ride on a genuine request's `SigAlg`/`Signature` (issue #10). Here:
 *
 * - the query is split on `&`, each part at its first `=`; names are compared decoded
 *   (`SAML%52equest` is `SAMLRequest`), so an escaped duplicate is still a duplicate;
 * - `SAMLRequest`, `SAMLResponse`, `RelayState`, `SigAlg` or `Signature` given twice is refused
 *   (`ERR_SAML_DUPLICATE_PARAMETER`) — there is no "right" copy to pick;
 * - each value is kept raw (for the octet string, §3.4.4.1: "the original URL-encoded values")
 *   and decoded (`+` is a space, as in application/x-www-form-urlencoded);
 * - other parameters are ignored, however many.
 */
import { SamlRequestInvalid } from './errors.ts'

const SAML_PARAMS = ['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature'] as const
type SamlParam = (typeof SAML_PARAMS)[number]
const isSamlParam = (name: string): name is SamlParam =>
  (SAML_PARAMS as readonly string[]).includes(name)

/** One parameter: its value as sent (still URL-encoded) and decoded. */
export interface RawParam {
  raw: string
  value: string
}

/** The message's parameters of a Redirect query, each present at most once. */
export type RedirectQuery = Partial<Record<SamlParam, RawParam>>

function formDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/**
 * Parses `rawQuery` (the part after `?`, not decoded). @throws {SamlRequestInvalid}
 * ERR_SAML_DUPLICATE_PARAMETER, ERR_SAML_MALFORMED (a message parameter that is not valid
 * percent-encoding)
 */
export function parseRedirectQuery(rawQuery: string): RedirectQuery {
  const out: RedirectQuery = {}
  for (const part of rawQuery.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const rawName = eq < 0 ? part : part.slice(0, eq)
    const name = formDecode(rawName)
    // A name that does not decode is no parameter of ours (express would not have matched it either).
    if (name === undefined || !isSamlParam(name)) continue
    if (out[name] !== undefined)
      throw new SamlRequestInvalid(
        'ERR_SAML_DUPLICATE_PARAMETER',
        `the query carries ${name} more than once`,
      )
    const raw = eq < 0 ? '' : part.slice(eq + 1)
    const value = formDecode(raw)
    if (value === undefined)
      throw new SamlRequestInvalid('ERR_SAML_MALFORMED', `${name} is not valid URL encoding`)
    out[name] = { raw, value }
  }
  return out
}

/**
 * The octet string a Redirect signature covers (saml-bindings §3.4.4.1): `param=…&RelayState=…&SigAlg=…`,
 * in that order, with the values exactly as they arrived; RelayState only when it was sent.
 */
export function signedOctets(q: RedirectQuery, param: 'SAMLRequest' | 'SAMLResponse'): string {
  return [param, 'RelayState', 'SigAlg']
    .filter((n) => q[n as SamlParam] !== undefined)
    .map((n) => `${n}=${q[n as SamlParam]!.raw}`)
    .join('&')
}
