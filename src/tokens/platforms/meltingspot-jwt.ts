/**
 * @module tokens/platforms/meltingspot-jwt
 * MeltingSpot's JWT SSO, as data (tokens/definition.ts): HS256 token passed as `ms_token` to the
 * spot's `/sso/jwt` (../shared/platforms/meltingspot-jwt-sso.txt).
 *
 * Claims, in the doc's order: `sub`, `firstName`, `lastName`, `email` (all four required, each at
 * most 255 characters, the email a valid address), then `title` (cut to 255 characters),
 * `avatarUrl` (only an http(s) URL of at most 255 characters), `lang` (only `en`, `fr` or `de`)
 * and `timezone` (only an IANA name) — an unusable optional value is left out so MeltingSpot's
 * default applies — then `iat` and `exp` = iat + `token_ttl` (default 60 s, as the doc
 * recommends).
 *
 * Both documented flows end at the configured spot's `/spot/<id>/sso/jwt?ms_token=…` on the
 * configured host, and nowhere else (see {@link spotRedirect}): the delivery's check refuses any
 * other `redirectUrl` or `referrerUrl` before anything is mapped or signed.
 */
import { z } from 'zod'
import { ValidationFailed } from '../../errors/index.ts'
import { httpUrl, lifetime } from '../../integrations/schemas.ts'
import { jwtBuilder } from '../builders/jwt.ts'
import { definePlatform } from '../definition.ts'
import { TOKEN_ROUTES } from '../paths.ts'
import { apiKeySecret, browserSettings, hs256Secret } from '../settings.ts'
import type { IssueOptions } from '../types.ts'

/** "It should be 255 characters or less" (sub, firstName, lastName, email). */
export const MAX_STRING = 255
/** The locales MeltingSpot supports; any other `lang` is left out (it then defaults to en). */
export const LANGS: readonly string[] = ['en', 'fr', 'de']

const settings = z.strictObject({
  /** Base URL of the MeltingSpot app hosting the spot (its host is the only redirect target). */
  spot_base_url: httpUrl,
  /** The string after `spot/` in the spot's URL. */
  spot_id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be the spot id from the spot URL'),
  /** The doc recommends 60 seconds. */
  token_ttl: lifetime(60, 3600),
  ...browserSettings,
})
type Settings = z.infer<typeof settings>

const spotOrigin = (s: Settings) => new URL(s.spot_base_url).origin

function refuse(path: string, message: string): never {
  throw new ValidationFailed([{ path, message }])
}

/**
 * Checks a `referrerUrl`: a path of this spot on MeltingSpot's host, nothing else. Refused: an
 * absolute or protocol-relative URL (`https://…`, `//evil`), `javascript:` and any other scheme,
 * backslashes, whitespace and control characters, another spot's path, dot segments or encoded
 * slashes, dots and backslashes that could climb out of the spot's path once decoded — at any
 * depth of encoding (see {@link decodesSafely}).
 * @throws {ValidationFailed} at `referrerUrl`
 */
export function checkReferrerUrl(value: string, spotId: string): string {
  const message = `must be a path of this spot, such as /spot/${spotId}/lives`
  if (
    value.length > 2048 ||
    !value.startsWith('/') ||
    value.startsWith('//') ||
    !decodesSafely(value)
  )
    refuse('referrerUrl', message)
  const base = 'https://spot.invalid'
  const u = new URL(value, base)
  const prefix = `/spot/${spotId}`
  if (u.origin !== base || !(u.pathname === prefix || u.pathname.startsWith(`${prefix}/`)))
    refuse('referrerUrl', message)
  // Anything the URL parser rewrote (dot segments, encodings) is refused rather than trusted.
  if (`${u.pathname}${u.search}${u.hash}` !== value) refuse('referrerUrl', message)
  return value
}

/** How many layers of percent-encoding a referrerUrl may carry; deeper is refused. */
const MAX_DECODE_LAYERS = 4

/**
 * Whether `value`, and every value it percent-decodes to however many times it is decoded, is
 * free of backslashes and control characters (and `value` itself of whitespace) and carries no
 * encoded slash, dot or backslash. A slash or dot that only appears after decoding (`%2e%2e`, `%252e%252e`,
 * `%25252e…`) could climb out of the spot's path at whichever hop decodes once more; a value
 * still encoded after MAX_DECODE_LAYERS, or not decodable, is refused too.
 */
function decodesSafely(value: string): boolean {
  let layer = value
  for (let i = 0; i <= MAX_DECODE_LAYERS; i++) {
    // The value as sent has no whitespace at all; a decoded one may have spaces (`%20`), never controls.
    if (
      (i === 0 ? /[\\\u0000-\u0020\u007f]/ : /[\\\u0000-\u001f\u007f]/).test(layer) ||
      /%(2f|5c|2e)/i.test(layer)
    )
      return false
    if (!layer.includes('%')) return true
    let next: string
    try {
      next = decodeURIComponent(layer)
    } catch {
      return false
    }
    if (next === layer) return true
    layer = next
  }
  return false
}

/**
 * Where a member is sent with the token: always built from the configured host and spot id,
 * `<origin>/spot/<id>/sso/jwt`, with a checked `referrerUrl`.
 *
 * - `redirectUrl` (flow b, sent by the spot): accepted only if it is exactly that URL — same
 *   scheme, host and port, path `/spot/<id>/sso/jwt`, no credentials or fragment. Its own
 *   `referrerUrl` parameter is checked and kept; other parameters are dropped.
 * - `referrerUrl` (flow a, from the site's link): used when `redirectUrl` carries none.
 * @throws {ValidationFailed} at `redirectUrl` or `referrerUrl`
 */
export function spotRedirect(
  s: Settings,
  options: Pick<IssueOptions, 'redirectUrl' | 'referrerUrl'> = {},
): URL {
  const base = new URL(s.spot_base_url)
  const path = `/spot/${s.spot_id}/sso/jwt`
  const target = new URL(path, base.origin)
  let referrer = options.referrerUrl
  if (options.redirectUrl !== undefined) {
    const raw = options.redirectUrl
    const message = `must be this spot's SSO URL, ${target.href}`
    if (raw.length > 4096 || /[\\\u0000-\u0020\u007f]/.test(raw) || !URL.canParse(raw))
      refuse('redirectUrl', message)
    const u = new URL(raw)
    if (
      u.protocol !== base.protocol ||
      u.host !== base.host ||
      u.username !== '' ||
      u.password !== '' ||
      u.pathname !== path ||
      u.hash !== ''
    )
      refuse('redirectUrl', message)
    const inner = u.searchParams.getAll('referrerUrl')
    if (inner.length > 1) refuse('redirectUrl', 'must carry at most one referrerUrl')
    if (inner[0] !== undefined) referrer = inner[0]
  }
  if (referrer !== undefined && referrer !== '')
    target.searchParams.set('referrerUrl', checkReferrerUrl(referrer, s.spot_id))
  return target
}

/** The `meltingspot-jwt` integration type (JWT SSO, HS256, redirect to /sso/jwt). */
export const meltingspotJwt = definePlatform<Settings>({
  type: 'meltingspot-jwt',
  description: 'MeltingSpot community JWT SSO (HS256, redirect to /sso/jwt)',
  docs: ['../shared/platforms/meltingspot-jwt-sso.txt'],
  guide: {
    title: 'MeltingSpot — JWT SSO',
    platform: 'MeltingSpot',
    fields: {
      spot_base_url: { label: "Spot's base URL", help: 'the MeltingSpot address your Spot is on' },
      spot_id: { label: 'Spot ID', help: "the string after spot/ in your Spot's URL" },
      token_ttl: { label: 'Token lifetime, seconds', help: 'MeltingSpot recommends 60' },
      jwt_secret: { label: 'Private key', help: 'Spot settings → SSO → copy your private key' },
    },
    connection: {
      start: 'In MeltingSpot, open your Spot settings → SSO and activate JWT SSO.',
      labels: {
        'paste_into_platform.0.value': 'Authorisation URL',
        browser_token_url: 'Browser token URL',
      },
    },
  },
  settings,
  secrets: {
    jwt_secret: {
      description: "private key copied from the spot's SSO settings",
      required: true,
      check: hs256Secret,
    },
    api_key: apiKeySecret,
  },
  // Payload fields of meltingspot-jwt-sso.txt; lang only where MeltingSpot has the locale.
  defaultMapping: {
    sub: 'external_id',
    firstName: 'given_name',
    lastName: 'family_name',
    email: 'email',
    title: 'title',
    avatarUrl: 'picture',
    lang: {
      path: 'locale',
      transforms: [
        {
          map: {
            en: 'en',
            'en-US': 'en',
            'en-GB': 'en',
            fr: 'fr',
            'fr-FR': 'fr',
            'fr-CA': 'fr',
            de: 'de',
            'de-DE': 'de',
            'de-AT': 'de',
            'de-CH': 'de',
          },
        },
      ],
    },
    timezone: 'timezone',
  },
  // The doc's field list: four required, each "255 characters or less"; the rest optional.
  fields: {
    sub: { kind: 'id', required: true, max: MAX_STRING },
    firstName: { kind: 'text', required: true, max: MAX_STRING },
    lastName: { kind: 'text', required: true, max: MAX_STRING },
    email: { kind: 'email', required: true, max: MAX_STRING },
    title: { kind: 'text', max: MAX_STRING, cut: true },
    avatarUrl: { kind: 'url', max: MAX_STRING },
    lang: { kind: 'enum', values: LANGS },
    timezone: { kind: 'timezone' },
  },
  builder: jwtBuilder<Settings>({ alg: 'HS256', secret: 'jwt_secret', ttl: (s) => s.token_ttl }),
  delivery: {
    kind: 'url-parameter',
    // Flows (a) and (b) both redirect; the options are checked before anything is signed.
    check: (s, options) => void spotRedirect(s, options),
    url: (b, s, options) => {
      const target = spotRedirect(s, options)
      target.searchParams.set('ms_token', b.token)
      return target.href
    },
    redirect: true,
  },
  sheet: (integration, issuer) => {
    const s = integration.settings
    const authorize = `${issuer}${TOKEN_ROUTES.redirect(integration.record.id)}`
    return {
      platform: 'MeltingSpot',
      paste_into_platform: [
        { setting: 'Spot settings → SSO → Authorisation URL', value: authorize },
      ],
      copy_from_platform: [{ setting: 'Spot settings → SSO → private key', secret: 'jwt_secret' }],
      notes: [
        `From the site (flow a): link members to ${authorize} (add ?referrerUrl=/spot/${s.spot_id}/… to land on a page of the spot).`,
        `From the spot (flow b): MeltingSpot sends members to the same URL with redirectUrl; only ${spotOrigin(s)}/spot/${s.spot_id}/sso/jwt is accepted.`,
        'Both need the member signed in to sso-bridge (the shared bridge session); turn SSO on in the spot once this works.',
      ],
    }
  },
})

/** The `meltingspot-jwt` integration type: settings, secrets, default claims, connection sheet. */
export const meltingspotJwtType = meltingspotJwt.definition
