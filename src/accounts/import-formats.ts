/**
 * @module accounts/import-formats
 * Reads a bulk-import body as a stream of records with their line numbers: a JSON array,
 * NDJSON or CSV. A record that cannot be read is reported on its own line and the rest go on;
 * only a body that is not the announced format at all throws.
 */
import type { CsvError } from 'csv-parse'
import type { Readable } from 'node:stream'
import { createInterface } from 'node:readline'
import { ImportFormatInvalid, JsonTooDeep } from '../errors/index.ts'
import { lazyImport } from '../lazy.ts'
import { jsonTextTooDeep, MAX_JSON_DEPTH } from './json-depth.ts'
import type { ImportRecord } from './service.ts'
import { ACCOUNT_FIELD_NAMES, fieldSpec } from './types.ts'

// Loaded with the first CSV import, not at start-up (docs/performance.md).
const csvParse = lazyImport(() => import('csv-parse'))

/** Formats an import body may use. */
export const IMPORT_FORMATS = ['json', 'ndjson', 'csv'] as const
/** One of {@link IMPORT_FORMATS}. */
export type ImportFormat = (typeof IMPORT_FORMATS)[number]

/** Maps a Content-Type to an import format, or null when it is not one we read. */
export function formatFromContentType(contentType: string | undefined): ImportFormat | null {
  const type = contentType?.split(';')[0]?.trim().toLowerCase()
  switch (type) {
    case 'application/json':
      return 'json'
    case 'application/x-ndjson':
    case 'application/ndjson':
    case 'application/jsonl':
    case 'application/x-jsonlines':
      return 'ndjson'
    case 'text/csv':
      return 'csv'
    default:
      return null
  }
}

/** Guesses a file's format from its name (CLI). */
export function formatFromFileName(name: string): ImportFormat | null {
  if (/\.csv$/i.test(name)) return 'csv'
  if (/\.(ndjson|jsonl)$/i.test(name)) return 'ndjson'
  if (/\.json$/i.test(name)) return 'json'
  return null
}

/**
 * Streams the records of an import body one at a time, so a large import never sits in memory
 * whole. A malformed record is yielded as an error for its line, not thrown, so the rest of
 * the import still runs and the report names the line.
 * @example
 * const report = await accounts.import(readImport(input, 'ndjson'), { atomic: false })
 */
export function readImport(input: Readable, format: ImportFormat): AsyncIterable<ImportRecord> {
  switch (format) {
    case 'json':
      return jsonArrayRecords(input)
    case 'ndjson':
      return ndjsonRecords(input)
    case 'csv':
      return csvRecords(input)
  }
}

async function* ndjsonRecords(input: Readable): AsyncGenerator<ImportRecord> {
  let line = 0
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++
    if (text.trim() === '') continue
    yield parseJsonRecord(text, line)
  }
}

/** One record's JSON text, its depth checked before it is parsed (see json-depth.ts). */
function parseJsonRecord(text: string, line: number): ImportRecord {
  if (jsonTextTooDeep(text)) return { line, rejected: new JsonTooDeep(MAX_JSON_DEPTH) }
  try {
    return { line, value: JSON.parse(text) }
  } catch {
    return { line, error: { path: '', message: 'is not valid JSON' } }
  }
}

/**
 * Splits a top-level JSON array into its elements without holding the whole body: tracks
 * string and nesting state character by character, and hands each element to JSON.parse. An
 * element nesting deeper than MAX_JSON_DEPTH is rejected on its line without being kept or
 * parsed; the elements after it are read as usual.
 */
async function* jsonArrayRecords(input: Readable): AsyncGenerator<ImportRecord> {
  input.setEncoding('utf8')
  let started = false
  let ended = false
  let depth = 0
  let inString = false
  let escaped = false
  let buf = ''
  let tooDeep = false
  let line = 1
  let startLine = 1
  for await (const chunk of input as AsyncIterable<string>) {
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!
      if (ch === '\n') line++
      if (!started) {
        if (ch === '\uFEFF' || /\s/.test(ch)) continue
        if (ch !== '[') throw new ImportFormatInvalid('body must be a JSON array of user objects')
        started = true
        continue
      }
      if (ended) {
        if (/\s/.test(ch)) continue
        yield {
          line,
          error: { path: '', message: 'unexpected text after the end of the JSON array' },
        }
        return
      }
      if (inString) {
        if (!tooDeep) buf += ch
        if (escaped) escaped = false
        else if (ch === '\\') escaped = true
        else if (ch === '"') inString = false
        continue
      }
      if (depth === 0 && (ch === ',' || ch === ']')) {
        if (tooDeep) yield { line: startLine, rejected: new JsonTooDeep(MAX_JSON_DEPTH) }
        else if (buf.trim() !== '') yield parseJsonRecord(buf, startLine)
        buf = ''
        tooDeep = false
        if (ch === ']') ended = true
        continue
      }
      if (buf === '' && /\s/.test(ch)) continue
      if (buf === '') startLine = line
      if (!tooDeep) buf += ch
      if (ch === '"') inString = true
      else if (ch === '{' || ch === '[') {
        if (++depth > MAX_JSON_DEPTH && !tooDeep) {
          tooDeep = true
          buf = ' ' // not empty: the element has begun; nothing more of it is kept
        }
      } else if (ch === '}' || ch === ']') depth--
    }
  }
  if (!started) throw new ImportFormatInvalid('body must be a JSON array of user objects')
  if (!ended)
    yield { line, error: { path: '', message: 'the JSON array is not closed (truncated body?)' } }
}

// A CSV cell is text: the field table says which columns hold a boolean or a JSON object.
const columnsOf = (kind: 'boolean' | 'json') =>
  new Set<string>(ACCOUNT_FIELD_NAMES.filter((name) => fieldSpec(name).column === kind))
const BOOLEAN_COLUMNS = columnsOf('boolean')
const JSON_COLUMNS = columnsOf('json')

type CsvRow = {
  record: Record<string, string>
  info: { lines: number; error?: { message: string } }
}

/**
 * CSV with a header row naming account fields. Empty cells are absent fields; `profile` holds
 * JSON; `email_verified` is true/false/1/0. A row with the wrong number of cells is reported on
 * its line. A syntax error (a quote inside an unquoted cell, text after a closing quote, an
 * unclosed quote) ends the import with a rejection on its line (`import_format_invalid`), after
 * every row before it has been yielded: past a broken quote no parser can tell where the next
 * record begins, so later rows are not guessed at. A syntax error in the header row means no
 * record can be read at all: {@link ImportFormatInvalid} is thrown (400).
 */
async function* csvRecords(input: Readable): AsyncGenerator<ImportRecord> {
  // The first CSV import waits for the parser to load: an input error meanwhile is kept for
  // the parser (an 'error' with no listener would throw).
  let early: Error | undefined
  const keep = (err: Error) => (early ??= err)
  input.once('error', keep)
  const { parse: parseCsv, CsvError } = await csvParse()
  input.off('error', keep)
  const parser = input.pipe(
    parseCsv({
      columns: true,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }),
  )
  input.on('error', (err) => parser.destroy(err))
  if (early) parser.destroy(early)
  for await (const item of drain<CsvRow>(parser)) {
    if ('fatal' in item) {
      // Every csv-parse error is a CsvError; its codes are not all CSV_-prefixed
      // (INVALID_OPENING_QUOTE is not), so they are told apart by class, not by code.
      if (!(item.fatal instanceof CsvError)) throw item.fatal
      const err = item.fatal as CsvError & { lines?: number; header?: boolean }
      if (err.header === true)
        throw new ImportFormatInvalid(`the CSV header row cannot be read: ${csvReason(err)}`)
      yield {
        line: err.lines ?? 0,
        rejected: new ImportFormatInvalid(
          `CSV cannot be read from this line on (later rows were not read): ${csvReason(err)}`,
        ),
      }
      return
    }
    const { record, info } = item.value
    if (info.error) {
      yield {
        line: info.lines,
        error: { path: '', message: 'row does not have as many cells as the header' },
      }
      continue
    }
    yield csvRow(record, info.lines)
  }
}

function csvRow(record: Record<string, string>, line: number): ImportRecord {
  const value: Record<string, unknown> = {}
  for (const [column, cell] of Object.entries(record)) {
    if (cell === '') continue
    if (BOOLEAN_COLUMNS.has(column)) {
      const b = /^(true|1|yes)$/i.test(cell)
        ? true
        : /^(false|0|no)$/i.test(cell)
          ? false
          : undefined
      if (b === undefined)
        return { line, error: { path: column, message: 'must be true or false' } }
      value[column] = b
    } else if (JSON_COLUMNS.has(column)) {
      if (jsonTextTooDeep(cell)) return { line, rejected: new JsonTooDeep(MAX_JSON_DEPTH) }
      try {
        value[column] = JSON.parse(cell)
      } catch {
        return { line, error: { path: column, message: 'must hold a JSON object' } }
      }
    } else {
      value[column] = cell
    }
  }
  return { line, value }
}

/** What each csv-parse syntax error means, in words that quote nothing from the file. */
const CSV_REASONS: Record<string, string> = {
  INVALID_OPENING_QUOTE:
    'a quote inside an unquoted cell (quote the cell and double the quote: "a""b")',
  CSV_INVALID_CLOSING_QUOTE: 'text after a closing quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text after a closing quote',
  CSV_QUOTE_NOT_CLOSED: 'a quote that is never closed',
  CSV_MAX_RECORD_SIZE: 'a record that is too large',
}

/**
 * csv-parse's reason in our words: its own messages quote the cell (which may hold a password
 * hash), so they never reach a response.
 */
function csvReason(err: CsvError): string {
  return CSV_REASONS[err.code] ?? `a CSV syntax error (${err.code})`
}

/**
 * Iterates a stream's objects, then its error (if any) as a final item. Unlike the stream's own
 * async iterator, objects already emitted before an error are never dropped.
 */
async function* drain<T>(stream: Readable): AsyncGenerator<{ value: T } | { fatal: unknown }> {
  const queue: ({ value: T } | { fatal: unknown } | { end: true })[] = []
  let wake: (() => void) | undefined
  const push = (item: (typeof queue)[number]) => {
    queue.push(item)
    wake?.()
  }
  stream.on('data', (value: T) => {
    push({ value })
    if (queue.length >= 1000) stream.pause()
  })
  stream.on('end', () => push({ end: true }))
  stream.on('error', (fatal) => push({ fatal }))
  for (;;) {
    if (queue.length === 0) {
      stream.resume()
      await new Promise<void>((resolve) => (wake = resolve))
      wake = undefined
      continue
    }
    const item = queue.shift()!
    if ('end' in item) return
    yield item
    if ('fatal' in item) return
  }
}
