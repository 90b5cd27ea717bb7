/**
 * The server's footprint, each figure beside a baseline measured in the same run, as real
 * processes of the same Node (node_modules/.bin/node):
 *
 * 1. idle RSS after start: the server started as `npm start` starts it (the flags, environment
 *    and entry of package.json's `start` script: scripts/start.js, which runs the bundle of src/),
 *    2 s after its first `/healthz` 200, vs a bare Node process that only idles. Goal ≤ 2.0×. The
 *    ceiling row is a process that only imports oidc-provider and express, builds a Provider and
 *    listens: what any server on this stack starts at.
 * 2. cold start: spawn to the first `/healthz` 200 (bundle built, compile cache warm, keys
 *    already generated: every start but the first after an install), vs a bare node:http server
 *    of the same Node answering its first request. Goal ≤ 3×. Beside it, in the same rounds: the
 *    ceiling process, and express alone (what of the ceiling is oidc-provider and its koa); the
 *    same start without `--max-semi-space-size` (and its idle RSS: the flag trades one for the
 *    other, docs/performance.md); the server run from its
 *    sources (`node src/main.ts`, what `npm start` ran before the bundle); the first start after
 *    an install (empty compile cache); a bare server that loads node:http with `require`
 *    (an ES import of node:http loads Node's internal undici: the baseline pays for it); and
 *    the time to build the bundle (`node scripts/bundle.js`: npm's postinstall, or a start after
 *    a source changed).
 * 3. RSS after `loadSeconds` of the token API (`POST /api/v1/integrations/…/tokens`, Minnit
 *    zero-click, keep-alive, `concurrency` in flight) from this process, vs the bare node:http
 *    server under the same closed loop for the same time. Goal ≤ 200 MB.
 *
 * Runs are interleaved (ours, baseline, ours, …) and the median of each side reported, so other
 * load on the machine hits both alike. RSS is VmRSS from /proc (Linux only: elsewhere the RSS rows
 * say so and only the start times are measured).
 *
 *   node test/bench/footprint.bench.ts [--quick]     # prints a small table
 *
 * `test/bench/run.ts` imports {@link benchFootprint} (`npm run bench -- --only footprint`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { load } from './tokens.bench.ts'
import { markdownTable, median } from './lib.ts'

/** scripts/bundle.js's folder of bundles (its manifest, current.json, says which is current). */
const BUNDLE_DIR = 'node_modules/.cache/sso-bridge/server'

const ROOT = path.resolve(import.meta.dirname, '../..')
const NODE = path.join(ROOT, 'node_modules/.bin/node')
const ADMIN = 'bench-admin-token-0123456789abcdef'
/** Time between the first answer and the idle RSS reading: start-up garbage has been collected. */
const SETTLE_MS = 2000

const GOAL_IDLE_RATIO = 2
const GOAL_START_RATIO = 3
const GOAL_LOADED_MB = 200

export interface FootprintOptions {
  /** Measured starts per side (after one warm-up start each). */
  runs: number
  /** Length of the load phase, seconds (the figure is 60). */
  loadSeconds: number
  /** Requests in flight during the load phase. */
  concurrency: number
}

export const DEFAULT_FOOTPRINT_OPTIONS: FootprintOptions = {
  runs: 5,
  loadSeconds: 60,
  concurrency: 16,
}
export const QUICK_FOOTPRINT_OPTIONS: FootprintOptions = {
  runs: 2,
  loadSeconds: 10,
  concurrency: 16,
}

/** One row; `ratio` is ours ÷ baseline (for memory and time: lower is better). */
export interface FootprintRow {
  name: string
  ours: string
  baseline: string
  ratio: number
  goal: string
}

/**
 * The node flags, environment and entry of package.json's `start` script (`VAR=value … exec
 * node <flags> <entry>`), so the bench starts the server exactly as `npm start` does.
 */
export function startCommand(root = ROOT): {
  env: Record<string, string>
  args: string[]
  entry: string
} {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string }
  }
  const words = pkg.scripts.start.trim().split(/\s+/)
  const env: Record<string, string> = {}
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
    const [name, ...value] = words.shift()!.split('=')
    env[name!] = value.join('=')
  }
  if (words[0] === 'exec') words.shift()
  const entry = words.pop()
  if (words.shift() !== 'node' || !entry || entry.startsWith('-'))
    throw new Error(`unexpected start script: ${pkg.scripts.start}`)
  return { env, args: words, entry }
}

interface Started {
  child: ChildProcess
  port: number
  /** Spawn to the first 200 from GET /healthz, ms. */
  startMs: number
  /**
   * CPU time of the process's main thread by then, ms (/proc/<pid>/schedstat; NaN off Linux):
   * what the start cost the thread that answers, which other load on the machine does not inflate
   * as much as the wall time.
   */
  cpuMs: number
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))))
    })
  })

const get = (port: number, p: string) =>
  new Promise<number>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', () => resolve(0))
  })

/** Spawns `args` with PORT set and polls /healthz until it answers 200. */
async function startProcess(args: string[], env: Record<string, string>): Promise<Started> {
  const port = await freePort()
  const t0 = performance.now()
  const child = spawn(NODE, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  let exited = false
  child.once('exit', () => (exited = true))
  for (;;) {
    if (exited) throw new Error(`${args.join(' ')} exited before answering:\n${err}`)
    if ((await get(port, '/healthz')) === 200) break
    await new Promise((r) => setTimeout(r, 2))
  }
  const startMs = performance.now() - t0
  return { child, port, startMs, cpuMs: mainThreadCpuMs(child.pid!) }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await gone
}

/** CPU time the main thread of a process has used, ms, or NaN off Linux. */
function mainThreadCpuMs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return NaN
  }
}

/** VmRSS of a process in MiB, or NaN off Linux. */
function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}

const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS))

// The baselines, as code for `node --input-type=module -e` in the project root (so the ceiling
// resolves oidc-provider and express from this install).
const BARE_IDLE = 'setInterval(() => {}, 1 << 30)'
const BARE_HTTP =
  "import http from 'node:http'; http.createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')"
/** The same server taking node:http with `require`: no ES facade, so Node's undici stays unloaded. */
const BARE_HTTP_REQUIRE =
  "const http = process.getBuiltinModule('node:http'); http.createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')"
/** The ceiling without oidc-provider: express alone, the same route, listening. */
const EXPRESS_ONLY = [
  "import express from 'express'",
  'const app = express()',
  "app.get('/healthz', (q, s) => s.send('ok'))",
  "app.listen(Number(process.env.PORT), '127.0.0.1')",
].join('; ')
const CEILING = [
  "import express from 'express'",
  "import Provider from 'oidc-provider'",
  'const app = express()',
  "const provider = new Provider('http://127.0.0.1', { clients: [] })",
  "app.get('/healthz', (q, s) => s.send('ok'))",
  'app.use(provider.callback())',
  "app.listen(Number(process.env.PORT), '127.0.0.1')",
].join('; ')
const inline = (code: string) => ['--input-type=module', '-e', code]

/** A bare idle Node process: RSS after the same settle time (it has no /healthz: spawn and wait). */
async function bareIdleRss(): Promise<number> {
  const child = spawn(NODE, inline(BARE_IDLE), { cwd: ROOT, stdio: 'ignore' })
  await new Promise((r) => child.once('spawn', r))
  await settle()
  const rss = rssMb(child.pid!)
  await stop(child)
  return rss
}

/**
 * One build of the bundle as npm's postinstall runs it, ms: the manifest that says which bundle
 * is current is removed first, so scripts/bundle.js builds (into a temporary folder; the result
 * is the bundle already there, which it keeps).
 */
async function timeBuild(): Promise<number> {
  rmSync(path.join(ROOT, BUNDLE_DIR, 'current.json'), { force: true })
  const t0 = performance.now()
  const child = spawn(NODE, ['scripts/bundle.js'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  const code = await new Promise<number | null>((r) => child.once('exit', r))
  if (code !== 0 || err) throw new Error(`scripts/bundle.js failed (${code}):\n${err}`)
  return performance.now() - t0
}

/** Runs the whole measurement; see the module doc. */
export async function benchFootprint(
  o: FootprintOptions = DEFAULT_FOOTPRINT_OPTIONS,
): Promise<FootprintRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sso-bridge-footprint-'))
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  process.once('exit', cleanup)
  try {
    const start = startCommand()
    const cacheDir = path.join(dir, 'compile-cache')
    const serverEnv = (cache: string) => ({
      ...start.env,
      // The script's cache directory is relative to the project; the bench uses its own.
      ...('NODE_COMPILE_CACHE' in start.env ? { NODE_COMPILE_CACHE: cache } : {}),
      DATA_DIR: path.join(dir, 'data'),
      KEYS_DIR: path.join(dir, 'keys'),
      ADMIN_TOKEN: ADMIN,
    })
    const ours = (cache = cacheDir, flags = start.args) =>
      startProcess([...flags, start.entry], serverEnv(cache))
    const fromSources = () => startProcess([...start.args, 'src/main.ts'], serverEnv(cacheDir))
    const noSemiSpace = start.args.filter((a) => !a.startsWith('--max-semi-space-size'))
    const semiSpaceFlag =
      start.args.find((a) => a.startsWith('--max-semi-space-size')) ?? '--max-semi-space-size'

    // Warm-up: the first start generates the keys, builds the bundle if it is stale and fills
    // the compile cache (for the bundle and for the sources).
    await stop((await ours()).child)
    await stop((await fromSources()).child)
    await stop((await startProcess(inline(BARE_HTTP), {})).child)

    const oursIdle: number[] = []
    const oursStart: number[] = []
    const bareIdle: number[] = []
    const bareStart: number[] = []
    const ceilingIdle: number[] = []
    const ceilingStart: number[] = []
    const emptyCacheStart: number[] = []
    const noSemiSpaceStart: number[] = []
    const noSemiSpaceIdle: number[] = []
    const expressStart: number[] = []
    const sourcesStart: number[] = []
    const bareRequireStart: number[] = []
    const buildMs: number[] = []
    const oursCpu: number[] = []
    const bareCpu: number[] = []
    const ceilingCpu: number[] = []
    const sourcesCpu: number[] = []
    // Each round runs every start once, in an order rotated by one place per round: the first
    // start of a round measured 40-60 ms slower than the same start later in it on a quiet
    // machine (2026-12-05, docs/performance.md), so a fixed order charged that to one row.
    const steps: ((r: number) => Promise<void>)[] = [
      async () => {
        const s = await ours()
        oursStart.push(s.startMs)
        oursCpu.push(s.cpuMs)
        await settle()
        oursIdle.push(rssMb(s.child.pid!))
        await stop(s.child)
      },
      async () => {
        const b = await startProcess(inline(BARE_HTTP), {})
        bareStart.push(b.startMs)
        bareCpu.push(b.cpuMs)
        await stop(b.child)
        bareIdle.push(await bareIdleRss())
      },
      async () => {
        const c = await startProcess(inline(CEILING), {})
        ceilingStart.push(c.startMs)
        ceilingCpu.push(c.cpuMs)
        await settle()
        ceilingIdle.push(rssMb(c.child.pid!))
        await stop(c.child)
      },
      async (r) => {
        const e = await ours(path.join(dir, `empty-cache-${r}`))
        emptyCacheStart.push(e.startMs)
        await stop(e.child)
      },
      async () => {
        const n = await ours(cacheDir, noSemiSpace)
        noSemiSpaceStart.push(n.startMs)
        await settle()
        noSemiSpaceIdle.push(rssMb(n.child.pid!))
        await stop(n.child)
      },
      async () => {
        const x = await startProcess(inline(EXPRESS_ONLY), {})
        expressStart.push(x.startMs)
        await stop(x.child)
      },
      async () => {
        const f = await fromSources()
        sourcesStart.push(f.startMs)
        sourcesCpu.push(f.cpuMs)
        await stop(f.child)
      },
      async () => {
        const q = await startProcess(inline(BARE_HTTP_REQUIRE), {})
        bareRequireStart.push(q.startMs)
        await stop(q.child)
      },
    ]
    for (let r = 0; r < o.runs; r++)
      for (let k = 0; k < steps.length; k++) await steps[(k + r) % steps.length]!(r)
    // The builds after every start round, not inside one: a build writes the bundle again, so the
    // next start could be the first after it, counted as a warm start.
    for (let r = 0; r < o.runs; r++) buildMs.push(await timeBuild())

    // Load: the token API of a fresh start, then the bare server under the same loop.
    const s = await ours()
    const put = async (p: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${s.port}${p}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (!res.ok) throw new Error(`PUT ${p}: ${res.status} ${await res.text()}`)
    }
    await put('/api/v1/integrations/minnit', {
      type: 'minnit-zero-click',
      settings: { chat_url: 'https://organizations.minnit.chat/626811533994618/c/Main' },
      secrets: { encryption_key: 'z8pkH$jjNEWEEEe*DwThe4K2iDtjDwYQ' },
    })
    await put('/api/v1/users/42', { username: 'Rob', email: 'rob@example.com', rank: 'moderator' })
    const body = JSON.stringify({ external_id: '42' })
    const tokenReq = {
      method: 'POST',
      path: '/api/v1/integrations/minnit/tokens',
      headers: {
        Authorization: `Bearer ${ADMIN}`,
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      },
      body,
    }
    const oursRate = await load(s.port, tokenReq, o.concurrency, o.loadSeconds * 1000)
    const oursLoaded = rssMb(s.child.pid!)
    await stop(s.child)
    const b = await startProcess(inline(BARE_HTTP), {})
    const bareRate = await load(
      b.port,
      { method: 'POST', path: '/', headers: tokenReq.headers, body },
      o.concurrency,
      o.loadSeconds * 1000,
    )
    const bareLoaded = rssMb(b.child.pid!)
    await stop(b.child)

    const mb = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)} MB` : 'n/a (no /proc)')
    const ms = (n: number) => `${n.toFixed(0)} ms`
    const verdict = (met: boolean) => (met ? 'met' : '**not met**')
    const idle = median(oursIdle)
    const bare = median(bareIdle)
    const ceiling = median(ceilingIdle)
    const bareMs = median(bareStart)
    const startRatio = median(oursStart) / bareMs
    const startRow = (name: string, samples: number[]): FootprintRow => ({
      name,
      ours: ms(median(samples)),
      baseline: `${ms(bareMs)} (bare node:http server)`,
      ratio: median(samples) / bareMs,
      goal: '—',
    })
    const cpuRow = (name: string, samples: number[]): FootprintRow => ({
      name,
      ours: ms(median(samples)),
      baseline: `${ms(median(bareCpu))} (bare node:http server)`,
      ratio: median(samples) / median(bareCpu),
      goal: '—',
    })
    return [
      {
        name: 'idle RSS after start (`npm start`, 2 s after the first /healthz)',
        ours: mb(idle),
        baseline: `${mb(bare)} (bare idle node)`,
        ratio: idle / bare,
        goal: `≤ ${GOAL_IDLE_RATIO}.0×: ${verdict(idle / bare <= GOAL_IDLE_RATIO)}`,
      },
      {
        name: '*ceiling:* a process that only imports oidc-provider + express and listens',
        ours: mb(ceiling),
        baseline: `${mb(bare)} (bare idle node)`,
        ratio: ceiling / bare,
        goal: '—',
      },
      {
        name: `idle RSS of the same start without \`${semiSpaceFlag}\``,
        ours: mb(median(noSemiSpaceIdle)),
        baseline: `${mb(bare)} (bare idle node)`,
        ratio: median(noSemiSpaceIdle) / bare,
        goal: '—',
      },
      {
        name: 'cold start to the first /healthz 200 (`npm start`: the bundle, compile cache warm)',
        ours: ms(median(oursStart)),
        baseline: `${ms(bareMs)} (bare node:http server)`,
        ratio: startRatio,
        goal: `≤ ${GOAL_START_RATIO}×: ${verdict(startRatio <= GOAL_START_RATIO)}`,
      },
      startRow('*ceiling:* cold start of the oidc-provider + express process', ceilingStart),
      startRow('*of which express alone* (the same process without oidc-provider)', expressStart),
      cpuRow('main-thread CPU to the first /healthz 200 (`npm start`)', oursCpu),
      cpuRow('main-thread CPU, the oidc-provider + express process (ceiling)', ceilingCpu),
      cpuRow('main-thread CPU, the server from its sources (`node src/main.ts`)', sourcesCpu),
      startRow(`the same start without \`${semiSpaceFlag}\``, noSemiSpaceStart),
      startRow(
        'the same server from its sources (`node src/main.ts`, compile cache warm)',
        sourcesStart,
      ),
      startRow('first start after an install (bundle built, empty compile cache)', emptyCacheStart),
      startRow(
        'building the bundle (`node scripts/bundle.js`: postinstall, or a start after an edit)',
        buildMs,
      ),
      startRow(
        '*for reference:* a bare node:http server that takes node:http with `require` (no undici)',
        bareRequireStart,
      ),
      {
        name: `RSS after ${o.loadSeconds} s of token API load (${o.concurrency} in flight; ${Math.round(oursRate)} req/s vs ${Math.round(bareRate)} req/s)`,
        ours: mb(oursLoaded),
        baseline: `${mb(bareLoaded)} (bare node:http server, same load)`,
        ratio: oursLoaded / bareLoaded,
        goal: `≤ ${GOAL_LOADED_MB} MB: ${verdict(oursLoaded <= GOAL_LOADED_MB)}`,
      },
    ]
  } finally {
    process.removeListener('exit', cleanup)
    cleanup()
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
  const rows = await benchFootprint(values.quick ? QUICK_FOOTPRINT_OPTIONS : undefined)
  process.stdout.write(
    `${markdownTable(
      ['benchmark', 'ours', 'baseline', 'ratio (ours ÷ baseline)', 'goal'],
      rows.map((r) => [r.name, r.ours, r.baseline, r.ratio.toFixed(2), r.goal]),
    )}\n`,
  )
}
