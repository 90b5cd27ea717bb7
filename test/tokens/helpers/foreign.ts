/**
 * Runs a verifier written in another language from a platform's document alone — PHP
 * (`hash_hmac`, `openssl_verify`) or Python (`hmac`, PyJWT: Debian's python3-jwt) — with JSON on
 * stdin, and returns what it printed. Debian's interpreters by path: the PyJWT the tests use is
 * Debian's package, not whatever `python3` is first on PATH (scripts/system-packages.sh).
 */
import { execFileSync } from 'node:child_process'

export const PYTHON = '/usr/bin/python3'
export const PHP = '/usr/bin/php'

/** Runs `code` with `input` as JSON on stdin; its stdout, trimmed. Throws when it exits non-zero. */
export function runForeign(interpreter: string, code: string, input: unknown): string {
  const args = interpreter === PHP ? ['-r', code.replace(/^<\?php\s*/, '')] : ['-c', code]
  return execFileSync(interpreter, args, {
    input: JSON.stringify(input),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim()
}
