/**
 * @module mapping/syntax-error
 * The one error the mapping parsers throw. It carries only a human reason ("empty segment",
 * "truncate needs a whole number ≥ 1"); `engine.ts` catches it and files the reason under the
 * output key it belongs to, so callers of `compileMapping` only ever see `ValidationFailed`.
 *
 * It is a `BridgeError` like every error we raise (code `ERR_MAPPING_SYNTAX`), and a class of
 * its own so the engine can tell a bad mapping (report it) from a bug in the engine (let it
 * crash) with `instanceof`.
 */
import { BridgeError } from '../errors/index.ts'

/** A mapping, key, path, template or transform that does not parse; `message` says why. */
export class MappingSyntaxError extends BridgeError {
  override code = 'ERR_MAPPING_SYNTAX' as const
  constructor(reason: string) {
    super(reason)
  }
}
