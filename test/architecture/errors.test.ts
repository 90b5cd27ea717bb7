/**
 * Keeps the one error model whole (issue #11, STYLE §4): one root class, codes compared through
 * typed guards, statuses chosen only in errors/codes.ts.
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

const sources = files(SRC).map((file) => ({
  file: path.relative(SRC, file),
  text: readFileSync(file, 'utf8'),
}))

/** The lines of `text` matching `pattern`, as `file:line: text` for a readable failure. */
function hits(pattern: RegExp, only?: (file: string) => boolean): string[] {
  return sources
    .filter((s) => !only || only(s.file))
    .flatMap(({ file, text }) =>
      text
        .split('\n')
        .map((line, i) => [line, i + 1] as const)
        .filter(([line]) => pattern.test(line))
        .map(([line, n]) => `${file}:${n}: ${line.trim()}`),
    )
}

describe('one error model', () => {
  it('has one root: only BridgeError extends Error', () => {
    const roots = hits(/\bextends\s+(Error|TypeError|RangeError)\b/).map((h) =>
      h.replace(/:\d+:/, ':'),
    )
    expect(roots).toEqual(['errors/errors.ts: export class BridgeError extends Error {'])
  })

  it('compares codes through typed guards, never through an `as { code?: string }` cast', () => {
    // hasCode(err, 'ERR_…') / isBridgeError(err) / instanceof: a typo'd code fails tsc there.
    expect(hits(/as\s*\{\s*code\??\s*:\s*string\s*\}\s*\)\s*\.code/)).toEqual([])
  })

  it('never patches fields onto an error with Object.assign (a SAML reply is a declared field)', () => {
    // Our error classes, and any caught `err`: what an error carries is declared on its class.
    const ours = sources.flatMap(({ text }) =>
      [...text.matchAll(/^export class (\w+) extends \w+/gm)].map((m) => m[1]!),
    )
    const patched = new RegExp(`Object\\.assign\\(\\s*(err\\b|new (${ours.join('|')})\\()`)
    expect(
      sources.filter(({ text }) => patched.test(text.replace(/\s+/g, ' '))).map((s) => s.file),
    ).toEqual([])
  })

  it('gives no error class an HTTP status (the table in errors/codes.ts does)', () => {
    // Each error class's body: from its `class … extends …Error {` line to the closing `}` at
    // the start of a line.
    const bodies = sources.flatMap(({ file, text }) =>
      [...text.matchAll(/^export class (\w+) extends \w*Error \{\n([\s\S]*?)^\}/gm)].map((m) => ({
        where: `${file} ${m[1]}`,
        body: m[2]!,
      })),
    )
    expect(bodies.length).toBeGreaterThanOrEqual(20)
    const withStatus = bodies.filter(({ body }) => /\bstatus(Code)?\b/.test(body))
    expect(withStatus.map((b) => b.where)).toEqual([])
  })
})
