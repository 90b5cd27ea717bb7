/**
 * @module tokens/random
 * Random bytes for IVs, drawn from a pooled buffer: one `randomFillSync` of 4 KiB serves ~340
 * zero-click IVs, where a call per token costs more than the AES-GCM encryption itself. Same
 * CSPRNG; a pool is never refilled in place (slices handed out stay valid and are never handed
 * out twice).
 */
import { randomBytes, randomFillSync } from 'node:crypto'

const POOL_BYTES = 4096

/** A `randomBytes`-shaped function over a pooled CSPRNG buffer (see the module doc). */
export function createRandomPool(): (size: number) => Buffer {
  let pool = Buffer.alloc(0)
  let at = 0
  return (size) => {
    if (size > POOL_BYTES / 4) return randomBytes(size)
    if (at + size > pool.length) {
      pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES))
      at = 0
    }
    const out = pool.subarray(at, at + size)
    at += size
    return out
  }
}
