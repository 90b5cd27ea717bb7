/**
 * @module accounts/input
 * What a caller may send for one account (admin API body, import record, CLI), and how it is
 * checked. Unknown fields are refused by name rather than ignored, so a typo such as
 * `emial` cannot silently drop data.
 */
import { z } from 'zod'
import { ACCOUNT_STATUSES, RANKS, type JsonObject } from './types.ts'
import { identifyHash } from './passwords.ts'
import { isTimeZone } from './time-zone.ts'

/** C0/C1 controls and bidi overrides have no place in identifiers or names (so no stored username or email holds one). */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')

const nullable = <T extends z.ZodType>(t: T) => t.nullable().optional()

const locale = z
  .string()
  .max(35)
  .refine((s) => {
    try {
      return Intl.getCanonicalLocales(s).length === 1
    } catch {
      return false
    }
  }, 'must be a BCP 47 language tag such as en or fr-CA')

const timezone = z
  .string()
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris')

const picture = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048, 'must be at most 2048 characters')

const MAX_PROFILE_BYTES = 64 * 1024
const profile = z
  .record(z.string(), z.json())
  .refine(
    (p) => JSON.stringify(p).length <= MAX_PROFILE_BYTES,
    `must serialize to at most ${MAX_PROFILE_BYTES} bytes`,
  )

/** The site's own unique user key. Kept verbatim: it is an identifier, never normalized. */
export const externalIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters')
  .refine((s) => s.trim() === s, 'must not start or end with whitespace')

export const PASSWORD_MIN = 8
export const PASSWORD_MAX = 1024

export const accountInputSchema = z
  .strictObject({
    // Sites often key members by an integer; it is stored as its decimal string.
    external_id: z.union([
      externalIdSchema,
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).transform(String),
    ]),
    username: nullable(text(64)),
    email: nullable(z.email('must be a valid email address').max(254)),
    email_verified: z.boolean().optional(),
    nickname: nullable(text(255)),
    given_name: nullable(text(255)),
    family_name: nullable(text(255)),
    picture: nullable(picture),
    rank: z.enum(RANKS, `must be one of ${RANKS.join(', ')}`).optional(),
    title: nullable(text(255)),
    locale: nullable(locale),
    timezone: nullable(timezone),
    profile: profile.optional(),
    status: z.enum(ACCOUNT_STATUSES, `must be one of ${ACCOUNT_STATUSES.join(', ')}`).optional(),
    /** Plain password: hashed with argon2id on write. */
    password: z
      .string()
      .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
      .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`)
      .optional(),
    /** An existing hash from the site (bcrypt, phpass, WordPress, argon2): stored as is. */
    password_hash: z
      .string()
      .refine(
        (h) => identifyHash(h) !== null,
        'is not a supported hash (argon2id, argon2i, bcrypt, phpass $P$/$H$, WordPress $wp$)',
      )
      .nullable()
      .optional(),
  })
  .refine((a) => !(a.password !== undefined && a.password_hash !== undefined), {
    path: ['password_hash'],
    message: 'give either password or password_hash, not both',
  })

export type AccountInput = z.infer<typeof accountInputSchema>
export type { JsonObject }
