/**
 * Each transform: what it makes of each kind of input, that the wrong type (and missing) gives
 * missing, and every refusal when a transform is parsed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { JsonValue } from '../../src/accounts/types.ts'
import { MappingSyntaxError } from '../../src/mapping/syntax-error.ts'
import {
  compileTransform,
  parseIsoMillis,
  truncateCodePoints,
  type TransformSpec,
} from '../../src/mapping/transforms.ts'

type Case = [JsonValue | undefined, JsonValue | undefined]

function check(spec: TransformSpec, cases: Case[]): void {
  const fn = compileTransform(spec)
  for (const [input, output] of cases)
    expect(fn(input), `${JSON.stringify(spec)}(${JSON.stringify(input)})`).toStrictEqual(output)
}

const WRONG_FOR_STRINGS: Case[] = [
  [undefined, undefined],
  [null, undefined],
  [1, undefined],
  [true, undefined],
  [['a'], undefined],
  [{ a: 'b' }, undefined],
]

describe('string transforms', () => {
  it('lower / upper are locale-independent', () => {
    check('lower', [['RoBERT İ', 'robert i̇'], ['', ''], ...WRONG_FOR_STRINGS])
    check('upper', [['straße', 'STRASSE'], ...WRONG_FOR_STRINGS])
  })

  it('trim removes Unicode white space at both ends', () => {
    check('trim', [
      ['  Rob\u00a0\n', 'Rob'],
      ['\u3000名前 ', '名前'],
      ['   ', ''],
      ...WRONG_FOR_STRINGS,
    ])
  })

  it('truncate:N counts code points and never splits a surrogate pair', () => {
    check('truncate:3', [
      ['Robert', 'Rob'],
      ['Ro', 'Ro'],
      ['😀😀😀😀', '😀😀😀'],
      ['a😀b', 'a😀b'],
      ['ab😀c', 'ab😀'],
      ...WRONG_FOR_STRINGS,
    ])
    check('truncate:1', [
      ['😀x', '😀'],
      ['\ud800x', '\ud800'],
      ['\udc00\ud800', '\udc00'],
    ])
  })

  it('property: truncateCodePoints gives a prefix of at most N code points, never ending in half a pair', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.integer({ min: 1, max: 40 }),
        (s, n) => {
          const t = truncateCodePoints(s, n)
          expect(s.startsWith(t)).toBe(true)
          expect([...t].length).toBe(Math.min(n, [...s].length))
          expect([...s].slice(0, n).join('')).toBe(t)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('join and split', () => {
  it('join:SEP joins strings, numbers and booleans, skips nulls; any other element → missing', () => {
    check('join', [[['a', 'b'], 'a,b']])
    check('join:,', [
      [['a', 1, true, null, 'b'], 'a,1,true,b'],
      [[], ''],
      [[{ x: 1 }], undefined],
      [[['a']], undefined],
      ['a,b', undefined],
      [undefined, undefined],
    ])
    check('join:', [[['a', 'b'], 'ab']])
    check('join: | ', [[['a', 'b'], 'a | b']])
    check('join::', [[['a', 'b'], 'a:b']])
  })

  it('split:SEP makes an array of strings; "" → []', () => {
    check('split', [['a,b', ['a', 'b']]])
    check('split:;', [['a;b;', ['a', 'b', '']], ['', []], ['x', ['x']], ...WRONG_FOR_STRINGS])
    check('split:::', [['a::b', ['a', 'b']]])
  })
})

describe('type conversions', () => {
  it('string', () => {
    check('string', [
      ['x', 'x'],
      [42, '42'],
      [-1.5, '-1.5'],
      [true, 'true'],
      [false, 'false'],
      [null, undefined],
      [undefined, undefined],
      [[1], undefined],
      [{}, undefined],
    ])
  })

  it('number: plain decimals only', () => {
    check('number', [
      [42, 42],
      [' 42 ', 42],
      ['-1.5e3', -1500],
      ['.5', 0.5],
      ['1.', 1],
      ['', undefined],
      ['  ', undefined],
      ['0x10', undefined],
      ['Infinity', undefined],
      ['1e400', undefined],
      ['12abc', undefined],
      [true, 1],
      [false, 0],
      [null, undefined],
      [undefined, undefined],
      [[1], undefined],
    ])
  })

  it('boolean', () => {
    check('boolean', [
      [true, true],
      [false, false],
      ['true', true],
      [' YES ', true],
      ['1', true],
      ['on', true],
      ['False', false],
      ['no', false],
      ['0', false],
      ['off', false],
      ['maybe', undefined],
      ['', undefined],
      [1, true],
      [0, false],
      [2, undefined],
      [null, undefined],
      [undefined, undefined],
      [[], undefined],
    ])
  })

  it('unix: ISO 8601 string or epoch ms → whole seconds, offsets honoured, no offset = UTC', () => {
    check('unix', [
      ['2024-01-02T03:04:05.678Z', 1704164645],
      ['2024-01-02T03:04:05Z', 1704164645],
      ['2024-01-02T03:04:05', 1704164645],
      ['2024-01-02 03:04:05z', 1704164645],
      ['2024-01-02T04:04:05+01:00', 1704164645],
      ['2024-01-02T02:04:05-0100', 1704164645],
      ['2024-01-02T03:04:05.123456789Z', 1704164645],
      ['2024-01-02', 1704153600],
      ['1969-12-31T23:59:59.500Z', -1],
      ['1970-01-01T00:00:00Z', 0],
      [1704164645678, 1704164645],
      [-500, -1],
      [0, 0],
      ['2024-01-02T03:04', 1704164640],
      ['2024-01-02T03:04:05,9Z', 1704164645],
      ['2024-02-29', 1709164800],
      ['2000-02-29', 951782400],
      ['1900-02-29', undefined],
      ['2024-04-31', undefined],
      ['2024-01-02T03:04:05.Z', undefined],
      ['2024-01-02T03:04:05Zx', undefined],
      ['2024-01-02T03:04:05+01:0', undefined],
      ['2024-01-02T03:04:05+01', undefined],
      ['2024-01-02T3:04:05Z', undefined],
      ['2024-1-02', undefined],
      ['+2024-01-02', undefined],
      ['2023-02-29', undefined],
      ['2024-13-01', undefined],
      ['2024-01-02T24:00:00Z', undefined],
      ['2024-01-02T03:04:05+25:00', undefined],
      ['yesterday', undefined],
      ['Tue, 02 Jan 2024 03:04:05 GMT', undefined],
      ['', undefined],
      [true, undefined],
      [null, undefined],
      [undefined, undefined],
    ])
    expect(Object.is(compileTransform('unix')(-0), 0)).toBe(true) // never -0
  })

  it('property: unix agrees with Date for every toISOString()', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0100-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (d) => {
          expect(parseIsoMillis(d.toISOString())).toBe(d.getTime())
          expect(compileTransform('unix')(d.toISOString())).toBe(Math.floor(d.getTime() / 1000))
        },
      ),
    )
  })
})

describe('map and default', () => {
  it('map looks values up by their string form; fallback for values not in the map', () => {
    check(
      { map: { owner: 'admin', moderator: 'mod', '1': 'one', true: 'yes' }, fallback: 'user' },
      [
        ['owner', 'admin'],
        ['moderator', 'mod'],
        ['visitor', 'user'],
        [1, 'one'],
        [true, 'yes'],
        [undefined, undefined],
        [null, undefined],
        [['owner'], undefined],
      ],
    )
  })

  it('map without fallback: not in the map → missing; Object.prototype names are not in any map', () => {
    check({ map: { owner: 'admin' } }, [
      ['owner', 'admin'],
      ['visitor', undefined],
      ['toString', undefined],
      ['__proto__', undefined],
      ['constructor', undefined],
    ])
  })

  it('map values may be any JSON, null included, and are fresh copies each time', () => {
    const fn = compileTransform({ map: { a: { roles: ['x'] }, n: null } })
    const first = fn('a') as { roles: string[] }
    first.roles.push('changed')
    expect(fn('a')).toEqual({ roles: ['x'] })
    expect(fn('n')).toBeNull()
  })

  it('a __proto__ key in a map is just a key', () => {
    const fn = compileTransform(JSON.parse('{"map":{"__proto__":"p"}}'))
    expect(fn('__proto__')).toBe('p')
    expect(({} as Record<string, unknown>).p).toBeUndefined()
  })

  it('default replaces a missing value only', () => {
    check({ default: 'none' }, [
      [undefined, 'none'],
      ['x', 'x'],
      ['', ''],
      [0, 0],
      [false, false],
    ])
    check({ default: null }, [[undefined, null]])
  })
})

describe('parsing refusals', () => {
  it.each<[unknown, RegExp]>([
    ['nope', /"nope" is not a known transform/],
    ['LOWER', /not a known transform/],
    ['lower:x', /takes no argument/],
    ['unix:ms', /takes no argument/],
    ['truncate', /whole number/],
    ['truncate:0', /whole number/],
    ['truncate:-1', /whole number/],
    ['truncate:1.5', /whole number/],
    ['truncate:020', /whole number/],
    ['truncate:1000001', /whole number/],
    ['split:', /non-empty separator/],
    ['map', /written as an object/],
    ['default', /written as an object/],
    [{ map: ['a'] }, /"map" must be an object/],
    [{ map: { a: 'b' }, other: 1 }, /unknown field "other"/],
    [{ map: { a: undefined } }, /not a JSON value/],
    [{ map: { a: Number.NaN } }, /not a JSON value/],
    [{ map: {}, fallback: new Date() }, /"fallback" is not a JSON value/],
    [{ default: undefined }, /"default" is not a JSON value/],
    [{ default: 1, extra: 2 }, /unknown field "extra"/],
    [{ upper: true }, /must be \{ "map"/],
    [42, /must be a name/],
    [null, /must be a name/],
    [['lower'], /must be a name/],
  ])('refuses %j', (spec, reason) => {
    expect(() => compileTransform(spec)).toThrow(MappingSyntaxError)
    expect(() => compileTransform(spec)).toThrow(reason)
  })

  it('refuses a map of more than 1000 entries', () => {
    const map = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]))
    expect(() => compileTransform({ map })).toThrow(/more than 1000 entries/)
  })
})
