/**
 * `npm run bench`: account throughput of both stores, each beside a raw-driver baseline measured
 * in the same run, printed as a Markdown table for the README's performance section.
 *
 *   npm run bench                              # everything (~3–5 min on 2 cores)
 *   npm run bench -- --store sqlite            # one store only (sqlite | postgres)
 *   npm run bench -- --only import             # one group only (stores | import | mapping | tokens | platforms | oidc | saml | footprint | peers)
 *   npm run bench -- --users 20000 --quick     # smaller import, shorter rounds (a smoke run)
 *   npm run bench -- --breakdown               # also: where the import's time goes, stage by stage
 *   BENCH_DATABASE_URL=postgres://… npm run bench   # an existing server (role needs CREATEDB)
 *
 * Progress goes to stderr, the report to stdout. Exit code 0 unless a benchmark failed; a
 * PostgreSQL that cannot be had is reported loudly, and the SQLite results still printed.
 */
import os from 'node:os'
import { parseArgs } from 'node:util'
import { breakdownService, breakdownStore, breakdownTable, type Stage } from './breakdown.bench.ts'
import { makeDataset, makeHashes, ndjsonChunks } from './data.ts'
import { benchImport } from './import.bench.ts'
import {
  banner,
  int,
  log,
  machineLine,
  rateResultRow,
  resultsTable,
  seconds,
  timeOnce,
  type ResultRow,
} from './lib.ts'
import { findPostgresBin, openBenchPostgres, type BenchPostgres } from './postgres.ts'
import { benchStores, type StoresOptions } from './stores.bench.ts'
import type { AccountWrite } from '../../src/store/ports.ts'
import { postgresTarget, sqliteTarget, type Target } from './targets.ts'

/** The goal for the embedded store: 100,000 users imported in at most 20 s. */
const SQLITE_IMPORT_GOAL_S = 20

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'all' },
    only: { type: 'string', default: 'all' },
    users: { type: 'string', default: '100000' },
    quick: { type: 'boolean', default: false },
    breakdown: { type: 'boolean', default: false },
  },
})
const users = Number(args.users)
if (!Number.isInteger(users) || users < 1000) throw new Error('--users must be an integer ≥ 1000')
const wantStore = (s: string) => args.store === 'all' || args.store === s
const wantGroup = (g: string) => args.only === 'all' || args.only === g

const storesOptions: StoresOptions = args.quick
  ? { rounds: 3, warmupMs: 200, minMs: 300, minOps: 100 }
  : { rounds: 5, warmupMs: 500, minMs: 1000, minOps: 200 }

// A Ctrl-C still runs the 'exit' hooks that stop the cluster and remove temp files.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130))

const stages: Stage[] = []
let capturedWrites: AccountWrite[] = []

async function runTarget(
  target: Target,
  rows: ResultRow[],
  data: ReturnType<typeof makeDataset>,
  chunks: Buffer[],
) {
  if (wantGroup('stores')) rows.push(...(await benchStores(target, data, storesOptions)))
  if (wantGroup('import')) {
    const goalSeconds = target.name === 'SQLite' && users === 100_000 ? SQLITE_IMPORT_GOAL_S : null
    const { row, timing } = await benchImport(target, data, chunks, {
      warmupUsers: importWarmup,
      goalSeconds,
      rounds: importRounds,
    })
    rows.push(row)
    if (args.breakdown) {
      stages.push(
        {
          stage: 'full import: accounts.import (as in the table above)',
          store: target.name,
          seconds: timing.ours,
        },
        ...(await breakdownStore(target, data, capturedWrites)),
        {
          stage: 'raw INSERT, all rows in one transaction (the baseline above)',
          store: target.name,
          seconds: timing.baseline,
        },
      )
    }
  }
}

/** Runs one store's groups; a failure is reported and the other store still runs. */
async function guarded(name: string, failures: string[], fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (err) {
    failures.push(`${name}: ${(err as Error)?.message?.split('\n')[0] ?? String(err)}`)
    process.stderr.write(
      banner([
        `THE ${name.toUpperCase()} BENCHMARKS FAILED`,
        ...String((err as Error)?.stack ?? err).split('\n'),
      ]),
    )
  }
}

const importRounds = args.quick ? 1 : 3
const importWarmup = args.quick ? 1000 : 5000
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')

async function main(): Promise<number> {
  const started = performance.now()
  const loadBefore = load()
  log('sso-bridge benchmark: generating users…')
  const { seconds: genSeconds, result: generated } = await timeOnce(async () => {
    const data = makeDataset(users, await makeHashes())
    return { data, chunks: ndjsonChunks(data.bodies) }
  })
  const { data, chunks } = generated
  const bytes = chunks.reduce((n, c) => n + c.length, 0)
  log(
    `generated ${int(users)} users (${(bytes / 2 ** 20).toFixed(1)} MiB of NDJSON, ${data.hashes.length} distinct password hashes) in ${seconds(genSeconds)}`,
  )

  const rows: ResultRow[] = []
  const notes: string[] = []
  const failures: string[] = []
  const mappingRows: ResultRow[] = []
  let pgVersion: string | null = null

  if (args.breakdown && wantGroup('import')) {
    const service = await breakdownService(data, chunks)
    stages.push(...service.stages)
    capturedWrites = service.writes
  }
  if (wantGroup('mapping') && args.store === 'all') {
    // Each store-independent group is loaded on its own, so a broken one is reported without
    // costing the others or the store results.
    await guarded('mapping', failures, async () => {
      const { benchMapping } = await import('./mapping.bench.ts')
      log('[mapping] compiled 20-rule mapping vs hand-written code…')
      for (const m of await benchMapping(
        args.quick ? { warmupMs: 100, rounds: 3, minMs: 300 } : undefined,
      ))
        // The mapping rows' ratio is of the medians (its rounds are ~1 s of µs-scale work).
        mappingRows.push(rateResultRow({ ...m, ratio: m.ours / m.baseline }))
    })
  }

  if (wantGroup('tokens') && args.store === 'all') {
    await guarded('tokens', failures, async () => {
      const { benchTokens } = await import('./tokens.bench.ts')
      log(
        '[tokens] zero-click and HS256 issue vs raw crypto; token API vs express hello over HTTP…',
      )
      for (const m of await benchTokens(
        args.quick ? { warmupMs: 100, rounds: 3, minMs: 300, concurrency: 16 } : undefined,
      ))
        mappingRows.push(rateResultRow(m))
    })
  }

  if (wantGroup('platforms') && args.store === 'all') {
    // Each catalogue platform's token vs its bare HMAC or node:crypto JWT (#15).
    await guarded('platforms', failures, async () => {
      const { benchPlatforms, DEFAULT_PLATFORM_OPTIONS, QUICK_PLATFORM_OPTIONS } =
        await import('./platforms.bench.ts')
      log('[platforms] each platform token vs its bare HMAC / JWT, in process (CPU time)…')
      for (const m of await benchPlatforms(
        args.quick ? QUICK_PLATFORM_OPTIONS : DEFAULT_PLATFORM_OPTIONS,
      ))
        mappingRows.push(rateResultRow(m))
    })
  }

  if (wantGroup('oidc') && wantStore('sqlite')) {
    // oidc.bench.ts: the app over SQLite beside a bare oidc-provider.
    await guarded('oidc', failures, async () => {
      const { benchOidc, oidcNotes, DEFAULT_OIDC_OPTIONS, QUICK_OIDC_OPTIONS } =
        await import('./oidc.bench.ts')
      const o = args.quick ? QUICK_OIDC_OPTIONS : DEFAULT_OIDC_OPTIONS
      log('[oidc] refresh / user-info vs a bare oidc-provider, sign-ins vs argon2id verify…')
      for (const m of await benchOidc(o)) mappingRows.push(rateResultRow(m, m.store))
      notes.push(...oidcNotes(o))
    })
  }

  if (wantGroup('saml') && args.store === 'all') {
    await guarded('saml', failures, async () => {
      const { benchSaml } = await import('./saml.bench.ts')
      log(
        '[saml] signed login Responses vs raw RSA-2048 crypto.sign, inbound request checks vs a bare parse…',
      )
      for (const m of await benchSaml(
        args.quick ? { warmupMs: 200, rounds: 3, minMs: 300 } : undefined,
      ))
        mappingRows.push(
          rateResultRow({ ...m, baselineUnit: m.baselineUnit ?? 'RSA signatures/s' }),
        )
    })
  }

  if (wantGroup('footprint') && args.store === 'all') {
    // footprint.bench.ts: real server processes beside bare Node ones (RSS, start time).
    await guarded('footprint', failures, async () => {
      const { benchFootprint, DEFAULT_FOOTPRINT_OPTIONS, QUICK_FOOTPRINT_OPTIONS } =
        await import('./footprint.bench.ts')
      const o = args.quick ? QUICK_FOOTPRINT_OPTIONS : DEFAULT_FOOTPRINT_OPTIONS
      log(
        `[footprint] idle RSS and cold start vs bare Node, RSS after ${o.loadSeconds} s of token API load…`,
      )
      for (const m of await benchFootprint(o)) {
        mappingRows.push({
          benchmark: m.name,
          store: 'SQLite',
          ours: m.ours,
          baseline: m.baseline,
          ratio: m.ratio,
          goal: m.goal,
        })
      }
      notes.push(
        'footprint rows: ratio = ours ÷ baseline as size or time (lower is better; 2.00 = twice the bare process).',
      )
    })
  }

  if (wantGroup('peers') && args.store === 'all') {
    // peers.bench.ts: sso-bridge beside SimpleSAMLphp 1.19 (Debian's nginx + php-fpm), #13.
    try {
      const { benchPeers, DEFAULT_PEERS_OPTIONS, QUICK_PEERS_OPTIONS } =
        await import('./peers.bench.ts')
      log('[peers] signed SAML Responses/s, memory and start vs SimpleSAMLphp 1.19…')
      const r = await benchPeers(args.quick ? QUICK_PEERS_OPTIONS : DEFAULT_PEERS_OPTIONS)
      for (const m of r.rows) {
        mappingRows.push({
          benchmark: m.name,
          store: 'SQLite',
          ours: m.ours,
          baseline: `${m.peer} (SimpleSAMLphp 1.19)`,
          ratio: m.ratio,
          goal: `${m.better} is better`,
        })
      }
      notes.push(
        'peers rows: ratio = sso-bridge ÷ SimpleSAMLphp, measured in the same run (Responses/s: higher is better; memory and time: lower is better, whatever the ratio column says about slower).',
        ...r.notes,
      )
    } catch (err) {
      failures.push(
        `peers benchmark failed: ${(err as Error)?.message?.split('\n')[0] ?? String(err)}`,
      )
      process.stderr.write(
        banner(['THE PEERS BENCHMARK FAILED', String((err as Error)?.stack ?? err)]),
      )
    }
  }

  if (wantStore('sqlite'))
    await guarded('SQLite', failures, () => runTarget(sqliteTarget(), rows, data, chunks))

  if (wantStore('postgres')) {
    const bin = findPostgresBin()
    let server: BenchPostgres | null = null
    try {
      server = await openBenchPostgres(bin)
    } catch (err) {
      const why = (err as Error).message.split('\n')[0]
      const lines = [
        'POSTGRESQL WAS NOT BENCHMARKED',
        '',
        bin
          ? `Starting a throwaway cluster from ${bin} failed: ${why}`
          : 'No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found under',
        ...(bin
          ? []
          : ['/usr/lib/postgresql/*/bin, $PG_BIN or $PATH, and BENCH_DATABASE_URL is not set.']),
        'Fix: apt-get install postgresql   (or)   BENCH_DATABASE_URL=postgres://… npm run bench',
      ]
      process.stderr.write(banner(lines))
      notes.push(
        '**PostgreSQL was not benchmarked** (no server available in this run; see stderr).',
      )
    }
    if (server) {
      try {
        pgVersion = server.version
        log(`[PostgreSQL] ${server.version}: ${server.source}`)
        await guarded('PostgreSQL', failures, () =>
          runTarget(postgresTarget(server), rows, data, chunks),
        )
      } finally {
        await server.stop()
      }
    }
  }

  const machine = machineLine(pgVersion ? [pgVersion] : [])
  const out = [
    '',
    `### Benchmark results (\`npm run bench\`, ${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine}`,
    '',
    resultsTable([...rows, ...mappingRows]),
    '',
    '- ratio = our throughput ÷ baseline throughput, both measured in this run (1.00 = as fast as the raw driver); for the',
    '  rate rows, the median of the per-round ratios (each round of ours ran next to one of the baseline).',
    '- upsert/s: `accounts.put(external_id, body)` of a new user (full profile, pre-hashed argon2id password; validation,',
    "  normalization and the store's `INSERT … ON CONFLICT … RETURNING`), vs one prepared, autocommitted `INSERT` of the same",
    '  columns with pre-normalized values (node:sqlite / pg, sequential, one round trip each).',
    '- read/s: `accounts.get(external_id)` of random existing users vs the same `SELECT` by external_id, unmapped.',
    `  Both sides: median of ${storesOptions.rounds} alternating rounds of ≥ ${storesOptions.minMs} ms after a warm-up.`,
    `- import: ${int(users)} generated users as NDJSON from memory through \`accounts.import(readImport(stream, 'ndjson'), { atomic: false })\`,`,
    '  vs the same rows inserted raw in one transaction (node:sqlite: prepared INSERT per row; pg: 1,000-row multi-row INSERTs).',
    `  Median of ${importRounds} run(s) per side, each into a fresh database, after a ${int(importWarmup)}-user warm-up.`,
    '- SQLite: a temp file opened as the store opens it (WAL, synchronous=NORMAL).' +
      (pgVersion === null
        ? ''
        : ` PostgreSQL: ${process.env.BENCH_DATABASE_URL ? 'the server at BENCH_DATABASE_URL' : 'a throwaway local cluster with default settings (fsync and synchronous_commit on), over TCP on 127.0.0.1'}.`),
    `- Load average (1/5/15 min) at start: ${loadBefore}; at end: ${load()} (other work on the machine skews both sides alike, but adds noise).`,
    ...notes.map((n) => `- ${n}`),
    ...failures.map((f) => `- **FAILED:** ${f}`),
    '',
  ].join('\n')
  process.stdout.write(out)
  if (stages.length > 0) {
    process.stdout.write(
      `\n#### Where the import time goes (\`--breakdown\`; stages run once each)\n\n${breakdownTable(stages, users)}\n`,
    )
  }
  log(`benchmark finished in ${seconds((performance.now() - started) / 1000)}`)
  return failures.length > 0 ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`\nbenchmark failed: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(1)
  },
)
