/**
 * @module accounts/input
 * What a caller may send for one account (admin API body, import record, CLI), and how it is
 * checked. Unknown fields are refused by name rather than ignored, so a typo such as
 * `emial` cannot silently drop data.
 */
import { z } from 'zod'
import {
  ADMIN_FIELDS,
  CONTROL,
  fieldSpec,
  type AccountFieldName,
  type AccountFieldValue,
  type JsonObject,
} from '../store/account-fields.ts'
import { identifyHash } from './passwords.ts'

export { CONTROL }

/**
 * What a write may give for field `K`: its value, null when nullable, or nothing (its default).
 * The admin-writable fields come from the field table (store/account-fields.ts).
 */
type FieldInput<K extends AccountFieldName> = z.ZodOptional<z.ZodType<AccountFieldValue<K>>>

function fieldInputs(): { [K in AccountFieldName]: FieldInput<K> } {
  const shape: Record<string, z.ZodType> = {}
  for (const name of ADMIN_FIELDS) {
    const spec = fieldSpec(name)
    shape[name] = (spec.nullable ? spec.schema.nullable() : spec.schema).optional()
  }
  // Typed per field as the table types it; a field the admin may not write is not in the shape,
  // so the strict object refuses it by name.
  return shape as { [K in AccountFieldName]: FieldInput<K> }
}

/** The site's own unique user key. Kept verbatim: it is an identifier, never normalized. */
export const externalIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters')
  .refine((s) => s.trim() === s, 'must not start or end with whitespace')

const PASSWORD_MIN = 8
const PASSWORD_MAX = 1024

/**
 * An account as the admin API, the import, the CLI and the site ticket accept it: the stored
 * fields plus `password` (hashed on write) or `password_hash` (kept as given), never both.
 */
export const accountInputSchema = z
  .strictObject({
    // Sites often key members by an integer; it is stored as its decimal string.
    external_id: z.union([
      externalIdSchema,
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).transform(String),
    ]),
    ...fieldInputs(),
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

/** A parsed {@link accountInputSchema}. */
export type AccountInput = z.infer<typeof accountInputSchema>
export type { JsonObject }
