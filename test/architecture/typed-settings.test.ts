/**
 * Issue #11: integration settings are typed by their type's schema (LoadedIntegration<S>,
 * IntegrationTypeDefinition<S>); a door reads `integration.settings.x`, never a cast. Reads every
 * file under src/ so a cast that comes back fails here with its file and line.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = path.resolve('src')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  )
}

/** `x.settings as T`, `(settings as T)`, `settings as unknown as T`: any cast of a settings value. */
const SETTINGS_CAST = /\bsettings\)?\s+as\s+(?!const\b)[A-Za-z{(]/

describe('typed integration settings', () => {
  const sources = files(SRC).map((file) => ({
    file: path.relative(SRC, file),
    lines: readFileSync(file, 'utf8').split('\n'),
  }))

  it('reads every source file (the check below is not vacuous)', () => {
    expect(sources.length).toBeGreaterThan(50)
    expect(sources.some((s) => s.file === 'integrations/registry.ts')).toBe(true)
  })

  it('no `settings as …` cast remains under src/', () => {
    const casts = sources.flatMap(({ file, lines }) =>
      lines.flatMap((line, i) =>
        SETTINGS_CAST.test(line) && !/^\s*(\*|\/\/|\/\*)/.test(line)
          ? [`${file}:${i + 1}: ${line.trim()}`]
          : [],
      ),
    )
    expect(casts).toEqual([])
  })

  it('the pattern catches the casts this rule replaced', () => {
    for (const cast of [
      'const s = integration.record.settings as Settings',
      'const s = loaded.record.settings as unknown as SamlSpSettings',
      '(i.settings as { entity_id?: string }).entity_id',
      'settings: JSON.parse(row.settings as string),',
    ])
      expect(SETTINGS_CAST.test(cast), cast).toBe(true)
    expect(SETTINGS_CAST.test('const { settings } = loaded.integration')).toBe(false)
  })
})
