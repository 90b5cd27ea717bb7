/**
 * @module scripts/bundle
 * The server as one ES module bundle: src/main.ts and everything it imports at start, npm
 * packages included, in a few files (esbuild), so a start loads ~15 files instead of ~800 — the
 * resolving, reading and linking of each module was most of the start time (docs/performance.md).
 * What the server loads on first use (src/lazy.ts: the Markdown renderer, csv-parse, bcryptjs,
 * prom-client, …) becomes a chunk of its own, loaded as late as before; what esbuild cannot or
 * should not inline stays a package loaded from node_modules at run time: the native argon2, the
 * PostgreSQL driver, and what src/lazy.ts `require`s by name (the SAML XML stack).
 *
 * Plain JavaScript, so a start from a fresh bundle never loads Node's TypeScript stripper.
 *
 * Never stale: the bundle is stored under the SHA-256 of everything it was built from — the
 * content of each of our source files esbuild read, package.json, package-lock.json, the
 * installed tree's node_modules/.package-lock.json (npm rewrites it on every install),
 * tsconfig.json and this file. {@link freshBundle} answers only a bundle built from exactly the
 * files on disk; any other state means a rebuild ({@link buildBundle}), or the sources when it
 * cannot be built.
 *
 * How a start knows, cheaply: the build also records each file's stat (device, inode, size,
 * modification and change times), taken before the bytes it compiled were read. A start
 * whose every file has that same stat runs the bundle without reading them (~250 stats, ~2 ms);
 * any difference, and the start recomputes the content digest (~250 files read and hashed,
 * ~15–25 ms) and decides on that. The change time (ctime) is what makes this sound: every write
 * sets it to the clock, and no tool can put it back (`touch`, `utimes`, `cp -p`, `tar x` restore
 * the modification time only), so an edit to the same size with the old mtime put back still
 * differs. A file changed less than {@link SETTLED_MS} before the build read it is recorded
 * without a stat (always content-checked): on a filesystem with coarse timestamps, an edit in
 * the same tick could otherwise keep the recorded times. `git`'s index makes the same bet
 * ("racy git").
 *
 * Layout, under node_modules/.cache/sso-bridge/server (inside the install, like the compile
 * cache: README "Performance"):
 *   current.json      { digest, dir, inputs, stats }: the last build, what freshBundle checks
 *   <digest>/         main.mjs, its chunks, meta.json (esbuild's metafile: which input is where)
 * A build writes a temporary folder and renames it into place, then rewrites current.json the
 * same way, so processes starting side by side never see half a bundle.
 *
 *   node scripts/bundle.js      # builds if stale (npm's postinstall runs it); exit 0 on failure
 */
// Node's built-in modules through process.getBuiltinModule(), not `import`: this file runs at
// every start (freshBundle), and an ES import of a built-in builds its ES facade by reading every
// export — for node:crypto that loads WebCrypto, for node:fs its promises API — ~20 ms of a start
// that needs neither yet (docs/performance.md). The same reason as the bundle's own plugin below.
const { createHash } = process.getBuiltinModule('node:crypto')
const {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} = process.getBuiltinModule('node:fs')
const { builtinModules } = process.getBuiltinModule('node:module')
const path = process.getBuiltinModule('node:path')
const { fileURLToPath } = process.getBuiltinModule('node:url')

/** The project's root folder (where package.json is). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Where bundles are kept, relative to the root. */
export const BUNDLE_DIR = 'node_modules/.cache/sso-bridge/server'

/** The entry point bundled: the composition root, whose exported `main()` starts the server. */
const ENTRY = 'src/main.ts'

/**
 * Files outside the source graph that change what a build produces. A missing one (no
 * node_modules/.package-lock.json after some installs) counts as empty.
 */
const KEY_FILES = [
  'package.json',
  'package-lock.json',
  'node_modules/.package-lock.json',
  'tsconfig.json',
  'scripts/bundle.js',
]

/**
 * Left out of the bundle, loaded from node_modules at run time: argon2 is a native addon; the
 * PostgreSQL driver is imported only with DATABASE_URL and `require`s its optional native
 * binding, which is not installed.
 */
const EXTERNAL = ['@node-rs/argon2', 'pg', 'pg-native']

/** A path inside an npm package (keyed by the lockfiles, not file by file). */
const IN_PACKAGE = /(^|\/)node_modules\//

/**
 * How long before the build a file must have last changed for its stat to be recorded (see the
 * module doc): above the 2 s timestamp resolution of the coarsest filesystems in use (FAT).
 */
export const SETTLED_MS = 2000

/** How many built bundles to keep: the current one and two before it (see {@link prune}). */
const KEEP = 3

/**
 * @typedef {object} Manifest what current.json holds
 * @property {string} digest SHA-256 (hex) of the key files and the inputs, in this order
 * @property {string} dir the bundle's folder, under the bundle dir
 * @property {string[]} inputs our files the bundle was built from, relative to the root
 * @property {Record<string, string | null>} [stats] each key file's and input's {@link statKey}
 *   when the build read it; null when it had changed too recently to be trusted (SETTLED_MS)
 */

/**
 * What the stat check compares of a file: device, inode, size, modification and change time, or
 * `absent` for a key file that does not exist. The times are Node's `mtimeMs`/`ctimeMs`, doubles
 * that keep the filesystem's nanoseconds to within a fraction of a microsecond (a `bigint` stat
 * is exact but costs four times as much, and the start pays it for every file).
 * @param {string} file an absolute path
 * @throws when the file cannot be stat'ed for another reason than its absence
 */
function statKey(file) {
  const s = statSync(file, { throwIfNoEntry: false })
  return s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : 'absent'
}

/**
 * A file's {@link statKey} as the build records it, taken before its bytes are read: null when it
 * changed less than {@link SETTLED_MS} ago (or is dated in the future), so the stat check will
 * always read it.
 * @param {string} file an absolute path
 * @returns {string | null}
 */
function recordStat(file) {
  const s = statSync(file, { throwIfNoEntry: false })
  if (!s) return 'absent'
  const settled = Date.now() - Math.max(s.mtimeMs, s.ctimeMs) > SETTLED_MS
  return settled ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : null
}

/** @param {string} root @param {string} file */
const readOrEmpty = (root, file) => {
  try {
    return readFileSync(path.join(root, file))
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT') return Buffer.alloc(0)
    throw err
  }
}

/**
 * The digest a bundle of these inputs is stored under.
 * @param {string} root
 * @param {string[]} inputs our source files, relative to the root, in build order
 * @param {(file: string) => Buffer | string} read the content of an input (at build time: the
 *   very bytes esbuild compiled, so an edit during the build cannot be recorded as built)
 */
function digestOf(root, inputs, read) {
  const hash = createHash('sha256')
  for (const file of KEY_FILES) {
    const content = readOrEmpty(root, file)
    hash.update(`${file}\0${content.length}\0`).update(content)
  }
  for (const file of inputs) {
    const content = read(file)
    hash.update(`${file}\0${Buffer.byteLength(content)}\0`).update(content)
  }
  return hash.digest('hex')
}

/**
 * Whether every key file and input still has the stat the build recorded (see the module doc).
 * @param {string} root @param {Manifest} manifest
 */
function unchangedSinceBuild(root, manifest) {
  const stats = manifest.stats
  if (!stats) return false
  // Concatenated, not path.join: ~250 joins cost more than the stats themselves at a cold start.
  const base = root.endsWith(path.sep) ? root : root + path.sep
  try {
    for (const file of [...KEY_FILES, ...manifest.inputs]) {
      const recorded = stats[file]
      if (!recorded || statKey(base + file) !== recorded) return false
    }
  } catch {
    return false
  }
  return true
}

/**
 * Replaces current.json (a temporary file renamed into place: a reader sees the old or the new).
 * @param {string} dir the bundle dir @param {Manifest} manifest
 */
function writeManifest(dir, manifest) {
  const next = path.join(dir, `.current-${process.pid}-${Date.now().toString(36)}.json`)
  writeFileSync(next, JSON.stringify(manifest))
  renameSync(next, path.join(dir, 'current.json'))
}

/**
 * The bundle built from the files on disk now, if there is one, and how that was decided.
 * @param {string} [root] the project's root
 * @param {{ record?: boolean }} [options] `record`: when the content digest decides and the
 *   bundle is fresh, record the files' stats as they are now (taken before the reads the digest
 *   made, so the invariant of the build's own record holds), so the next start can trust them;
 *   best effort (a read-only install keeps the content check)
 * @returns {{ main: string | undefined, by: 'stat' | 'content' | 'none' }} `main`: the path of
 *   its main.mjs, undefined when there is no bundle or any input changed; `by`: `stat` when every
 *   file had the stat the build recorded, `content` when the content digest decided, `none` when
 *   there is no bundle
 */
export function checkBundle(root = ROOT, { record = false } = {}) {
  const dir = path.join(root, BUNDLE_DIR)
  /** @type {Manifest} */
  let manifest
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, 'current.json'), 'utf8'))
  } catch {
    return { main: undefined, by: 'none' }
  }
  const main = path.join(dir, manifest.dir, 'main.mjs')
  if (!existsSync(main)) return { main: undefined, by: 'none' }
  if (unchangedSinceBuild(root, manifest)) return { main, by: 'stat' }
  let digest
  /** @type {Record<string, string | null>} */
  const stats = {}
  try {
    if (record)
      for (const file of [...KEY_FILES, ...manifest.inputs])
        stats[file] = recordStat(path.join(root, file)) // before digestOf reads it
    digest = digestOf(root, manifest.inputs, (file) => readFileSync(path.join(root, file)))
  } catch {
    return { main: undefined, by: 'content' } // an input is gone: what imported it changed too
  }
  if (digest !== manifest.digest) return { main: undefined, by: 'content' }
  if (record && JSON.stringify(stats) !== JSON.stringify(manifest.stats ?? {}))
    try {
      writeManifest(dir, { ...manifest, stats })
    } catch {
      // A read-only install: the next start checks the content again, as this one did.
    }
  return { main, by: 'content' }
}

/**
 * After npm's postinstall built the bundle, files npm or git wrote in the last seconds (the
 * installed tree's node_modules/.package-lock.json at least) are recorded without a stat
 * ({@link SETTLED_MS}), and a read-only install could never record them later: waits until
 * they have settled (at most SETTLED_MS) and records them, so every start takes the stat check.
 * @param {string} [root] the project's root
 */
async function settleStats(root = ROOT) {
  /** @type {Manifest} */
  const manifest = JSON.parse(readFileSync(path.join(root, BUNDLE_DIR, 'current.json'), 'utf8'))
  const unsettled = Object.entries(manifest.stats ?? {}).filter(([, stat]) => stat === null)
  if (unsettled.length === 0) return
  const newest = Math.max(
    ...unsettled.map(([file]) => {
      const s = statSync(path.join(root, file))
      return Math.max(s.mtimeMs, s.ctimeMs)
    }),
  )
  const wait = Math.min(SETTLED_MS, newest + SETTLED_MS - Date.now()) + 100
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  checkBundle(root, { record: true })
}

/**
 * The bundle built from the files on disk now, if there is one: the path of its main.mjs
 * ({@link checkBundle}).
 * @param {string} [root] the project's root
 * @returns {string | undefined} undefined when there is no bundle or any input changed
 */
export function freshBundle(root = ROOT) {
  return checkBundle(root).main
}

/**
 * Rewrites what a source file asks of `import.meta` for its place in the bundle. Every chunk
 * lands in one folder, so `import.meta.url` becomes the source file's own URL, relative to
 * that folder: `new URL('../../views/', import.meta.url)` (views, assets, migrations, the docs,
 * package.json) still finds the same file, wherever the install was moved. `import.meta.main`
 * is false (the launcher calls `main()`); anything else has no meaning in a bundle and fails the
 * build rather than the server.
 * @param {string} text
 * @param {string} relativeUrl the source file, relative to the bundle's folder, as a URL path
 * @param {string} file for the error message
 */
function rewriteImportMeta(text, relativeUrl, file) {
  const out = text
    .replaceAll('import.meta.url', `new URL(${JSON.stringify(relativeUrl)}, import.meta.url).href`)
    .replaceAll('import.meta.main', 'false')
  const other = /import\.meta\.(?!url\b)(\w+)/.exec(out)
  if (other) throw new Error(`${file}: import.meta.${other[1]} is not supported in the bundle`)
  return out
}

/**
 * Builds the bundle of the files on disk and makes it the current one.
 * @param {string} [root] the project's root
 * @returns {Promise<string>} the path of the new bundle's main.mjs
 * @throws when esbuild is missing or fails, or the bundle dir is not writable
 */
export async function buildBundle(root = ROOT) {
  const esbuild = await import('esbuild')
  const dir = path.join(root, BUNDLE_DIR)
  mkdirSync(dir, { recursive: true })
  const tmp = path.join(dir, `.tmp-${process.pid}-${Date.now().toString(36)}`)
  /** @type {Map<string, Buffer>} */
  const read = new Map()
  /** @type {Record<string, string | null>} */
  const stats = {}
  const builtins = new Set(builtinModules)
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [ENTRY],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node24',
      outdir: tmp,
      // .mjs: the folder is under node_modules, where no package.json says "type": "module";
      // Node would otherwise parse each file twice to detect its format.
      outExtension: { '.js': '.mjs' },
      entryNames: 'main',
      chunkNames: '[name]-[hash]',
      external: EXTERNAL,
      // Smaller files to read and parse; identifiers and names stay (error classes are named
      // after their constructor, and stack traces stay readable).
      minifyWhitespace: true,
      minifySyntax: true,
      keepNames: true,
      metafile: true,
      logLevel: 'silent',
      // CommonJS code inside an ES module has no `require`; what esbuild cannot inline (a
      // `require(variable)`) resolves from the bundle's folder, up to the install's node_modules.
      banner: {
        js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
      },
      plugins: [
        {
          // Node's built-in modules through process.getBuiltinModule(), not `import`: an ES
          // import of node:http builds its ES facade by reading every export, and reading
          // http.WebSocket loads Node's internal undici (tens of ms at each start).
          name: 'builtins-as-commonjs',
          setup(build) {
            build.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
              const name = args.path.replace(/^node:/, '')
              if (!builtins.has(name) && !args.path.startsWith('node:')) return undefined
              return { path: `node:${name}`, namespace: 'builtin' }
            })
            build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
              contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)})`,
              loader: 'js',
            }))
          },
        },
        {
          // Our own files: record their bytes (the digest) and rewrite import.meta.
          name: 'sources',
          setup(build) {
            build.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
              const file = path.relative(root, args.path).split(path.sep).join('/')
              if (IN_PACKAGE.test(file)) return undefined
              stats[file] = recordStat(args.path) // before the read: see recordStat
              const bytes = readFileSync(args.path)
              read.set(file, bytes)
              const relativeUrl = path.relative(tmp, args.path).split(path.sep).join('/')
              const ext = path.extname(file)
              return {
                contents: rewriteImportMeta(bytes.toString('utf8'), relativeUrl, file),
                loader: ext.endsWith('ts') ? 'ts' : 'js',
              }
            })
          },
        },
      ],
    })
    // Every input outside node_modules must be one the plugin read, or the digest misses it.
    for (const input of Object.keys(result.metafile.inputs)) {
      if (IN_PACKAGE.test(input) || input.startsWith('builtin:')) continue
      if (!read.has(input)) throw new Error(`bundle input ${input} is not covered by its digest`)
    }
    const inputs = [...read.keys()]
    for (const file of KEY_FILES) stats[file] = recordStat(path.join(root, file)) // before digestOf reads them
    const digest = digestOf(root, inputs, (file) => /** @type {Buffer} */ (read.get(file)))
    writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(result.metafile))
    const final = path.join(dir, digest)
    try {
      renameSync(tmp, final)
    } catch (err) {
      // Another process built the same inputs first: theirs is the same bundle.
      const code = /** @type {NodeJS.ErrnoException} */ (err).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
      rmSync(tmp, { recursive: true, force: true })
    }
    /** @type {Manifest} */
    const manifest = { digest, dir: digest, inputs, stats }
    writeManifest(dir, manifest)
    prune(dir, digest)
    return path.join(final, 'main.mjs')
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

/**
 * Removes older bundles beyond the newest {@link KEEP}, and temporary folders a crashed build
 * left (older than an hour). Not every old bundle: a server still running from one loads its
 * lazy chunks from it later. Best effort.
 * @param {string} dir @param {string} current
 */
function prune(dir, current) {
  try {
    const entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== current)
      .map((e) => ({ name: e.name, mtime: statSync(path.join(dir, e.name)).mtimeMs }))
    const hourAgo = Date.now() - 3_600_000
    const stale = entries.filter((e) => e.name.startsWith('.tmp-') && e.mtime < hourAgo)
    const built = entries
      .filter((e) => !e.name.startsWith('.tmp-'))
      .sort((a, b) => b.mtime - a.mtime)
      .slice(KEEP - 1)
    for (const e of [...stale, ...built])
      rmSync(path.join(dir, e.name), { recursive: true, force: true })
  } catch {
    // A folder another process removed first, or a read-only cache: nothing to clean.
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  // npm's postinstall: build now, so the first start (and a read-only install, such as the
  // systemd unit's) finds the bundle fresh. A failure does not fail the install: the server
  // then runs from its sources, and says so at each start.
  let built = false
  if (checkBundle(ROOT, { record: true }).main) {
    process.stdout.write('sso-bridge: server bundle is up to date\n')
    built = true
  } else
    try {
      const main = await buildBundle()
      process.stdout.write(`sso-bridge: built the server bundle (${path.relative(ROOT, main)})\n`)
      built = true
    } catch (err) {
      process.stderr.write(
        `sso-bridge: could not build the server bundle (${err instanceof Error ? err.message : String(err)}); npm start will run the TypeScript sources, with a slower start\n`,
      )
    }
  if (built)
    await settleStats().catch(() => {
      // Best effort: without it, starts check the content, as they did before the stat check.
    })
}
