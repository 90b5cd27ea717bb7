/**
 * The README's error-code tables (and any page under docs/) stay true to the one table in
 * src/errors/codes.ts: every documented wire name answers with the documented status, every
 * documented `ERR_*` code exists and has the status written beside it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { BRIDGE_ERROR_CODES, isBridgeErrorCode, replyFor } from '../../src/errors/index.ts'

function markdownFiles(): string[] {
  const docs = path.resolve('docs')
  const pages = existsSync(docs)
    ? readdirSync(docs, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.md'))
        .map((f) => path.join(docs, f))
    : []
  return [path.resolve('README.md'), ...pages]
}

const pages = markdownFiles().map((file) => ({
  file: path.relative(process.cwd(), file),
  text: readFileSync(file, 'utf8'),
}))

/** Table rows whose first cell names wire codes and whose second cell gives statuses. */
const rows = pages.flatMap(({ file, text }) =>
  text
    .split('\n')
    .filter((l) => /^\| `[a-z_]+`.*?\| \d{3}(, \d{3})* \|/.test(l))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim())
      return {
        where: `${file}: ${line.slice(0, 80)}`,
        names: [...cells[1]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!),
        statuses: cells[2]!.split(',').map((s) => Number(s.trim())),
        codes: [...(cells[3] ?? '').matchAll(/`(ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]!),
      }
    }),
)

/** A conflict is named after the field on the wire (`username_taken`), not by its table name. */
const isFieldTaken = (name: string) => /^[a-z]+_taken$/.test(name)

describe('documented error codes agree with errors/codes.ts', () => {
  it('each table row: the wire names answer with the statuses beside them', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25)
    let checked = 0
    for (const { where, names, statuses, codes } of rows) {
      if (codes.length > 0) {
        for (const code of codes) {
          expect(isBridgeErrorCode(code), `${where}: ${code}`).toBe(true)
          if (!isBridgeErrorCode(code)) continue
          expect(statuses, where).toContain(replyFor(code).status)
          if (!names.every(isFieldTaken)) expect(names, where).toContain(replyFor(code).error)
          checked++
        }
        continue
      }
      names.forEach((name, i) => {
        const status = statuses.length === names.length ? statuses[i] : statuses[0]
        // oidc-provider's protocol names (its `login_required` is not the token door's) are
        // answered by oidc-provider, never in these tables.
        const withName = BRIDGE_ERROR_CODES.filter(
          (c) => !c.startsWith('ERR_OIDC_') && replyFor(c).error === name,
        )
        // Names not raised through the error model (`login_required`: the token door's own
        // 401 with a login URL; `*_taken`: the conflict's field) are not in the table.
        if (withName.length === 0) return
        expect(
          withName.map((c) => replyFor(c).status),
          `${where}: ${name}`,
        ).toContain(status)
        checked++
      })
    }
    expect(checked).toBeGreaterThanOrEqual(25)
  })

  it('each `ERR_…` code written with a status in prose has that status', () => {
    const mentions = pages.flatMap(({ file, text }) =>
      [...text.matchAll(/`(ERR_[A-Z0-9_]+)`(?:,\s*| \()(\d{3})\b/g)].map((m) => ({
        where: `${file}: ${m[0]}`,
        code: m[1]!,
        status: Number(m[2]),
      })),
    )
    expect(mentions.length).toBeGreaterThanOrEqual(3)
    for (const { where, code, status } of mentions) {
      expect(isBridgeErrorCode(code), where).toBe(true)
      if (isBridgeErrorCode(code)) expect(replyFor(code).status, where).toBe(status)
    }
  })

  it('every `ERR_…` code the docs name is one of ours', () => {
    const named = new Set(
      pages.flatMap(({ text }) =>
        [...text.matchAll(/\bERR_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]),
      ),
    )
    // Node's own codes, quoted where the docs explain a library's behaviour.
    const foreign = new Set(['ERR_BUFFER_TOO_LARGE'])
    const unknown = [...named].filter((c) => !isBridgeErrorCode(c) && !foreign.has(c))
    expect(unknown).toEqual([])
  })
})
