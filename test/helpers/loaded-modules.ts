/**
 * Preloaded into a server process (`NODE_OPTIONS=--import=<this file>`, see
 * {@link loadedModulesEnv}): records the URL of every module the process loads — ESM imports
 * and CommonJS requires alike (node:module's synchronous hooks see both) — and writes them, one a
 * line, to LOADED_MODULES_FILE when the process exits. No code under src/ knows of it.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'
import path from 'node:path'

const out = process.env.LOADED_MODULES_FILE
if (out) {
  const urls = new Set<string>()
  registerHooks({
    load(url, context, nextLoad) {
      urls.add(url)
      return nextLoad(url, context)
    },
  })
  process.on('exit', () => writeFileSync(out, [...urls].join('\n')))
}

/** The environment that makes a server process started by test/helpers/server.ts record its modules into `file`. */
export function loadedModulesEnv(file: string): Record<string, string> {
  return {
    NODE_OPTIONS: `--import=${path.resolve(import.meta.dirname, 'loaded-modules.ts')}`,
    LOADED_MODULES_FILE: file,
  }
}

/** A file of a server bundle (scripts/bundle.js): its folder and its name. */
const BUNDLE_FILE =
  /^file:\/\/(.*\/node_modules\/\.cache\/sso-bridge\/server\/[0-9a-f]{64})\/([^/]+\.mjs)$/

/**
 * The npm packages among recorded module URLs (`@scope/name` or `name`), from the file the
 * process wrote. A file of the server bundle stands for every package esbuild put in it: its
 * inputs, from the metafile beside it (so a package counts as loaded when the chunk holding it
 * is, and not before).
 */
export function loadedPackages(urls: string): Set<string> {
  const names = new Set<string>()
  const add = (text: string) => {
    for (const m of text.matchAll(/node_modules\/((?:@[^/]+\/)?[^/.][^/]*)\//g)) names.add(m[1]!)
  }
  for (const url of urls.split('\n')) {
    const bundled = BUNDLE_FILE.exec(url)
    if (!bundled) {
      add(url)
      continue
    }
    const meta = JSON.parse(readFileSync(`${bundled[1]}/meta.json`, 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, unknown> }>
    }
    const output = Object.entries(meta.outputs).find(([file]) => file.endsWith(`/${bundled[2]}`))
    if (!output) throw new Error(`${url} is not in its bundle's metafile`)
    for (const input of Object.keys(output[1].inputs)) add(input)
  }
  return names
}
