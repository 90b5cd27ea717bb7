/**
 * Bulk import of generated users (NDJSON from memory, pre-hashed passwords) through
 * `accounts.import(readImport(stream, 'ndjson'), { atomic: false })`, beside the raw driver
 * inserting the same rows in one transaction (node:sqlite: a prepared INSERT per row; pg:
 * 1,000-row multi-row INSERTs). A few timed runs each (median), after a small warm-up import on a
 * scratch pair.
 */
import { readImport } from '../../src/accounts/import-formats.ts'
import type { AccountService } from '../../src/accounts/service.ts'
import { makeDataset, ndjsonChunks, streamOf, type Dataset } from './data.ts'
import { int, log, median, seconds, timeOnce, usersPerSec, type ResultRow } from './lib.ts'
import type { Target } from './targets.ts'

export interface ImportOptions {
  /** Users imported in the warm-up (on a scratch pair, not timed). */
  warmupUsers: number
  /** Goal for our import time in seconds, or null when there is none. */
  goalSeconds: number | null
  /** Timed imports per side, each into a fresh database; the median is reported. */
  rounds: number
}

export interface ImportTiming {
  users: number
  /** Median seconds. */
  ours: number
  baseline: number
  oursRuns: number[]
  baseRuns: number[]
}

export async function benchImport(
  target: Target,
  data: Dataset,
  chunks: Buffer[],
  o: ImportOptions,
): Promise<{ row: ResultRow; timing: ImportTiming }> {
  const users = data.bodies.length

  if (o.warmupUsers > 0) {
    log(`[${target.name}] import warm-up: ${int(o.warmupUsers)} users on a scratch pair…`)
    const warm = makeDataset(o.warmupUsers, data.hashes, 'w')
    const scratch = await target.pair('importwarm')
    try {
      await importOnce(target.name, scratch.accounts, ndjsonChunks(warm.bodies), warm.bodies.length)
      scratch.baseline.prepare(warm.rows)
      await scratch.baseline.insertAll(warm.rows)
    } finally {
      await scratch.close()
    }
  }

  log(
    `[${target.name}] import of ${int(users)} users: ${o.rounds} round(s), each on a fresh pair, alternating which side goes first…`,
  )
  const oursRuns: number[] = []
  const baseRuns: number[] = []
  for (let r = 0; r < o.rounds; r++) {
    const pair = await target.pair(`import${r}`)
    try {
      pair.baseline.prepare(data.rows)
      const runOurs = async () => {
        await target.settle()
        const t = await timeOnce(() => importOnce(target.name, pair.accounts, chunks, users))
        oursRuns.push(t.seconds)
      }
      const runBaseline = async () => {
        await target.settle()
        const t = await timeOnce(() => pair.baseline.insertAll(data.rows))
        baseRuns.push(t.seconds)
      }
      for (const run of r % 2 === 0 ? [runOurs, runBaseline] : [runBaseline, runOurs]) await run()
      const [nOurs, nBase] = [await pair.store.countAccounts(), await pair.baseline.count()]
      if (nOurs !== users || nBase !== users)
        throw new Error(`expected ${users} accounts on both sides, found ${nOurs} / ${nBase}`)
      log(
        `[${target.name}]   round ${r + 1}: ours ${seconds(oursRuns.at(-1)!)} · baseline ${seconds(baseRuns.at(-1)!)}`,
      )
    } finally {
      await pair.close()
    }
  }
  const ours = median(oursRuns)
  const baseline = median(baseRuns)
  const goal =
    o.goalSeconds === null
      ? '—'
      : `≤ ${o.goalSeconds} s: ${ours <= o.goalSeconds ? 'met ✅' : 'NOT met ❌'}`
  return {
    row: {
      benchmark: `import ${int(users)} users (NDJSON)`,
      store: target.name,
      ours: `${seconds(ours)} (${usersPerSec(users / ours)})`,
      baseline: `${seconds(baseline)} (${usersPerSec(users / baseline)})`,
      ratio: baseline / ours,
      goal,
    },
    timing: { users, ours, baseline, oursRuns, baseRuns },
  }
}

/** One import; fails loudly unless every record was created (a benchmark of rejections is no benchmark). */
async function importOnce(
  name: string,
  accounts: AccountService,
  chunks: Buffer[],
  expected: number,
) {
  const report = await accounts.import(readImport(streamOf(chunks), 'ndjson'), { atomic: false })
  if (report.received !== expected || report.created !== expected || report.rejected.length > 0) {
    throw new Error(
      `[${name}] import did not create every user: received ${report.received}, created ${report.created}, ` +
        `rejected ${report.rejected.length} (first: ${JSON.stringify(report.rejected[0])})`,
    )
  }
  return report
}
