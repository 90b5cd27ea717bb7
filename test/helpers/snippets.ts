/**
 * Running the README's code snippets (Node, PHP, Python) as written: one fenced block of a
 * language from a section, the interpreter to run it with, and a run in a temp directory with
 * only PATH and the given environment. The run is asynchronous, so a snippet may call a server
 * running in the test's own process.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { codeBlocks } from './readme.ts'
import { PROCESS_TEST_TIMEOUT } from './timeouts.ts'

/** The one ```lang block of `section` (fails when there is not exactly one). */
export function codeBlock(section: string, lang: string): string {
  const blocks = codeBlocks(section, lang)
  if (blocks.length !== 1) throw new Error(`expected one ${lang} block, found ${blocks.length}`)
  return blocks[0]!
}

const runs = (cmd: string) => {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The first of `candidates` (a path or a command on PATH) that is installed, else an error saying what to install. */
export function interpreter(...candidates: string[]): string {
  const found = candidates.find((c) => (c.includes('/') ? existsSync(c) : runs(c)))
  if (!found)
    throw new Error(
      `none of ${candidates.join(', ')} is installed: install Debian's php-cli and python3 (npm test does this first: scripts/system-packages.sh)`,
    )
  return found
}

/** Writes `code` to `file` in a temp directory and runs it; resolves to its trimmed stdout. */
export async function runSnippet(
  command: string,
  file: string,
  code: string,
  env: Record<string, string>,
): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-snippet-'))
  try {
    writeFileSync(path.join(dir, file), code)
    return await new Promise<string>((resolve, reject) =>
      execFile(
        command,
        [path.join(dir, file)],
        {
          env: { PATH: process.env.PATH ?? '', ...env },
          encoding: 'utf8',
          timeout: PROCESS_TEST_TIMEOUT,
        },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${file}: ${err.message}\n${stderr}`)) : resolve(stdout.trim()),
      ),
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
