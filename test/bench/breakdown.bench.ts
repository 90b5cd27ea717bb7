/**
 * `npm run bench -- --breakdown`: where the import's time goes, stage by stage, so a gap to the
 * raw baseline can be attributed without a profiler:
 * - parse only: `readImport(stream, 'ndjson')` drained, nothing else;
 * - service only: `accounts.import` into a store that accepts every batch and writes nothing
 *   (parse + validation + normalization + batching);
 * - store only: `store.upsertAccounts` of already-normalized writes in the service's batch size
 *   (`IMPORT_BATCH_SIZE`), non-atomic, on a fresh database of each store (the very writes the
 *   service-only stage produced);
 * - raw in the same transaction shape: the baseline INSERT, one transaction per batch, to
 *   separate "what our statement costs" from "what committing every batch costs".
 * One run each (a diagnostic, not a comparison), printed as a second table.
 */
import { readImport } from '../../src/accounts/import-formats.ts'
import { createAccountService, IMPORT_BATCH_SIZE } from '../../src/accounts/service.ts'
import type { AccountStore, AccountWrite } from '../../src/store/ports.ts'
import { streamOf, type Dataset } from './data.ts'
import { int, log, markdownTable, seconds, timeOnce, usersPerSec } from './lib.ts'
import type { Target } from './targets.ts'

export interface Stage {
  stage: string
  store: string
  seconds: number
}

/**
 * Parse-only and service-only stages. The service-only import records the writes it hands its
 * (no-op) store, so the store-only stage writes exactly what the service would have written.
 */
export async function breakdownService(
  data: Dataset,
  chunks: Buffer[],
): Promise<{ stages: Stage[]; writes: AccountWrite[] }> {
  const users = data.bodies.length
  log(`[breakdown] parse only, then parse + validate into a no-op store (${int(users)} users)…`)
  const parse = await timeOnce(async () => {
    let n = 0
    for await (const r of readImport(streamOf(chunks), 'ndjson')) if ('value' in r) n++
    if (n !== users) throw new Error(`parsed ${n} of ${users} records`)
  })
  const captured: AccountWrite[] = []
  const noop = {
    async upsertAccounts(writes: AccountWrite[]) {
      for (const w of writes) captured.push(w)
      return writes.map((w) => ({
        ok: true as const,
        created: true,
        external_id: w.external_id,
        resolutions: [],
      }))
    },
  } as unknown as AccountStore
  const service = await timeOnce(async () => {
    const report = await createAccountService({ store: noop }).import(
      readImport(streamOf(chunks), 'ndjson'),
      { atomic: false },
    )
    if (report.created !== users)
      throw new Error(`no-op import created ${report.created} of ${users}`)
  })
  return {
    stages: [
      { stage: 'NDJSON parse only (readImport drained)', store: '—', seconds: parse.seconds },
      {
        stage: 'parse + validate + normalize (accounts.import into a no-op store)',
        store: '—',
        seconds: service.seconds,
      },
    ],
    writes: captured,
  }
}

export async function breakdownStore(
  target: Target,
  data: Dataset,
  writes: AccountWrite[],
): Promise<Stage[]> {
  const users = data.bodies.length
  if (writes.length !== users)
    throw new Error(`expected ${users} captured writes, got ${writes.length}`)
  const pair = await target.pair('breakdown')
  try {
    pair.baseline.prepare(data.rows)
    log(
      `[breakdown] [${target.name}] store.upsertAccounts in ${int(IMPORT_BATCH_SIZE)}-record batches, then raw INSERT in the same transactions…`,
    )
    await target.settle()
    const store = await timeOnce(async () => {
      for (let at = 0; at < users; at += IMPORT_BATCH_SIZE) {
        const results = await pair.store.upsertAccounts(writes.slice(at, at + IMPORT_BATCH_SIZE), {
          atomic: false,
        })
        if (!results.every((r) => r.ok)) throw new Error('store-only batch rejected a record')
      }
    })
    await target.settle()
    const raw = await timeOnce(async () => {
      for (let at = 0; at < users; at += IMPORT_BATCH_SIZE)
        await pair.baseline.insertAll(data.rows.slice(at, at + IMPORT_BATCH_SIZE))
    })
    return [
      {
        stage: `store only: upsertAccounts, ${int(IMPORT_BATCH_SIZE)}-record batches (pre-normalized)`,
        store: target.name,
        seconds: store.seconds,
      },
      {
        stage: `raw INSERT, one transaction per ${int(IMPORT_BATCH_SIZE)} rows (baseline SQL)`,
        store: target.name,
        seconds: raw.seconds,
      },
    ]
  } finally {
    await pair.close()
  }
}

export function breakdownTable(stages: Stage[], users: number): string {
  return markdownTable(
    ['import stage', 'store', 'time', 'users/s'],
    stages.map((s) => [s.stage, s.store, seconds(s.seconds), usersPerSec(users / s.seconds)]),
  )
}
