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
const { main } = await import('../src/cli/index.ts')
await main()
