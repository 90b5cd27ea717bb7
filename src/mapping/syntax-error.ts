/**
 * @module mapping/syntax-error
 * The one error the mapping parsers throw. It carries only a human reason ("empty segment",
 * "truncate needs a whole number ≥ 1"); `engine.ts` catches it and files the reason under the
 * output key it belongs to, so callers of `compileMapping` only ever see `ValidationFailed`.
 *
 * It is deliberately not a `BridgeError`: it never leaves the mapping module through
 * `compileMapping`, and keeping it distinct lets the engine tell a bad mapping (report it) from
 * a bug in the engine (let it crash).
 */

/** A mapping, key, path, template or transform that does not parse; `message` says why. */
export class MappingSyntaxError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'MappingSyntaxError'
  }
}
