import fc from 'fast-check'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import {
  readImport,
  formatFromContentType,
  formatFromFileName,
} from '../../src/accounts/import-formats.ts'
import type { ImportRecord } from '../../src/accounts/service.ts'

async function collect(
  body: string | string[],
  format: 'json' | 'ndjson' | 'csv',
): Promise<ImportRecord[]> {
  const chunks = Array.isArray(body) ? body : [body]
  const out: ImportRecord[] = []
  for await (const r of readImport(Readable.from(chunks.map((c) => Buffer.from(c))), format))
    out.push(r)
  return out
}

/** Splits a string into random chunks, possibly mid-character of a multi-byte sequence. */
function chunked(text: string, cuts: number[]): string[] {
  const bytes = Buffer.from(text)
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const parts: string[] = []
  let prev = 0
  for (const p of [...points, bytes.length]) {
    parts.push(bytes.subarray(prev, p).toString('latin1'))
    prev = p
  }
  return parts
}

describe('JSON array import reader', () => {
  it('yields exactly the elements of any array of objects, however it is chunked and spaced', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.dictionary(fc.string(), fc.jsonValue()), { maxLength: 8 }),
        fc.constantFrom(0, 2, undefined),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (items, indent, cuts) => {
          const text = JSON.stringify(items, null, indent)
          const bytes = Buffer.from(text)
          const pieces = chunked(text, cuts).map((p) => Buffer.from(p, 'latin1'))
          expect(Buffer.concat(pieces).equals(bytes)).toBe(true)
          const out: ImportRecord[] = []
          for await (const r of readImport(Readable.from(pieces), 'json')) out.push(r)
          expect(out.map((r) => ('value' in r ? r.value : r))).toEqual(JSON.parse(text))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('reports the line each element starts on', async () => {
    const out = await collect('[\n  {"a": 1},\n\n  {"b": "x\\ny"},\n  {"c": "]}"}\n]\n', 'json')
    expect(out.map((r) => r.line)).toEqual([2, 4, 5])
  })

  it('turns an unparsable element into a rejected record and goes on', async () => {
    const out = await collect('[{"a":1}, {"b":}, {"c":3}]', 'json')
    expect(
      out.map((r) => ('value' in r ? 'ok' : 'error' in r ? r.error.message : r.rejected.code)),
    ).toEqual(['ok', 'is not valid JSON', 'ok'])
  })

  it('refuses a body that is not an array before yielding anything', async () => {
    await expect(collect('{"a":1}', 'json')).rejects.toMatchObject({ code: 'ERR_IMPORT_FORMAT' })
    await expect(collect('', 'json')).rejects.toMatchObject({ code: 'ERR_IMPORT_FORMAT' })
  })

  it('accepts a byte-order mark and an empty array', async () => {
    expect(await collect('\uFEFF[]', 'json')).toEqual([])
  })

  it('flags text after the closing bracket', async () => {
    const out = await collect('[{"a":1}] junk', 'json')
    expect(out[1]).toMatchObject({ error: { message: expect.stringContaining('after the end') } })
  })
})

describe('NDJSON and CSV readers', () => {
  it('NDJSON: skips blank lines, keeps true line numbers, handles CRLF', async () => {
    const out = await collect('{"a":1}\r\n\r\n{"b":2}\r\nnot json\r\n', 'ndjson')
    expect(out).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, value: { b: 2 } },
      { line: 4, error: { path: '', message: 'is not valid JSON' } },
    ])
  })

  it('CSV: header names the fields, quoted cells keep commas and newlines, line numbers count physical lines', async () => {
    const out = await collect(
      'external_id,nickname\n1,"Smith, Rob"\n2,"two\nlines"\n3,plain\n',
      'csv',
    )
    expect(out).toEqual([
      { line: 2, value: { external_id: '1', nickname: 'Smith, Rob' } },
      { line: 4, value: { external_id: '2', nickname: 'two\nlines' } },
      { line: 5, value: { external_id: '3', nickname: 'plain' } },
    ])
  })

  it('CSV: a row with the wrong number of cells is reported', async () => {
    const out = await collect('external_id,nickname\n1,a\n2,b,extra\n', 'csv')
    expect(out[0]).toMatchObject({ value: { external_id: '1' } })
    expect(out[1]).toMatchObject({ line: 3, error: { message: expect.stringContaining('cells') } })
  })

  it('CSV: an unclosed quote ends the import on its line, after every earlier row', async () => {
    const out = await collect('external_id,nickname\n1,a\n2,b\n3,"never closed\n4,d\n', 'csv')
    expect(
      out
        .slice(0, 2)
        .map((r) => ('value' in r ? (r.value as { external_id: string }).external_id : r)),
    ).toEqual(['1', '2'])
    expect(out[2]).toMatchObject({
      rejected: {
        code: 'ERR_IMPORT_FORMAT',
        message: expect.stringContaining('CSV cannot be read'),
      },
    })
    expect(out).toHaveLength(3)
  })

  it('CSV: streams many rows without losing any', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${i},n${i}`)
    const out = await collect(['external_id,nickname\n', ...rows.map((r) => `${r}\n`)], 'csv')
    expect(out).toHaveLength(5000)
    expect(out.at(-1)).toEqual({ line: 5001, value: { external_id: '4999', nickname: 'n4999' } })
  })

  it('maps content types and file names to formats', () => {
    expect(formatFromContentType('application/json; charset=utf-8')).toBe('json')
    expect(formatFromContentType('application/x-ndjson')).toBe('ndjson')
    expect(formatFromContentType('text/csv')).toBe('csv')
    expect(formatFromContentType('text/plain')).toBeNull()
    expect(formatFromContentType(undefined)).toBeNull()
    expect(formatFromFileName('users.JSONL')).toBe('ndjson')
    expect(formatFromFileName('users.txt')).toBeNull()
  })
})
