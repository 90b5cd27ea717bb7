/**
 * The platform definitions' field rules (src/tokens/field-rules.ts): required fields refuse with
 * AccountIncomplete naming the field, lengths count code points (not UTF-16 units), long text is
 * cut where the rule says so, and optional values a platform would refuse are left out.
 */
import { describe, expect, it } from 'vitest'
import { applyFieldRules, type FieldRules } from '../../src/tokens/field-rules.ts'

const RULES: FieldRules = {
  id: { kind: 'id', required: true, max: 5 },
  name: { kind: 'text', max: 3, cut: true },
  email: { kind: 'email' },
  picture: { kind: 'url', max: 40 },
  verified: { kind: 'boolean' },
  lang: { kind: 'enum', values: ['en', 'fr'] },
}

describe('applyFieldRules', () => {
  it('keeps usable values, a number id as its string, and cuts long text by code points', () => {
    expect(
      applyFieldRules(
        {
          id: 42,
          name: '😀😀😀😀',
          email: 'a@b.example',
          picture: 'https://x.example/a.png',
          verified: true,
          lang: 'fr',
          extra: 1,
        },
        RULES,
        'i',
      ),
    ).toEqual({
      id: '42',
      name: '😀😀😀',
      email: 'a@b.example',
      picture: 'https://x.example/a.png',
      verified: true,
      lang: 'fr',
      extra: 1,
    })
  })

  it('leaves out optional values the platform would refuse', () => {
    expect(
      applyFieldRules(
        {
          id: 'a',
          email: 'not-an-address',
          picture: 'javascript:alert(1)',
          verified: 'yes',
          lang: 'de',
        },
        RULES,
        'i',
      ),
    ).toEqual({ id: 'a' })
  })

  it('a required field missing, empty or too long is AccountIncomplete naming it', () => {
    for (const [doc, reason] of [
      [{}, 'missing'],
      [{ id: '  ' }, 'missing'],
      [{ id: '123456' }, 'invalid'],
      [{ id: { nested: 1 } }, 'invalid'],
    ] as const)
      expect(() => applyFieldRules({ ...doc }, RULES, 'chat')).toThrow(
        expect.objectContaining({
          code: 'ERR_ACCOUNT_INCOMPLETE',
          integrationId: 'chat',
          field: 'id',
          reason,
        }),
      )
    // Five code points are five characters, though ten UTF-16 units.
    expect(applyFieldRules({ id: '😀😀😀😀😀' }, RULES, 'chat')).toEqual({ id: '😀😀😀😀😀' })
  })
})
