import { describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor, newId } from '../../src/store/ids.ts'

describe('ids', () => {
  it('are UUIDv7 and strictly increasing within one millisecond', () => {
    const now = Date.now() + 10_000
    const ids = Array.from({ length: 5000 }, () => newId(now))
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('cursor round-trips and rejects anything it did not issue', () => {
    const id = newId()
    expect(decodeCursor(encodeCursor(id))).toBe(id)
    expect(decodeCursor('abc')).toBeNull()
    expect(decodeCursor(encodeCursor("' OR 1=1 --"))).toBeNull()
  })
})
