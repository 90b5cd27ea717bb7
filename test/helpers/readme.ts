/**
 * Running the documentation's shell examples as written (the README and the pages under
 * docs/): their sections and `sh` blocks, a server
 * directory where `npx sso-bridge` resolves as in a checkout, bash with `set -euo pipefail`,
 * and the JSON values curl prints back to back. Only the base URL is pointed at the test server.
 *
 * The blocks run as real processes, `npx sso-bridge` lines included: a line such as
 * `npx sso-bridge users import members.ndjson` or `… | npx sso-bridge paths -` depends on the
 * shell's working directory, pipes and environment, which the CLI's in-process `run()` would
 * not reproduce exactly. A block therefore takes seconds per command on a loaded machine; its
 * timeout only catches a hang (./timeouts.ts).
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { linkCliInto } from './cli.ts'
import type { ServerProcess } from './server.ts'
import { PROCESS_TEST_TIMEOUT } from './timeouts.ts'

export { PROCESS_TEST_TIMEOUT }

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const DOCS = new URL('../../docs/', import.meta.url)

/** `## title` up to the next `## ` in `text`, or undefined. */
function section(text: string, title: string): string | undefined {
  const start = text.indexOf(`\n## ${title}\n`)
  if (start < 0) return undefined
  const end = text.indexOf('\n## ', start + 4)
  return text.slice(start, end < 0 ? undefined : end)
}

/**
 * The documentation titled `title`, wherever it lives: the README's `## title` section, else the
 * page under docs/ whose title is `# title` (the whole page), else a page's `## title` section.
 * So a test names what it runs by its heading, and keeps working when a section moves from the
 * README to a page.
 */
export function docSection(title: string): string {
  const inReadme = section(README, title)
  if (inReadme !== undefined) return inReadme
  const pages = readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => readFileSync(new URL(f, DOCS), 'utf8'))
  const page = pages.find((text) => text.startsWith(`# ${title}\n`))
  if (page !== undefined) return page
  for (const text of pages) {
    const found = section(text, title)
    if (found !== undefined) return found
  }
  throw new Error(`neither the README nor a page under docs/ has a section "${title}"`)
}

/** The same, under the name the tests written before docs/ existed use. */
export const readmeSection = docSection

/**
 * The whole of `docs/<name>.md`, where the reference examples live (a page is one concern, so
 * its examples are the page's).
 */
export function docPage(name: string): string {
  return readFileSync(new URL(`${name}.md`, DOCS), 'utf8')
}

/** The fenced blocks of one language (`js`, `php`, `python`, …) in `text`. */
export function codeBlocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!)
}

export function shBlocks(text: string): string[] {
  return codeBlocks(text, 'sh')
}

/** Makes `npx sso-bridge` in the server's directory resolve to this checkout's CLI. */
export function linkCli(server: ServerProcess): void {
  linkCliInto(server.dir)
}

/** Runs one block in bash; resolves to its stdout, rejects (with its stderr) if any command fails. */
export function runBlock(script: string, server: ServerProcess): Promise<string> {
  const env = {
    PATH: `${path.resolve('node_modules/.bin')}:${process.env.PATH}`,
    HOME: process.env.HOME ?? server.dir,
    DATA_DIR: path.join(server.dir, 'data'),
    KEYS_DIR: path.join(server.dir, 'keys'),
    LOG_LEVEL: 'silent',
    PS1: '',
    // npx must use the linked CLI, never ask or reach a registry.
    npm_config_yes: 'false',
    npm_config_offline: 'true',
  }
  const args = ['-euo', 'pipefail', '-c', script.replaceAll('http://localhost:3000', server.url)]
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      args,
      { cwd: server.dir, env, encoding: 'utf8', timeout: PROCESS_TEST_TIMEOUT },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(
              `README block failed (${err.message}):\n${script}\n--- stderr ---\n${stderr}`,
              { cause: err },
            ),
          )
        else resolve(stdout)
      },
    )
  })
}

/** The JSON values printed back to back (curl adds no newline between responses). */
export function jsonValues(text: string): any[] {
  const out: unknown[] = []
  let depth = 0
  let start = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i
    } else if ((c === '}' || c === ']') && --depth === 0)
      out.push(JSON.parse(text.slice(start, i + 1)))
  }
  return out
}
