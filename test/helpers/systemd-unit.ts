/**
 * The shipped systemd unit (docs/deploy/sso-bridge.service), read the way systemd reads the
 * parts the tests use: its `Environment=` assignments, so a test server runs with the settings
 * the unit gives the real one.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'

/** The shipped unit's path. */
export const UNIT_FILE = path.resolve('docs/deploy/sso-bridge.service')

/**
 * The variables the unit's `Environment=` lines set (space-separated `KEY=value` pairs, later
 * lines winning, as systemd.exec(5) describes; the unit uses no quoting).
 */
export function unitEnvironment(text = readFileSync(UNIT_FILE, 'utf8')): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [, assignments] of text.matchAll(/^Environment=(.*)$/gm))
    for (const pair of assignments!.trim().split(/\s+/)) {
      const at = pair.indexOf('=')
      if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1)
    }
  return env
}
