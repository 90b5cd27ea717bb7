/**
 * Issue #11: every export of a module's public face carries a TSDoc comment (STYLE.md §6), so a
 * reader learns what it is for and what it refuses without reading its body. Read from the source
 * text: an `export function|class|const|interface|type` line must follow a doc comment (one that
 * opens with slash-star-star; a plain block comment or a line comment does not count).
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = path.resolve('src')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(path.join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
        ? [path.join(dir, e.name)]
        : [],
  )
}

const EXPORT =
  /^export (?:async )?(?:abstract )?(?:function|class|const|let|interface|type|enum) (\w+)/

/** The exports of `text` with no doc comment right above them, as `name:line`. */
function undocumentedExports(text: string): string[] {
  const lines = text.split('\n')
  const out: string[] = []
  lines.forEach((line, i) => {
    const m = EXPORT.exec(line)
    if (!m) return
    // The comment right above must be a doc comment: `/** … */`, not `/* … */` or `//`.
    let j = i - 1
    if (!(lines[j] ?? '').trim().endsWith('*/')) return void out.push(`${m[1]}:${i + 1}`)
    while (j > 0 && !(lines[j] ?? '').includes('/*')) j--
    if (!(lines[j] ?? '').trim().startsWith('/**')) out.push(`${m[1]}:${i + 1}`)
  })
  return out
}

describe('TSDoc on every export', () => {
  it('finds an undocumented export, and accepts a documented one (the check can fail)', () => {
    expect(undocumentedExports('export function a() {}\n')).toEqual(['a:1'])
    expect(undocumentedExports('// a line comment is not TSDoc\nexport const b = 1\n')).toEqual([
      'b:2',
    ])
    expect(undocumentedExports('/* a block comment is not TSDoc */\nexport const b = 1\n')).toEqual(
      ['b:2'],
    )
    expect(undocumentedExports('/** What b is for. */\nexport const b = 1\n')).toEqual([])
    expect(
      undocumentedExports('/**\n * What C is for.\n */\nexport abstract class C {}\n'),
    ).toEqual([])
  })

  it('every export under src/ has a doc comment', () => {
    const all = files(SRC)
    expect(all.length).toBeGreaterThan(50)
    const missing = all.flatMap((file) =>
      undocumentedExports(readFileSync(file, 'utf8')).map(
        (e) => `${path.relative(SRC, file)}:${e}`,
      ),
    )
    expect(missing).toEqual([])
  })
})
