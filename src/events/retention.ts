/**
 * @module events/retention
 * Prunes events older than EVENTS_RETENTION_DAYS, now and then every `everyMs`. Safe with
 * several instances on one PostgreSQL: each removes a bounded batch of rows no other instance
 * has locked (store/postgres/events.ts), so they share the work and never wait on each other.
 */
import type { Logger } from '../log/logger.ts'
import type { EventStore } from '../store/ports.ts'
import { refusalCode } from './log.ts'

/** Rows one prune statement removes at most: a long backlog goes in short transactions. */
export const PRUNE_BATCH = 5_000

/**
 * Removes every event older than `retentionMs` before `now`, batch by batch.
 * @returns how many were removed
 */
export async function pruneEvents(
  store: EventStore,
  retentionMs: number,
  now = Date.now(),
): Promise<number> {
  const before = new Date(now - retentionMs).toISOString()
  let total = 0
  for (;;) {
    const n = await store.pruneEvents(before, PRUNE_BATCH)
    total += n
    if (n < PRUNE_BATCH) return total
  }
}

/**
 * Prunes at once and then every `everyMs` (default hourly) until the returned stop is called.
 * The timer never keeps the process alive; a failed run is logged and tried again next time.
 */
export function startEventRetention(opts: {
  store: EventStore
  retentionMs: number
  log?: Logger | undefined
  everyMs?: number
}): () => Promise<void> {
  const { store, retentionMs, log } = opts
  let running: Promise<void> = Promise.resolve()
  const run = () => {
    running = pruneEvents(store, retentionMs).then(
      (n) => {
        if (n > 0) log?.info({ events: n }, 'pruned old events')
      },
      (err: unknown) => {
        log?.warn({ code: refusalCode(err) }, 'event prune failed')
      },
    )
  }
  run()
  const timer = setInterval(run, opts.everyMs ?? 3_600_000)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}
