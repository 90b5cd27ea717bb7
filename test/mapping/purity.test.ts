/**
 * mapping/ is pure (the house style's dependency rules; README "Layout"): it imports only accounts/types.ts
 * (types, and from values only the field table's list of mappable fields, which is data),
 * errors/, its own files and no Node built-ins or packages, and evaluates no code.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const DIR = path.resolve('src/mapping')
/** Values mapping may take from accounts/types.ts: the field table's names (issue #11), never code with effects. */
const VALUES_FROM_ACCOUNT_TYPES = new Set(['MAPPING_FIELD_NAMES'])
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'))

describe('src/mapping purity', () => {
  it.each(files)('%s imports only what mapping may use', (file) => {
    const text = readFileSync(path.join(DIR, file), 'utf8')
    const imports = [
      ...text.matchAll(/^\s*(import|export)\s+(type\s+)?([^'"]*?)from\s+['"]([^'"]+)['"]/gm),
    ]
    for (const [, , typeOnly, clause, spec] of imports) {
      if (spec!.startsWith('./')) continue
      if (spec === '../errors/index.ts' || spec === '../errors/errors.ts') continue
      expect(spec, `${file}: ${spec}`).toBe('../accounts/types.ts')
      if (typeOnly) continue
      const values = clause!
        .replace(/[{}\s]/g, '')
        .split(',')
        .filter((name) => name !== '' && !name.startsWith('type'))
      for (const name of values)
        expect(
          VALUES_FROM_ACCOUNT_TYPES,
          `${file}: value ${name} from accounts/types.ts`,
        ).toContain(name)
    }
    expect(text).not.toMatch(/\b(eval|new Function|import\()\b|\brequire\(/)
    expect(text).not.toMatch(/\bprocess\.(env|argv|stdout|stderr|exit|cwd)\b|['"]node:/)
  })
})
