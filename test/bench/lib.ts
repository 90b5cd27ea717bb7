/**
 * Timing helpers for `npm run bench`. Speed is only ever reported as a ratio to a baseline
 * measured in the same run on the same machine, never as an absolute pass/fail.
 *
 * A measurement warms both sides up, then runs `rounds` rounds, alternating which side goes
 * first so slow drift (page cache, checkpoints, CPU frequency) hits both alike, and reports the
 * median ops/s of each side and the median of the per-round ratios. A round lasts until it has
 * done at least `minOps` operations and `minMs` milliseconds, or `maxOps` operations, whichever
 * comes first.
 *
 * A round is timed by the wall clock, or with `clock: 'cpu'` by the process's CPU time (user +
 * system, every thread: V8's GC helpers and libuv's pool included). CPU time is for in-process
 * work on one thread while other processes load the machine: it counts the work, not the turns
 * the scheduler gave to others.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { DatabaseSync } from 'node:sqlite'

/** One operation; `i` counts up from 0 on each side, so operations can use fresh data. */
export type Op = (i: number) => unknown

export interface RoundOptions {
  warmupMs: number
  rounds: number
  minMs: number
  minOps: number
  maxOps: number
  /** What a round's milliseconds are (module doc); default `wall`. */
  clock?: 'wall' | 'cpu'
}

/** Milliseconds of the process's CPU time (user + system, all threads). */
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

export interface Rate {
  /** Median ops/s over the rounds. */
  perSec: number
  /** ops/s of each round, in order. */
  rounds: number[]
  /** Operations done in the measured rounds (warm-up excluded). */
  ops: number
  /** Operations done in total (warm-up included): the next free index. */
  used: number
}

/** Runs `op` until the round's limits are reached; awaits only operations that return a promise. */
async function round(
  op: Op,
  from: number,
  o: Pick<RoundOptions, 'minMs' | 'minOps' | 'maxOps' | 'clock'>,
): Promise<{ ops: number; ms: number }> {
  const cpu = o.clock === 'cpu'
  const now = cpu ? cpuMs : () => performance.now()
  // Check the clock every few ops only: reading it is not free next to a µs-scale op (the CPU
  // clock is a system call, ~1 µs: read it less often still).
  const every = cpu ? 128 : 16
  const t0 = now()
  let n = 0
  for (;;) {
    for (let k = 0; k < every && n < o.maxOps; k++) {
      const r = op(from + n++)
      if (r instanceof Promise) await r
    }
    const ms = now() - t0
    if (n >= o.maxOps || (n >= o.minOps && ms >= o.minMs)) return { ops: n, ms }
  }
}

/** Measures `ours` and `baseline` in alternating rounds; see the module doc. */
export async function measurePair(
  ours: Op,
  baseline: Op,
  o: RoundOptions,
): Promise<{ ours: Rate; baseline: Rate; ratio: number }> {
  interface Side {
    op: Op
    next: number
    rates: number[]
    ops: number
  }
  const a: Side = { op: ours, next: 0, rates: [], ops: 0 }
  const b: Side = { op: baseline, next: 0, rates: [], ops: 0 }
  for (const s of [a, b]) {
    const w = await round(s.op, s.next, {
      minMs: o.warmupMs,
      minOps: 16,
      maxOps: Math.max(16, Math.floor(o.maxOps / 4)),
      clock: o.clock,
    })
    s.next += w.ops
  }
  for (let r = 0; r < o.rounds; r++) {
    for (const s of r % 2 === 0 ? [a, b] : [b, a]) {
      const { ops, ms } = await round(s.op, s.next, o)
      s.next += ops
      s.ops += ops
      s.rates.push((ops / ms) * 1000)
    }
  }
  const rate = (s: Side): Rate => ({
    perSec: median(s.rates),
    rounds: s.rates,
    ops: s.ops,
    used: s.next,
  })
  // Rounds r of both sides ran back to back, so their quotient is the comparison least moved by
  // drift (other load, fsync latency); the median of those quotients is the reported ratio.
  const ratio = median(a.rates.map((x, r) => x / b.rates[r]!))
  return { ours: rate(a), baseline: rate(b), ratio }
}

/** Wall-clock seconds of one async run. */
export async function timeOnce<T>(
  fn: () => Promise<T> | T,
): Promise<{ seconds: number; result: T }> {
  const t0 = performance.now()
  const result = await fn()
  return { seconds: (performance.now() - t0) / 1000, result }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Small deterministic PRNG (mulberry32), so every run generates the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

export interface ResultRow {
  benchmark: string
  store: string
  ours: string
  baseline: string
  /** ours ÷ baseline as throughput (1.00 = as fast as the raw baseline; 0.25 = 4× slower). */
  ratio: number
  goal: string
}

const fmt0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const fmt1 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })
const fmt2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

export const perSec = (n: number) => `${n >= 100 ? fmt0.format(n) : fmt1.format(n)} ops/s`
export const seconds = (s: number) => `${s >= 10 ? fmt1.format(s) : fmt2.format(s)} s`
export const usersPerSec = (n: number) => `${fmt0.format(n)} users/s`
export const int = (n: number) => fmt0.format(n)

export function ratioText(r: number): string {
  if (!Number.isFinite(r)) return 'n/a'
  return r >= 0.995 ? `${fmt2.format(r)}` : `${fmt2.format(r)} (${fmt1.format(1 / r)}× slower)`
}

/** A Markdown table (pipes escaped), columns padded so it also reads well in a terminal. */
export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|')
  const all = [header, ...rows].map((r) => r.map(esc))
  const widths = header.map((_, c) => Math.max(3, ...all.map((r) => [...(r[c] ?? '')].length)))
  const line = (r: string[]) =>
    `| ${r.map((cell, c) => cell + ' '.repeat(widths[c]! - [...cell].length)).join(' | ')} |`
  return [
    line(all[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...all.slice(1).map(line),
  ].join('\n')
}

/** A rate measured beside its baseline (the in-process benches), before formatting. */
export interface RateRow {
  name: string
  ours: number
  baseline: number
  /** Median of per-round ratios (rounds ran back to back). */
  ratio: number
  /** What one operation of ours is (`tokens/s`). */
  unit: string
  /** What one operation of the baseline is, when it differs from `unit`. */
  baselineUnit?: string
  /** What the baseline is, shown beside its rate when given. */
  baselineName?: string
  goal: string
}

const rate = (n: number, unit: string) => perSec(n).replace('ops/s', unit)

/** A {@link RateRow} as a row of `npm run bench`'s table. */
export function rateResultRow(r: RateRow, store = '—'): ResultRow {
  return {
    benchmark: r.name,
    store,
    ours: rate(r.ours, r.unit),
    baseline:
      rate(r.baseline, r.baselineUnit ?? r.unit) + (r.baselineName ? ` (${r.baselineName})` : ''),
    ratio: r.ratio,
    goal: r.goal,
  }
}

/** {@link RateRow}s as the small table a bench module prints when run on its own. */
export function rateTable(rows: RateRow[], first = 'benchmark'): string {
  return markdownTable(
    [first, 'ours', 'baseline (same run)', 'ratio', 'goal'],
    rows.map((r) => {
      const row = rateResultRow(r)
      return [row.benchmark, row.ours, row.baseline, ratioText(row.ratio), row.goal]
    }),
  )
}

export function resultsTable(rows: ResultRow[]): string {
  return markdownTable(
    ['benchmark', 'store', 'ours', 'baseline', 'ratio', 'goal'],
    rows.map((r) => [r.benchmark, r.store, r.ours, r.baseline, ratioText(r.ratio), r.goal]),
  )
}

/** "CPU model, N cores, RAM, OS, Node, SQLite" as one line for the README. */
export function machineLine(extra: string[] = []): string {
  let cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU'
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (m) cpu = m[1]!.trim()
  } catch {
    // not Linux: os.cpus() it is
  }
  const db = new DatabaseSync(':memory:')
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  db.close()
  const ram = Math.round(os.totalmem() / 2 ** 30)
  return [
    `${cpu}, ${os.availableParallelism()} cores`,
    `${ram} GiB RAM`,
    `${os.type()} ${os.release()} (${os.arch()})`,
    `Node ${process.version}`,
    `SQLite ${sqlite} (node:sqlite)`,
    ...extra,
  ].join(' · ')
}

export function banner(lines: string[]): string {
  const bar = '!'.repeat(78)
  return ['', bar, ...lines.map((l) => `!!  ${l}`), bar, ''].join('\n')
}

export const log = (msg: string) => process.stderr.write(`${msg}\n`)
