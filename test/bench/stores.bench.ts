/**
 * Single-account throughput through the account service, beside the raw driver:
 * - upsert/s: `accounts.put(external_id, body)` of new users with a pre-hashed password, vs one
 *   autocommitted INSERT of the same columns per op;
 * - read/s: `accounts.get(external_id)` of random existing users, vs one SELECT of the same
 *   columns by external_id.
 */
import type { Dataset } from './data.ts'
import { int, log, measurePair, perSec, prng, type ResultRow, type RoundOptions } from './lib.ts'
import type { Target } from './targets.ts'

export interface StoresOptions {
  rounds: number
  warmupMs: number
  minMs: number
  minOps: number
}

export async function benchStores(
  target: Target,
  data: Dataset,
  o: StoresOptions,
): Promise<ResultRow[]> {
  const { bodies, rows } = data
  const pair = await target.pair('stores')
  try {
    const { accounts, baseline, store } = pair
    baseline.prepare(rows)

    // ---- upsert/s. Every op writes a user not written before, on either side; the pool of
    // generated users bounds a round (warm-up takes at most a quarter round).
    const maxOps = Math.floor(bodies.length / (o.rounds + 0.25))
    const upsertOpts: RoundOptions = {
      warmupMs: o.warmupMs,
      rounds: o.rounds,
      minMs: o.minMs,
      minOps: o.minOps,
      maxOps,
    }
    log(
      `[${target.name}] upsert/s: ${o.rounds} alternating rounds of ≥${o.minMs} ms (≤${int(maxOps)} ops) each side…`,
    )
    const upsert = await measurePair(
      (i) => {
        const body = bodies[i]!
        return accounts.put(body.external_id, body)
      },
      (i) => baseline.insertOne(rows[i]!),
      upsertOpts,
    )
    log(
      `[${target.name}]   ours ${fmtRounds(upsert.ours.rounds)} · baseline ${fmtRounds(upsert.baseline.rounds)}`,
    )

    // Level both databases to the same users before reading, so both read the same table.
    const have = Math.max(upsert.ours.used, upsert.baseline.used)
    if (upsert.ours.used < have) {
      const more = bodies.slice(upsert.ours.used, have)
      const report = await accounts.import(
        (async function* () {
          for (const [k, value] of more.entries()) yield { line: k + 1, value }
        })(),
        { atomic: false },
      )
      if (report.accepted !== more.length)
        throw new Error(`top-up rejected records: ${JSON.stringify(report.rejected.slice(0, 3))}`)
    }
    if (upsert.baseline.used < have)
      await baseline.insertAll(rows.slice(upsert.baseline.used, have))
    const [nOurs, nBase] = [await store.countAccounts(), await baseline.count()]
    if (nOurs !== have || nBase !== have)
      throw new Error(`expected ${have} accounts on both sides, found ${nOurs} / ${nBase}`)

    // ---- read/s: random existing users, the same sequence on both sides.
    const rnd = prng(42)
    const ids = Array.from({ length: 1 << 16 }, () => bodies[Math.floor(rnd() * have)]!.external_id)
    const probe = await accounts.get(ids[0]!)
    if (probe.external_id !== ids[0] || !probe.has_password)
      throw new Error(`read back the wrong account: ${JSON.stringify(probe)}`)
    log(
      `[${target.name}] read/s over ${int(have)} accounts: ${o.rounds} alternating rounds of ≥${o.minMs} ms each side…`,
    )
    const read = await measurePair(
      (i) => accounts.get(ids[i & 0xffff]!),
      (i) => baseline.getOne(ids[i & 0xffff]!),
      { ...upsertOpts, maxOps: Number.MAX_SAFE_INTEGER },
    )
    log(
      `[${target.name}]   ours ${fmtRounds(read.ours.rounds)} · baseline ${fmtRounds(read.baseline.rounds)}`,
    )

    return [
      {
        benchmark: 'user upsert/s',
        store: target.name,
        ours: perSec(upsert.ours.perSec),
        baseline: perSec(upsert.baseline.perSec),
        ratio: upsert.ratio,
        goal: '—',
      },
      {
        benchmark: 'user read/s',
        store: target.name,
        ours: perSec(read.ours.perSec),
        baseline: perSec(read.baseline.perSec),
        ratio: read.ratio,
        goal: '—',
      },
    ]
  } finally {
    await pair.close()
  }
}

const fmtRounds = (xs: number[]) => `[${xs.map((x) => int(x)).join(', ')}] ops/s`
