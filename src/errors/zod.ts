/**
 * @module errors/zod
 * Turns a zod error into our {@link ValidationFailed}, one issue per bad field with a dotted
 * path (`profile.tags.0`), so every caller reports validation the same way.
 */
import type { z } from 'zod'
import { ValidationFailed, type FieldIssue } from './errors.ts'

/**
 * zod's issues as our {@link FieldIssue}s: one per bad field, with a dotted path (an unknown key
 * is named itself rather than reported on its parent).
 * @param prefix prepended to every path (the body's field the schema validated)
 */
export function zodIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues
    .map((i) => {
      const parts = [prefix, ...i.path.map(String)].filter(Boolean)
      // Unknown keys are reported by zod on the parent; name each key instead.
      if (i.code === 'unrecognized_keys') {
        return i.keys.map((k) => ({
          path: [...parts, k].join('.'),
          message: 'is not a known field',
        }))
      }
      return [{ path: parts.join('.'), message: i.message }]
    })
    .flat()
}

/**
 * A zod failure as our {@link ValidationFailed}, so a boundary never lets a ZodError (and its
 * raw input) out.
 * @param prefix prepended to every path
 * @example
 * const parsed = schema.safeParse(body)
 * if (!parsed.success) throw fromZod(parsed.error, 'settings')
 */
export function fromZod(error: z.ZodError, prefix = ''): ValidationFailed {
  return new ValidationFailed(zodIssues(error, prefix))
}
