#!/usr/bin/env node
// The CLI is TypeScript run by Node's type stripping (Node >= 24). This shim stays plain JS and
// imports it dynamically, so an older `node` on PATH gets a clear message instead of a syntax
// error from loading a .ts file.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(
    `sso-bridge needs Node.js 24 or later (this is ${process.version}); run it with "npx sso-bridge", which uses the project's Node\n`,
  )
  process.exit(1)
}
// The same compile cache as `npm start` (README "Performance"): later runs skip stripping the
// types of every file, and never load the stripper. Best effort: a read-only install runs without.
const { enableCompileCache } = await import('node:module')
enableCompileCache?.(new URL('../node_modules/.cache/sso-bridge', import.meta.url).pathname)
const { main } = await import('../src/cli/index.ts')
await main()
