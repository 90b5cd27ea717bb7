/**
 * @module scripts/start
 * What `npm start` (and the systemd unit) runs: the server from its bundle (scripts/bundle.js),
 * built first when any file it is built from changed since, or from the TypeScript sources when
 * it cannot be built (esbuild missing, the install read-only), with a line on stderr saying so.
 * Either way the same `main()` of src/main.ts runs: the same configuration, logs and exit codes.
 *
 * Plain JavaScript, so a start from a fresh bundle never loads Node's TypeScript stripper.
 */
import { buildBundle, checkBundle, ROOT } from './bundle.js'

// Not `import`: see scripts/bundle.js (an ES import of a built-in builds its facade).
const { pathToFileURL } = process.getBuiltinModule('node:url')

/** @returns {Promise<string>} the URL of the module to start: the bundle's main.mjs, or src/main.ts */
async function serverModule() {
  // record: a bundle found fresh by its content has its files' stats recorded for next time.
  const fresh = checkBundle(ROOT, { record: true }).main
  if (fresh) return pathToFileURL(fresh).href
  // A plain line, not a log record: the logger is configured by main(), which has not run.
  process.stderr.write('sso-bridge: building the server bundle (its sources changed)\n')
  try {
    return pathToFileURL(await buildBundle()).href
  } catch (err) {
    process.stderr.write(
      `sso-bridge: could not build the server bundle (${err instanceof Error ? err.message : String(err)}); running the TypeScript sources, with a slower start\n`,
    )
    return new URL('../src/main.ts', import.meta.url).href
  }
}

const { main } = await import(await serverModule())
await main()
