/**
 * compileMapping: the documented format as a known answer, Minnit's example document built from
 * an account, missing values and null, holes, defaults, every refusal (naming the key),
 * prototype pollution, injection-looking data, and a property: no null or undefined is ever
 * written unless a mapping asked for it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Account, JsonObject, JsonValue } from '../../src/accounts/types.ts'
import { ValidationFailed } from '../../src/errors/index.ts'
import { compileMapping, listPaths } from '../../src/mapping/index.ts'
import { makeAccount } from './fixtures.ts'

/** The compile error's issues, or a failure if it compiled. */
function issuesOf(
  mapping: unknown,
  defaults?: Record<string, unknown>,
): { path: string; message: string }[] {
  try {
    compileMapping(mapping, defaults ? { defaults } : {})
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationFailed)
    expect(err).toMatchObject({ code: 'ERR_VALIDATION' })
    return (err as ValidationFailed).issues
  }
  throw new Error(`expected ${JSON.stringify(mapping)} to be refused`)
}

describe('the documented format (rules.ts header), as a known answer', () => {
  const mapping = {
    sub: 'external_id',
    'names.nicknames.0': 'nickname',
    'names.full_name': { template: '{given_name} {family_name}' },
    role: {
      path: 'rank',
      transforms: [{ map: { owner: 'admin', moderator: 'mod' }, fallback: 'user' }],
    },
    handle: { path: 'username', transforms: ['lower', 'trim', 'truncate:20'] },
    tags: { path: 'profile.tags', transforms: ['join:,'] },
    platform: { const: 'sso-bridge' },
    verified: { path: 'email_verified', transforms: ['string'] },
    updated: { path: 'updated_at', transforms: ['unix'] },
    email: { path: 'email', default: null },
    'a\\.b': 'username',
  }

  it('maps a typical account', () => {
    const m = compileMapping(mapping)
    expect(m.keys).toEqual(Object.keys(mapping))
    const out = m.apply(makeAccount({ username: '  Robert_Smith_The_Third_Of_Many  ' }))
    expect(JSON.stringify(out)).toBe(
      JSON.stringify({
        sub: '123',
        names: { nicknames: ['Rob'], full_name: 'Robert Smith' },
        role: 'mod',
        handle: 'robert_smith_the_thi',
        tags: 'tea,chess',
        platform: 'sso-bridge',
        verified: 'true',
        updated: 1714979289,
        email: 'rob@example.test',
        'a.b': '  Robert_Smith_The_Third_Of_Many  ',
      }),
    )
  })

  it('fills, falls back and omits for a sparse account', () => {
    const out = compileMapping(mapping).apply(
      makeAccount({
        rank: 'regular',
        nickname: null,
        family_name: null,
        email: null,
        username: null,
        profile: {},
      }),
    )
    expect(out).toStrictEqual({
      sub: '123',
      role: 'user',
      platform: 'sso-bridge',
      verified: 'true',
      updated: 1714979289,
      email: null,
    })
  })
})

describe("Minnit's example document (minnit-sso.txt, 'Targeting nested JSON and array values')", () => {
  it('is built exactly from an account, and lists back as the doc table', () => {
    const m = compileMapping({
      id: { path: 'external_id', transforms: ['number'] },
      'names.full_name': { template: '{given_name} {family_name}' },
      'names.first': 'given_name',
      'names.last': 'family_name',
      'names.nicknames.0': 'nickname',
      'names.nicknames.1': 'profile.nicknames.0',
    })
    const out = m.apply(makeAccount())
    expect(JSON.stringify(out)).toBe(
      '{"id":123,"names":{"full_name":"Robert Smith","first":"Robert","last":"Smith","nicknames":["Rob","Robbie"]}}',
    )
    expect(listPaths(out).map((e) => [e.path, e.value])).toEqual([
      ['id', 123],
      ['names.full_name', 'Robert Smith'],
      ['names.first', 'Robert'],
      ['names.last', 'Smith'],
      ['names.nicknames.0', 'Rob'],
      ['names.nicknames.1', 'Robbie'],
    ])
  })
})

describe('sources', () => {
  it('reads top-level fields, nested profile paths and array elements', () => {
    const m = compileMapping({
      a: 'profile.names.first',
      b: 'profile.tags.1',
      c: 'profile.karma',
      d: 'email_verified',
      e: 'profile.deep.x.y.z',
      f: 'profile.byYear.2024',
    })
    const account = makeAccount({
      profile: {
        names: { first: 'R' },
        tags: ['x', 'y'],
        karma: 0,
        deep: { x: { y: { z: false } } },
        byYear: { '2024': 'gold' },
      },
    })
    expect(m.apply(account)).toStrictEqual({ a: 'R', b: 'y', c: 0, d: true, e: false, f: 'gold' })
  })

  it('a path that leaves the account, hits a non-container or reaches null is missing', () => {
    const m = compileMapping({
      a: 'profile.nope',
      b: 'profile.tags.5',
      c: 'profile.karma.x',
      d: 'profile.tags.name',
      e: 'title',
      f: 'profile.n',
      g: 'profile.tags.length',
      h: 'profile.toString',
      i: 'username.0',
    })
    expect(
      m.apply(makeAccount({ title: null, profile: { tags: ['x'], karma: 1, n: null } })),
    ).toStrictEqual({})
  })

  it('copies objects and arrays from the account without their nulls, sharing nothing', () => {
    const profile: JsonObject = {
      list: ['a', null, 'b', { x: null, y: 1 }],
      obj: { k: null, keep: [null] },
    }
    const account = makeAccount({ profile })
    const m = compileMapping({ p: 'profile', l: 'profile.list' })
    const out = m.apply(account)
    expect(out).toStrictEqual({
      p: { list: ['a', 'b', { y: 1 }], obj: { keep: [] } },
      l: ['a', 'b', { y: 1 }],
    })
    ;((out.p as JsonObject).list as JsonValue[]).push('mutated')
    expect(profile.list).toEqual(['a', null, 'b', { x: null, y: 1 }])
  })

  it('leaves out what is not JSON in a profile built by code (Date, NaN, undefined, functions)', () => {
    const profile = {
      d: new Date(0),
      n: Number.NaN,
      u: undefined,
      f: () => 1,
      inf: Number.POSITIVE_INFINITY,
      ok: 1,
      arr: [Number.NaN, 2],
    } as unknown as JsonObject
    const out = compileMapping({ p: 'profile', d: 'profile.d', n: 'profile.n' }).apply(
      makeAccount({ profile }),
    )
    expect(out).toStrictEqual({ p: { ok: 1, arr: [2] } })
  })

  it('templates: {{ }} are literal braces; a missing or non-scalar placeholder makes the value missing', () => {
    const m = compileMapping({
      a: { template: '{{{username}}} #{profile.karma} {email_verified}' },
      b: { template: '{given_name} {title}' },
      c: { template: '{profile.tags}' },
      d: { template: '{given_name} {title}', default: 'anon' },
      e: { template: 'constant text' },
    })
    expect(m.apply(makeAccount({ title: null }))).toStrictEqual({
      a: '{RobertS} #42 true',
      d: 'anon',
      e: 'constant text',
    })
  })

  it('constants are any JSON, null included, fresh each time', () => {
    const m = compileMapping({
      s: { const: 'x' },
      n: { const: null },
      o: { const: { a: [1, null] } },
      z: { const: 0 },
      f: { const: false },
    })
    const first = m.apply(makeAccount())
    expect(first).toStrictEqual({ s: 'x', n: null, o: { a: [1, null] }, z: 0, f: false })
    ;((first.o as JsonObject).a as JsonValue[]).push(2)
    expect(m.apply(makeAccount()).o).toStrictEqual({ a: [1, null] })
  })

  it('default applies after the transforms, and a { default } step mid-chain revives a value', () => {
    const m = compileMapping({
      a: { path: 'title', transforms: ['upper'], default: 'NONE' },
      b: { path: 'title', transforms: [{ default: 'none' }, 'upper'] },
      c: { path: 'profile.karma', transforms: ['lower'], default: 'n/a' },
      d: { path: 'title', default: { x: 1 } },
    })
    expect(m.apply(makeAccount({ title: null }))).toStrictEqual({
      a: 'NONE',
      b: 'NONE',
      c: 'n/a',
      d: { x: 1 },
    })
    expect(m.apply(makeAccount({ title: 'mod' }))).toStrictEqual({
      a: 'MOD',
      b: 'MOD',
      c: 'n/a',
      d: 'mod',
    })
  })

  it('rank → a platform role through an enum map', () => {
    const m = compileMapping({
      role: {
        path: 'rank',
        transforms: [
          { map: { owner: 'admin', manager: 'admin', moderator: 'mod' }, fallback: 'member' },
        ],
      },
    })
    const roles = (['visitor', 'regular', 'moderator', 'manager', 'owner'] as const).map(
      (rank) => m.apply(makeAccount({ rank })).role,
    )
    expect(roles).toEqual(['member', 'member', 'mod', 'admin', 'admin'])
  })

  it('split then join, number, boolean, unix on account fields', () => {
    const m = compileMapping({
      parts: { path: 'profile.csv', transforms: ['split:;', 'join:|'] },
      n: { path: 'profile.count', transforms: ['number'] },
      b: { path: 'profile.flag', transforms: ['boolean'] },
      created: { path: 'created_at', transforms: ['unix'] },
    })
    expect(
      m.apply(makeAccount({ profile: { csv: 'a;b', count: ' 7 ', flag: 'Yes' } })),
    ).toStrictEqual({ parts: 'a|b', n: 7, b: true, created: 1704164645 })
    expect(
      m.apply(makeAccount({ profile: { csv: 3, count: 'seven', flag: 'perhaps' } })),
    ).toStrictEqual({ created: 1704164645 })
  })
})

describe('output document shape', () => {
  it('closes up holes in arrays instead of writing null, and keeps index order', () => {
    const m = compileMapping({
      'n.2': 'profile.c',
      'n.0': 'profile.a',
      'n.1': 'profile.b',
    })
    expect(m.apply(makeAccount({ profile: { a: 'A', b: 'B', c: 'C' } }))).toStrictEqual({
      n: ['A', 'B', 'C'],
    })
    expect(m.apply(makeAccount({ profile: { b: 'B', c: 'C' } }))).toStrictEqual({ n: ['B', 'C'] })
    expect(m.apply(makeAccount({ profile: { c: 'C' } }))).toStrictEqual({ n: ['C'] })
  })

  it('omits objects and arrays whose every key is missing', () => {
    const m = compileMapping({
      'a.b.c': 'title',
      'a.list.0': 'title',
      'x.0.y': 'title',
      keep: { const: 1 },
    })
    expect(m.apply(makeAccount({ title: null }))).toStrictEqual({ keep: 1 })
    expect(m.apply(makeAccount({ title: 't' }))).toStrictEqual({
      a: { b: { c: 't' }, list: ['t'] },
      x: [{ y: 't' }],
      keep: 1,
    })
  })

  it('builds arrays of objects and escaped names', () => {
    const m = compileMapping({
      'users.0.name': 'username',
      'users.0.id': 'external_id',
      'users.1.name': 'nickname',
      'dotted\\.key.back\\\\slash': { const: 1 },
    })
    expect(m.apply(makeAccount())).toStrictEqual({
      users: [{ name: 'RobertS', id: '123' }, { name: 'Rob' }],
      'dotted.key': { 'back\\slash': 1 },
    })
  })

  it('an empty mapping gives an empty document; keys are listed in document order', () => {
    expect(compileMapping({}).apply(makeAccount())).toStrictEqual({})
    expect(compileMapping(null).keys).toEqual([])
    expect(compileMapping({ b: 'id', a: 'id', 'c.x': 'id' }).keys).toEqual(['b', 'a', 'c.x'])
  })

  it('every call returns a fresh object', () => {
    const m = compileMapping({ a: 'id' })
    const account = makeAccount()
    expect(m.apply(account)).not.toBe(m.apply(account))
  })
})

describe('defaults (a door type ships one; the given mapping overrides, extends or removes)', () => {
  const defaults = {
    sub: 'external_id',
    name: 'username',
    email: 'email',
    'names.first': 'given_name',
  }

  it('no mapping (null) or an empty one → the defaults as they are', () => {
    const expected = {
      sub: '123',
      name: 'RobertS',
      email: 'rob@example.test',
      names: { first: 'Robert' },
    }
    expect(compileMapping(null, { defaults }).apply(makeAccount())).toStrictEqual(expected)
    expect(compileMapping(undefined, { defaults }).apply(makeAccount())).toStrictEqual(expected)
    expect(compileMapping({}, { defaults }).apply(makeAccount())).toStrictEqual(expected)
  })

  it('overrides in place, extends after the defaults, removes with null', () => {
    const m = compileMapping(
      {
        role: { const: 'member' },
        name: 'nickname',
        email: null,
        'names.last': 'family_name',
        nope: null,
      },
      { defaults },
    )
    expect(m.keys).toEqual(['sub', 'name', 'names.first', 'role', 'names.last'])
    expect(JSON.stringify(m.apply(makeAccount()))).toBe(
      '{"sub":"123","name":"Rob","names":{"first":"Robert","last":"Smith"},"role":"member"}',
    )
  })

  it('a given key that clashes with a default key is refused, with how to fix it', () => {
    expect(issuesOf({ names: 'username' }, defaults)).toEqual([
      {
        path: 'mapping.names',
        message: expect.stringMatching(
          /conflicts with default key "names\.first" \(set it to null to remove it\)/,
        ),
      },
    ])
    expect(
      compileMapping({ names: 'username', 'names.first': null }, { defaults }).apply(makeAccount())
        .names,
    ).toBe('RobertS')
  })

  it('a broken default is reported as such', () => {
    expect(issuesOf({}, { sub: 'nope' })).toEqual([
      {
        path: 'mapping.sub',
        message: expect.stringMatching(
          /"nope" is not an account field.*\(in the default mapping\)$/,
        ),
      },
    ])
    expect(() =>
      compileMapping({ sub: 'external_id' }, { defaults: { sub: 'nope' } }),
    ).not.toThrow()
  })
})

describe('refusals name the key and the reason', () => {
  it.each<[string, unknown, string, RegExp]>([
    ['an empty segment', { 'a..b': 'id' }, 'mapping.a..b', /output key has an empty segment/],
    ['a trailing dot', { 'a.': 'id' }, 'mapping.a.', /output key has an empty segment/],
    ['a trailing backslash', { 'a\\': 'id' }, 'mapping.a\\', /lone backslash/],
    ['an unknown escape', { 'a\\x': 'id' }, 'mapping.a\\x', /unknown escape/],
    ['an index with a leading zero', { 'a.01': 'id' }, 'mapping.a.01', /leading zero/],
    ['an index above 999', { 'a.1000': 'id' }, 'mapping.a.1000', /above the maximum 999/],
    ['a top-level index', { '0': 'id' }, 'mapping.0', /starts with an array index/],
    ['an empty key', { '': 'id' }, 'mapping.', /output key is empty/],
    [
      'a rule that is a number',
      { a: 42 },
      'mapping.a',
      /must be a source path string, or an object/,
    ],
    [
      'a rule that is an array',
      { a: ['id'] },
      'mapping.a',
      /must be a source path string, or an object/,
    ],
    [
      'a rule that is undefined',
      { a: undefined },
      'mapping.a',
      /must be a source path string, or an object/,
    ],
    [
      'an unknown account field',
      { a: 'usernme' },
      'mapping.a',
      /source path "usernme": "usernme" is not an account field \(known: id, external_id/,
    ],
    [
      'has_password as a source',
      { a: 'has_password' },
      'mapping.a',
      /"has_password" is not an account field/,
    ],
    [
      'a template written as a path',
      { a: '{given_name}' },
      'mapping.a',
      /write a template as \{ "template"/,
    ],
    [
      'an index as the first source segment',
      { a: '0.x' },
      'mapping.a',
      /"0" is not an account field/,
    ],
    [
      'a bad source path',
      { a: { path: 'profile..x' } },
      'mapping.a',
      /source path "profile\.\.x" has an empty segment/,
    ],
    ['a non-string path', { a: { path: 1 } }, 'mapping.a', /"path" must be a string/],
    [
      'an unknown rule field',
      { a: { path: 'id', tranforms: [] } },
      'mapping.a',
      /unknown field "tranforms"/,
    ],
    [
      'no source',
      { a: { transforms: ['lower'] } },
      'mapping.a',
      /needs one of "path", "template" or "const"/,
    ],
    ['two sources', { a: { path: 'id', const: 1 } }, 'mapping.a', /has both "path" and "const"/],
    [
      'a const with transforms',
      { a: { const: 'x', transforms: ['lower'] } },
      'mapping.a',
      /a "const" takes no "transforms" or "default"/,
    ],
    [
      'a const that is not JSON',
      { a: { const: Number.NaN } },
      'mapping.a',
      /"const" is not a JSON value/,
    ],
    ['an undefined const', { a: { const: undefined } }, 'mapping.a', /"const" is not a JSON value/],
    [
      'a non-string template',
      { a: { template: ['x'] } },
      'mapping.a',
      /"template" must be a string/,
    ],
    [
      'an unclosed placeholder',
      { a: { template: 'x {given_name' } },
      'mapping.a',
      /unclosed "\{" at character 3/,
    ],
    ['a stray brace', { a: { template: 'x } y' } }, 'mapping.a', /stray "\}" at character 3/],
    ['an empty placeholder', { a: { template: '{}' } }, 'mapping.a', /empty placeholder/],
    [
      'a bad placeholder path',
      { a: { template: '{given_name} {nope}' } },
      'mapping.a',
      /source path "nope": "nope" is not an account field/,
    ],
    [
      'transforms not an array',
      { a: { path: 'id', transforms: 'lower' } },
      'mapping.a',
      /"transforms" must be an array/,
    ],
    [
      'too many transforms',
      { a: { path: 'id', transforms: Array(17).fill('trim') } },
      'mapping.a',
      /more than 16/,
    ],
    [
      'an unknown transform',
      { a: { path: 'id', transforms: ['lower', 'title-case'] } },
      'mapping.a',
      /transforms\[1\]: "title-case" is not a known transform/,
    ],
    [
      'a bad truncate',
      { a: { path: 'id', transforms: ['truncate:0'] } },
      'mapping.a',
      /transforms\[0\]: "truncate" needs a whole number/,
    ],
    [
      'a bad map',
      { a: { path: 'rank', transforms: [{ map: 'admin' }] } },
      'mapping.a',
      /transforms\[0\]: "map" must be an object/,
    ],
    [
      'a default that is not JSON',
      { a: { path: 'id', default: new Date() } },
      'mapping.a',
      /"default" is not a JSON value/,
    ],
  ])('%s', (_what, mapping, path, reason) => {
    const issues = issuesOf(mapping)
    expect(issues).toHaveLength(1)
    expect(issues[0]!.path).toBe(path)
    expect(issues[0]!.message).toMatch(reason)
  })

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'a value, then members under it',
      { a: 'id', 'a.b': 'id' },
      'mapping.a.b',
      /conflicts with key "a": "a" is a value there, so it cannot hold members/,
    ],
    [
      'members, then a value over them',
      { 'a.b': 'id', a: 'id' },
      'mapping.a',
      /conflicts with key "a\.b", which writes inside "a"/,
    ],
    [
      'an array, then a name in it',
      { 'a.0': 'id', 'a.x': 'id' },
      'mapping.a.x',
      /"a" is an array there, so it cannot have the name "x"/,
    ],
    [
      'an object, then an index in it',
      { 'a.x': 'id', 'a.0': 'id' },
      'mapping.a.0',
      /"a" is an object there, so it cannot have the index 0/,
    ],
    [
      'deeper: a value inside an array element',
      { 'l.0': 'id', 'l.0.x': 'id' },
      'mapping.l.0.x',
      /"l\.0" is a value there/,
    ],
    ['an escaped dot is a different place', { 'a\\.b': 'id', 'a.b': 'id' }, '', /^$/],
  ])('conflict: %s', (_what, mapping, path, reason) => {
    if (path === '') {
      expect(() => compileMapping(mapping)).not.toThrow()
      return
    }
    expect(issuesOf(mapping)).toEqual([{ path, message: expect.stringMatching(reason) }])
  })

  it('reports every problem at once, in key order', () => {
    const issues = issuesOf({
      good: 'id',
      'bad..key': 'id',
      a: { path: 'nope', transforms: ['nope'] },
      b: 7,
    })
    expect(issues.map((i) => i.path)).toEqual([
      'mapping.bad..key',
      'mapping.a',
      'mapping.a',
      'mapping.b',
    ])
  })

  it('refuses a mapping that is not an object, and one with too many keys', () => {
    for (const bad of ['sub', 42, ['sub'], true])
      expect(issuesOf(bad)).toEqual([
        { path: 'mapping', message: expect.stringMatching(/must be an object/) },
      ])
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, 'id']))
    expect(issuesOf(many)).toEqual([{ path: 'mapping', message: 'has more than 256 keys' }])
  })

  it('the error message lists each issue for logs', () => {
    expect(() => compileMapping({ a: 'nope' })).toThrow(/^mapping\.a: source path "nope"/)
  })
})

describe('prototype pollution', () => {
  const polluted = () =>
    (({}) as Record<string, unknown>).x ??
    (Object.prototype as unknown as Record<string, unknown>).polluted

  it.each<[string, unknown]>([
    ['__proto__.x', 'username'],
    ['a.__proto__.x', 'username'],
    ['constructor.prototype.x', 'username'],
    ['a.prototype', 'username'],
    ['__proto__', 'username'],
  ])('output key %j is refused', (key, rule) => {
    const mapping = JSON.parse(JSON.stringify({ [key]: rule })) as unknown
    expect(issuesOf(mapping)).toEqual([
      { path: `mapping.${key}`, message: expect.stringMatching(/prototype pollution/) },
    ])
    expect(polluted()).toBeUndefined()
  })

  it('a JSON mapping whose own key is "__proto__" is refused, not applied to the prototype', () => {
    const mapping = JSON.parse('{"__proto__": {"const": "x"}, "ok": "id"}') as unknown
    expect(issuesOf(mapping)).toEqual([
      { path: 'mapping.__proto__', message: expect.stringMatching(/prototype pollution/) },
    ])
  })

  it.each([
    'profile.__proto__',
    'profile.__proto__.x',
    'profile.constructor',
    'profile.a.prototype',
  ])('source path %j is refused', (path) => {
    expect(issuesOf({ a: path })[0]!.message).toMatch(/prototype pollution/)
    expect(issuesOf({ a: { template: `{${path}}` } })[0]!.message).toMatch(/prototype pollution/)
  })

  it('an account whose profile carries a "__proto__" key is copied as data, not as a prototype', () => {
    const profile = JSON.parse(
      '{"__proto__": {"x": "polluted", "isAdmin": true}, "name": "n"}',
    ) as JsonObject
    const out = compileMapping({
      p: 'profile',
      q: { path: 'rank', transforms: [JSON.parse('{"map":{"__proto__":"p"}}')] },
    }).apply(makeAccount({ profile }))
    const p = out.p as Record<string, unknown>
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype)
    expect(Object.hasOwn(p, '__proto__')).toBe(true)
    expect(p.isAdmin).toBeUndefined()
    expect(polluted()).toBeUndefined()
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
  })

  it('profile paths never read Object.prototype members', () => {
    const out = compileMapping({
      a: 'profile.toString',
      b: 'profile.hasOwnProperty',
      c: 'profile.tags.map',
      d: { template: '{profile.valueOf}' },
    }).apply(makeAccount())
    expect(out).toStrictEqual({})
  })
})

describe('mapped strings are data, never markup', () => {
  const nasty = [
    '<script>alert(1)</script>',
    '"]]><x/>',
    '{{7*7}}',
    '${process.env.SECRET}',
    "' OR 1=1 --",
    '&amp;&lt;',
    '{family_name}',
    '\u0000\u202e',
  ]

  it.each(nasty)('%j passes through every source form unchanged', (s) => {
    const m = compileMapping({
      path: 'username',
      nested: 'profile.bio',
      tpl: { template: '[{username}]' },
      mapped: { path: 'title', transforms: [{ map: {}, fallback: s }] },
      trimmed: { path: 'username', transforms: ['trim'] },
    })
    const out = m.apply(makeAccount({ username: s, profile: { bio: s }, title: 'x' }))
    expect(out).toStrictEqual({ path: s, nested: s, tpl: `[${s}]`, mapped: s, trimmed: s.trim() })
  })
})

describe('property: only JSON comes out, and null only where a mapping asked for it', () => {
  const scalar = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.integer(),
    fc.double({ noNaN: false }),
    fc.boolean(),
  )
  const anything: fc.Arbitrary<unknown> = fc.oneof(
    scalar,
    fc.constant(null),
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 3 }),
    fc.constant(new Date(0)),
  )
  const accountArb: fc.Arbitrary<Account> = fc
    .record({
      username: fc.option(fc.string({ maxLength: 8 })),
      email: fc.option(fc.string({ maxLength: 8 })),
      nickname: fc.option(fc.string({ maxLength: 8 })),
      title: fc.option(fc.string({ maxLength: 8 })),
      rank: fc.constantFrom('visitor', 'regular', 'moderator', 'manager', 'owner' as const),
      updated_at: fc.oneof(fc.constant('2024-05-06T07:08:09.000Z'), fc.string({ maxLength: 5 })),
      profile: fc.dictionary(fc.constantFrom('a', 'b', 'tags', 'n', 'o'), anything, { maxKeys: 5 }),
    })
    .map((r) => makeAccount(r as Partial<Account>))

  const paths = [
    'username',
    'email',
    'nickname',
    'title',
    'rank',
    'updated_at',
    'email_verified',
    'profile',
    'profile.a',
    'profile.b',
    'profile.tags',
    'profile.tags.0',
    'profile.n.o',
    'profile.o',
  ]
  const nonNullJson = fc
    .jsonValue({ maxDepth: 2 })
    .filter((v) => !JSON.stringify(v).includes('null'))
  const transformArb = fc.oneof(
    fc.constantFrom(
      'lower',
      'upper',
      'trim',
      'truncate:3',
      'join',
      'join:',
      'split:a',
      'string',
      'number',
      'boolean',
      'unix',
    ),
    fc.record(
      {
        map: fc.dictionary(fc.string({ maxLength: 3 }), nonNullJson, { maxKeys: 3 }),
        fallback: nonNullJson,
      },
      { requiredKeys: ['map'] },
    ),
    fc.record({ default: nonNullJson }),
  )
  // asksNull: whether the rule may write null on purpose (a const or default of null).
  const ruleArb: fc.Arbitrary<{ rule: unknown; asksNull: boolean }> = fc.oneof(
    fc.constantFrom(...paths).map((p) => ({ rule: p, asksNull: false })),
    fc
      .record({
        path: fc.constantFrom(...paths),
        transforms: fc.array(transformArb, { maxLength: 3 }),
      })
      .map((rule) => ({ rule, asksNull: false })),
    fc
      .record({ template: fc.constantFrom('{username} {title}', 'x{profile.a}', '{rank}') })
      .map((rule) => ({ rule, asksNull: false })),
    nonNullJson.map((c) => ({ rule: { const: c }, asksNull: false })),
    fc.constant({ rule: { const: null }, asksNull: true }),
    fc.constantFrom(...paths).map((p) => ({ rule: { path: p, default: null }, asksNull: true })),
  )
  // Keys that never conflict: top-level names, members of one object, elements of one array.
  const mappingArb = fc
    .array(fc.tuple(fc.constantFrom('top', 'obj', 'arr'), ruleArb), { minLength: 1, maxLength: 12 })
    .map((entries) => {
      const mapping: Record<string, unknown> = {}
      const nullPaths = new Set<string>()
      entries.forEach(([shape, { rule, asksNull }], i) => {
        // Array elements never ask for null here: holes close up, so their final index moves.
        const key = shape === 'top' ? `k${i}` : shape === 'obj' ? `obj.k${i}` : `arr.${i * 3}`
        mapping[key] = shape === 'arr' && asksNull ? 'username' : rule
        if (asksNull && shape !== 'arr') nullPaths.add(key)
      })
      return { mapping, nullPaths }
    })

  function assertJsonOnly(v: unknown): void {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return
    if (typeof v === 'number') return void expect(Number.isFinite(v)).toBe(true)
    expect(typeof v).toBe('object')
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        expect(i in v).toBe(true) // no holes
        assertJsonOnly(v[i])
      }
      return
    }
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype)
    for (const x of Object.values(v as object)) {
      expect(x).not.toBeUndefined()
      assertJsonOnly(x)
    }
  }

  it('holds for random mappings over random accounts', () => {
    fc.assert(
      fc.property(mappingArb, accountArb, ({ mapping, nullPaths }, account) => {
        const out = compileMapping(mapping).apply(account)
        assertJsonOnly(out)
        // Serializes and reads back to the same text (-0 aside, which JSON writes as 0 anyway).
        const text = JSON.stringify(out)
        expect(JSON.stringify(JSON.parse(text))).toBe(text)
        // A null inside a const, map value or default object is the mapping's own data; the
        // generators above never put one there, so every null must be at an asked-for key.
        for (const { path, value } of listPaths(out))
          if (value === null) expect(nullPaths).toContain(path)
      }),
      { numRuns: 1000 },
    )
  })
})
