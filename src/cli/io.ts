/**
 * @module cli/io
 * The CLI's contract with its caller: data as pretty JSON on stdout, errors as the API's wire
 * JSON on stderr, and an exit code per kind of failure. Streams are passed in rather than
 * taken from `process` so the program can also run in-process.
 */
import { open } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { jsonTextTooDeep, MAX_JSON_DEPTH } from '../accounts/json-depth.ts'
import {
  BridgeError,
  ConfigInvalid,
  JsonTooDeep,
  replyFor,
  ValidationFailed,
  type BridgeErrorCode,
} from '../errors/index.ts'
import { toWireError, type WireError } from '../errors/wire.ts'

/** The streams a command writes to and reads from; tests pass their own to capture output. */
export interface CliIo {
  stdout: { write(chunk: string): unknown }
  stderr: { write(chunk: string): unknown }
  stdin: Readable
}

/** Exit codes: sysexits' EX_CONFIG for bad configuration, 2 for the caller's mistake (as most CLIs use for usage). */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const

/** Wire codes that mean "fix your input", hence exit 2. */
const INPUT_ERRORS = new Set([
  'validation_failed',
  'import_format_invalid',
  'json_too_deep',
  'usage_error',
])

/**
 * A failure the CLI itself decides on (usage, rejected import), already in wire form. Its code
 * names the condition (`ERR_USAGE`, `ERR_IMPORT_REJECTED`); `wire.error` is that code's wire name.
 */
export class CliFailure extends BridgeError {
  override readonly code: CliFailureCode
  readonly wire: WireError
  readonly exitCode: number
  constructor(
    code: CliFailureCode,
    message: string,
    exitCode: number,
    details?: WireError['details'],
  ) {
    super(message)
    this.code = code
    this.wire = { error: replyFor(code).error, message, ...(details ? { details } : {}) }
    this.exitCode = exitCode
  }
}

/** The conditions only the CLI raises. */
export type CliFailureCode = Extract<BridgeErrorCode, 'ERR_USAGE' | 'ERR_IMPORT_REJECTED'>

/** Writes `value` to stdout as indented JSON: every command's result, so scripts can parse it. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

// Config messages quote the offending value; for these keys the value is itself the secret.
/** Turns any thrown value into what goes to stderr and the exit code. */
export function describeError(err: unknown): { wire: WireError; exitCode: number } {
  if (err instanceof CliFailure) return { wire: err.wire, exitCode: err.exitCode }
  if (err instanceof ConfigInvalid) {
    const issues = err.issues
    return {
      wire: {
        error: 'config_invalid',
        message: `invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        details: { issues },
      },
      exitCode: EXIT.config,
    }
  }
  if (!(err instanceof BridgeError) && isSystemError(err)) {
    // A file or directory the operator named (KEYS_DIR not writable…): the message is a path
    // and an errno, useful and safe, where the API would hide it behind "internal error".
    return { wire: { error: 'io_error', message: err.message }, exitCode: EXIT.failure }
  }
  const wire = toWireError(err)
  return { wire, exitCode: INPUT_ERRORS.has(wire.error) ? EXIT.usage : EXIT.failure }
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  )
}

/** A caller's mistake on the command line (`usage_error`, exit 2), reported like any other failure. */
export function usageError(message: string): CliFailure {
  return new CliFailure('ERR_USAGE', message, EXIT.usage)
}

/** A stream's whole content as UTF-8 text (stdin, or a file given as input). */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/** The two ways a `put` takes its JSON object: inline (`--data`) or from a file (`--file`, `-` for stdin). */
export interface BodyOptions {
  data?: string
  file?: string
}

/**
 * The JSON object body of a `put`, from `--data` or `--file` (`-` for stdin).
 * @throws {ValidationFailed} naming the option: neither or both given, unreadable, not JSON
 */
export async function readJsonBody(opts: BodyOptions, stdin: Readable): Promise<unknown> {
  if (opts.data !== undefined && opts.file !== undefined) {
    throw new ValidationFailed([
      { path: '--data', message: 'give either --data or --file, not both' },
    ])
  }
  let text: string
  let from: string
  if (opts.data !== undefined) {
    text = opts.data
    from = '--data'
  } else if (opts.file !== undefined) {
    from = '--file'
    text =
      opts.file === '-' ? await readAll(stdin) : await readAll(await openInput(opts.file, '--file'))
  } else {
    throw new ValidationFailed([
      {
        path: '--data',
        message:
          'is required: give the JSON body with --data <json> or --file <path> ("-" reads stdin)',
      },
    ])
  }
  return parseJsonInput(text, from)
}

/**
 * Parses JSON the operator gave, its depth checked first (accounts/json-depth.ts).
 * @throws {JsonTooDeep} @throws {ValidationFailed} not JSON
 */
export function parseJsonInput(text: string, from: string): unknown {
  if (jsonTextTooDeep(text)) throw new JsonTooDeep(MAX_JSON_DEPTH)
  try {
    return JSON.parse(text)
  } catch {
    // JSON.parse's own message quotes the text, which may hold a password.
    throw new ValidationFailed([{ path: from, message: 'is not valid JSON' }])
  }
}

/**
 * Opens a file the operator named, failing early with the option's name rather than from deep
 * inside a parser. Pipes and process substitutions are fine; directories are not.
 * @throws {ValidationFailed}
 */
export async function openInput(file: string, option: string): Promise<Readable> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (err) {
    throw new ValidationFailed([
      {
        path: option,
        message: `cannot open ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      },
    ])
  }
  if ((await handle.stat()).isDirectory()) {
    await handle.close()
    throw new ValidationFailed([{ path: option, message: `${file} is a directory` }])
  }
  return handle.createReadStream()
}
