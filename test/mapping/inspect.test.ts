/**
 * listPaths: Minnit's example table as a known answer, the edge cases it documents, and a
 * property: listing a document and writing each leaf back with setPath rebuilds the document.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { JsonObject, JsonValue } from '../../src/accounts/types.ts'
import { listPaths } from '../../src/mapping/inspect.ts'
import { parseKey, setPath } from '../../src/mapping/path.ts'

describe('listPaths', () => {
  it("lists Minnit's example exactly as the doc's table (minnit-sso.txt, 'Targeting nested JSON and array values')", () => {
    const doc = {
      id: 123,
      names: {
        full_name: 'Robert Smith',
        first: 'Robert',
        last: 'Smith',
        nicknames: ['Rob', 'Robbie'],
      },
    }
    expect(listPaths(doc)).toStrictEqual([
      { path: 'id', value: 123 },
      { path: 'names.full_name', value: 'Robert Smith' },
      { path: 'names.first', value: 'Robert' },
      { path: 'names.last', value: 'Smith' },
      { path: 'names.nicknames.0', value: 'Rob' },
      { path: 'names.nicknames.1', value: 'Robbie' },
    ])
  })

  it('lists null, false, 0 and empty containers as leaves; escapes dots and backslashes', () => {
    expect(
      listPaths({ n: null, f: false, z: 0, e: {}, a: [], 'a.b': { 'c\\d': 1 }, l: [[], [{}]] }),
    ).toStrictEqual([
      { path: 'n', value: null },
      { path: 'f', value: false },
      { path: 'z', value: 0 },
      { path: 'e', value: {} },
      { path: 'a', value: [] },
      { path: 'a\\.b.c\\\\d', value: 1 },
      { path: 'l.0', value: [] },
      { path: 'l.1.0', value: {} },
    ])
  })

  it('an array at the root lists from its indices; a primitive or empty root lists nothing', () => {
    expect(listPaths(['x', { y: 1 }])).toStrictEqual([
      { path: '0', value: 'x' },
      { path: '1.y', value: 1 },
    ])
    for (const doc of [{}, [], null, undefined, 'x', 1, true]) expect(listPaths(doc)).toEqual([])
  })

  it('writes names the grammar cannot spell plainly, as a platform reads them', () => {
    expect(
      listPaths({ scores: { '2024': 1 }, '': 'empty', o: { '': 2 } }).map((e) => e.path),
    ).toEqual(['scores.2024', '', 'o.'])
    expect(listPaths(JSON.parse('{"__proto__": {"x": 1}}')).map((e) => e.path)).toEqual([
      '__proto__.x',
    ])
  })

  it('skips what JSON cannot hold, and cycles', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    expect(
      listPaths({
        u: undefined,
        f: () => 1,
        n: Number.NaN,
        d: new Date(0),
        s: Symbol('s'),
        ok: 'y',
        c: cyclic,
      }),
    ).toStrictEqual([
      { path: 'ok', value: 'y' },
      { path: 'c.a', value: 1 },
    ])
  })

  /**
   * Documents whose names the key grammar can spell: no empty names (an empty segment), no
   * names of digits only (they read back as array indices and would rebuild an array), and no
   * `__proto__`, `prototype` or `constructor` (refused everywhere). Arrays stay within index 999.
   */
  const nameArb = fc
    .string({
      unit: fc.constantFrom('a', 'b', '.', '\\', '1', ' ', 'é', '😀'),
      minLength: 1,
      maxLength: 5,
    })
    .filter((s) => !/^[0-9]+$/.test(s) && !['__proto__', 'prototype', 'constructor'].includes(s))
  const docArb: fc.Arbitrary<JsonObject> = fc.letrec<{
    value: JsonValue
    object: JsonObject
    array: JsonValue[]
  }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.string({ maxLength: 4 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      tie('object'),
      tie('array'),
    ),
    object: fc.dictionary(nameArb, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    array: fc.array(tie('value'), { maxLength: 4 }),
  })).object

  it('property: setPath of every listed path rebuilds the document, and every path parses', () => {
    fc.assert(
      fc.property(docArb, (doc) => {
        const rebuilt: JsonObject = {}
        for (const { path, value } of listPaths(doc)) setPath(rebuilt, parseKey(path), value)
        expect(rebuilt).toStrictEqual(doc)
      }),
      { numRuns: 1000 },
    )
  })
})
