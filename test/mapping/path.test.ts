/**
 * Dotted paths: the key grammar (known answers and every refusal), formatPath as the exact
 * inverse of parseKey, and getPath/setPath (including prototype-pollution attempts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { JsonObject, JsonValue } from '../../src/accounts/types.ts'
import {
  formatPath,
  getPath,
  MAX_INDEX,
  parseKey,
  setPath,
  type Segment,
} from '../../src/mapping/path.ts'
import { MappingSyntaxError } from '../../src/mapping/syntax-error.ts'

/** Names the grammar can spell: anything but empty, digits only, or a forbidden name. */
const nameArb = fc
  .string({
    unit: fc.constantFrom('a', 'Z', '.', '\\', '0', '7', '-', ' ', 'é', '名', '😀', '_', '{'),
    minLength: 1,
    maxLength: 8,
  })
  .chain((s) =>
    fc.oneof(fc.constant(s), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 })),
  )
  .filter(
    (s) =>
      s !== '' && !/^[0-9]+$/.test(s) && !['__proto__', 'prototype', 'constructor'].includes(s),
  )
const indexArb = fc.nat({ max: MAX_INDEX })
const segmentsArb = fc.array(fc.oneof(nameArb, indexArb), { minLength: 1, maxLength: 6 })

describe('parseKey', () => {
  it.each<[string, Segment[]]>([
    ['id', ['id']],
    ['names.full_name', ['names', 'full_name']],
    ['names.nicknames.0', ['names', 'nicknames', 0]],
    ['names.nicknames.10', ['names', 'nicknames', 10]],
    ['a\\.b', ['a.b']],
    ['a\\\\b', ['a\\b']],
    ['a\\\\.b', ['a\\', 'b']],
    ['a\\.0', ['a.0']],
    ['v1.x0', ['v1', 'x0']],
    ['-1', ['-1']],
    ['1.5x', [1, '5x']],
    ['名前.😀', ['名前', '😀']],
    [`a.${MAX_INDEX}`, ['a', MAX_INDEX]],
  ])('%s → %j', (key, segments) => {
    expect(parseKey(key)).toEqual(segments)
  })

  it.each<[string, RegExp]>([
    ['', /empty/],
    ['a..b', /empty segment/],
    ['.a', /empty segment/],
    ['a.', /empty segment/],
    ['a\\', /lone backslash/],
    ['a\\b', /unknown escape/],
    ['a.01', /leading zero/],
    ['a.00', /leading zero/],
    [`a.${MAX_INDEX + 1}`, /above the maximum/],
    ['a.99999999999999999999999', /above the maximum/],
    ['__proto__', /prototype pollution/],
    ['a.__proto__.b', /prototype pollution/],
    ['a.prototype', /prototype pollution/],
    ['constructor.x', /prototype pollution/],
    [Array.from({ length: 33 }, () => 'a').join('.'), /more than 32 segments/],
  ])('refuses %j', (key, reason) => {
    expect(() => parseKey(key)).toThrow(MappingSyntaxError)
    expect(() => parseKey(key)).toThrow(reason)
  })

  it('a larger maxIndex lets source paths read any index', () => {
    expect(parseKey('profile.years.2024', { maxIndex: Number.MAX_SAFE_INTEGER })).toEqual([
      'profile',
      'years',
      2024,
    ])
  })
})

describe('formatPath', () => {
  it('escapes dots and backslashes in names', () => {
    expect(formatPath(['a.b', 'c\\d', 0])).toBe('a\\.b.c\\\\d.0')
  })

  it.each<[Segment[], RegExp]>([
    [[], /no segments/],
    [[''], /empty name/],
    [['12'], /array index/],
    [['__proto__'], /prototype pollution/],
    [[-1], /non-negative/],
    [[1.5], /non-negative/],
  ])('refuses %j', (segments, reason) => {
    expect(() => formatPath(segments)).toThrow(reason)
  })

  it('property: parseKey(formatPath(s)) deep-equals s, and formatPath(parseKey(k)) === k', () => {
    fc.assert(
      fc.property(segmentsArb, (segments) => {
        const key = formatPath(segments)
        expect(parseKey(key)).toEqual(segments)
        expect(formatPath(parseKey(key))).toBe(key)
      }),
      { numRuns: 500 },
    )
  })
})

describe('getPath', () => {
  const doc = { a: { b: [10, { c: 'x' }] }, n: null, s: 'str', o: { '5': 'five' } }

  it.each<[Segment[], unknown]>([
    [['a', 'b', 0], 10],
    [['a', 'b', 1, 'c'], 'x'],
    [['a', 'b', 2], undefined],
    [['a', 'x'], undefined],
    [['n'], null],
    [['n', 'x'], undefined],
    [['s', 0], undefined],
    [['s', 'length'], undefined],
    [['a', 'b', 'length'], undefined],
    [['o', 5], 'five'],
  ])('%j → %j', (segments, value) => {
    expect(getPath(doc, segments)).toEqual(value)
  })

  it('reads own members only, never Object.prototype', () => {
    expect(getPath({}, ['toString'])).toBeUndefined()
    expect(getPath({}, ['__proto__'])).toBeUndefined()
    expect(getPath({ a: {} }, ['a', 'constructor'])).toBeUndefined()
    expect(getPath(JSON.parse('{"__proto__":{"x":1}}'), ['__proto__', 'x'])).toBe(1)
  })
})

describe('setPath', () => {
  it('builds objects for names and arrays for indices', () => {
    const doc: JsonObject = {}
    setPath(doc, ['names', 'nicknames', 0], 'Rob')
    setPath(doc, ['names', 'nicknames', 1], 'Robbie')
    setPath(doc, ['names', 'first'], 'Robert')
    setPath(doc, ['list', 0, 'x'], 1)
    expect(doc).toEqual({
      names: { nicknames: ['Rob', 'Robbie'], first: 'Robert' },
      list: [{ x: 1 }],
    })
  })

  it.each<[Segment[], RegExp]>([
    [['s', 'x'], /blocked/],
    [['obj', 0], /index 0 into an object/],
    [['arr', 'x'], /name "x" into an array/],
    [['__proto__', 'polluted'], /prototype pollution/],
    [['obj', 'constructor', 'prototype'], /prototype pollution/],
    [[], /no segments/],
  ])('refuses %j', (segments, reason) => {
    const doc: JsonObject = { s: 'str', obj: {}, arr: [] }
    expect(() => setPath(doc, segments, 'v')).toThrow(reason)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('property: after setPath(doc, s, v), getPath(doc, s) is v', () => {
    const valueArb: fc.Arbitrary<JsonValue> = fc.jsonValue({
      maxDepth: 2,
    }) as fc.Arbitrary<JsonValue>
    fc.assert(
      fc.property(
        fc.array(fc.oneof(nameArb, fc.nat({ max: 20 })), { minLength: 1, maxLength: 6 }),
        valueArb,
        (segments, value) => {
          // The document root is an object, so the first segment must be a name.
          fc.pre(typeof segments[0] === 'string')
          const doc: JsonObject = {}
          setPath(doc, segments, value)
          expect(getPath(doc, segments)).toEqual(value)
        },
      ),
      { numRuns: 500 },
    )
  })
})
