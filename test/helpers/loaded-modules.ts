/**
 * Preloaded into a server process (`NODE_OPTIONS=--import=<this file>`, see
 * {@link loadedModulesEnv}): records the URL of every module the process loads — ESM imports
 * and CommonJS requires alike (node:module's synchronous hooks see both) — and writes them, one a
 * line, to LOADED_MODULES_FILE when the process exits. No code under src/ knows of it.
 */
import { writeFileSync } from 'node:fs'
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

/** The npm packages among recorded module URLs (`@scope/name` or `name`), from the file the process wrote. */
export function loadedPackages(urls: string): Set<string> {
  const names = new Set<string>()
  for (const m of urls.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)) names.add(m[1]!)
  return names
}
