/**
 * @module integrations/schemas
 * Small zod building blocks the door types share for their settings.
 */
import { z } from 'zod'

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048)

/** A lifetime in seconds between 1 and `max`, `fallback` when omitted. */
export const lifetime = (fallback: number, max: number) =>
  z
    .number()
    .int('must be a whole number of seconds')
    .min(1)
    .max(max, `must be at most ${max} seconds`)
    .default(fallback)
