/**
 * @module errors/zod
 * Turns a zod error into our {@link ValidationFailed}, one issue per bad field with a dotted
 * path (`profile.tags.0`), so every caller reports validation the same way.
 */
import type { z } from 'zod'
import { ValidationFailed, type FieldIssue } from './errors.ts'

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

export function fromZod(error: z.ZodError, prefix = ''): ValidationFailed {
  return new ValidationFailed(zodIssues(error, prefix))
}
