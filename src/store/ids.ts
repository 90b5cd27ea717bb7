/**
 * @module store/ids
 * Internal ids are UUIDv7 (RFC 9562 §5.7): the leading 48-bit millisecond timestamp makes
 * them sort in creation order, so the id doubles as a stable page cursor. Within one
 * millisecond the 12-bit `rand_a` field is a counter (RFC 9562 §6.2, method 1), so ids made
 * by one process are strictly increasing even in a tight loop.
 */
import { randomBytes } from 'node:crypto'

let lastMs = 0
let seq = 0

/**
 * A new UUIDv7, strictly greater than every earlier one from this process.
 * @param now the millisecond timestamp to embed (tests pass a fixed one)
 */
export function newId(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now
    seq = randomBytes(2).readUInt16BE() & 0x3ff // start low: room for 3k more ids this ms
  } else if (++seq > 0xfff) {
    lastMs++
    seq = 0
  }
  const b = randomBytes(16)
  b.writeUIntBE(lastMs, 0, 6)
  b[6] = 0x70 | (seq >> 8)
  b[7] = seq & 0xff
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** Page cursors are opaque to clients: base64url of the last id seen. */
export function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url')
}

/** @returns the id, or null when the cursor is not one we issued */
export function decodeCursor(cursor: string): string | null {
  const id = Buffer.from(cursor, 'base64url').toString()
  return ID_RE.test(id) ? id : null
}
