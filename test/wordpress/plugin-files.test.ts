/**
 * The plugin's files on their own (no WordPress needed): every PHP file parses (`php -l`, PHP
 * 8.2 as Debian ships it), refuses to run outside WordPress, and readme.txt carries the headers
 * WordPress's plugin directory reads.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PLUGIN_DIR } from '../helpers/wordpress.ts'

const phpFiles = readdirSync(PLUGIN_DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.php'))
  .sort()

describe('the WordPress plugin’s files', () => {
  it('are found (the main file and its includes)', () => {
    expect(phpFiles).toContain('sso-bridge.php')
    expect(phpFiles.length).toBeGreaterThanOrEqual(8)
  })

  for (const file of phpFiles) {
    it(`${file}: php -l finds no syntax error, and it exits outside WordPress`, () => {
      const r = spawnSync('php', ['-l', path.join(PLUGIN_DIR, file)], { encoding: 'utf8' })
      expect(r.error, 'php-cli is needed (apt-get install php-cli)').toBeUndefined()
      expect(r.status, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toContain('No syntax errors detected')
      expect(readFileSync(path.join(PLUGIN_DIR, file), 'utf8')).toMatch(
        /^<\?php\n(\/\*\*[\s\S]*?\*\/\n\n)?defined\( 'ABSPATH' \) \|\| exit;\n/,
      )
    })
  }

  it('readme.txt has the headers WordPress reads, matching the main file', () => {
    const readme = readFileSync(path.join(PLUGIN_DIR, 'readme.txt'), 'utf8')
    const main = readFileSync(path.join(PLUGIN_DIR, 'sso-bridge.php'), 'utf8')
    expect(readme).toMatch(/^=== sso-bridge ===\n/)
    const version = /\* Version:\s+(\S+)/.exec(main)?.[1]
    expect(version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(readme).toContain(`Stable tag: ${version}`)
    expect(readme).toContain('Requires at least: 6.1')
    expect(readme).toContain('Requires PHP: 8.2')
    for (const section of ['Description', 'Installation', 'Changelog'])
      expect(readme).toContain(`== ${section} ==`)
  })
})
