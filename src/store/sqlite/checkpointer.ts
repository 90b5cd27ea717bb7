/**
 * @module store/sqlite/checkpointer
 * Moves SQLite's WAL checkpoints off the event loop.
 *
 * Why: with `synchronous = NORMAL`, a commit only appends to the WAL, but every checkpoint
 * (SQLite runs one inline, in whichever commit pushes the WAL past 1,000 pages) copies the WAL
 * into the database and fsyncs both files. On this project's reference machine that fsync pair,
 * spread over the commits between checkpoints, was ~35 µs of an ~85 µs indexed KV write, and a
 * refresh-token grant makes three writes (measured on the OIDC refresh benchmark, as a ratio to
 * a bare oidc-provider: 0.65–0.67 with inline checkpoints, 0.69–0.75 with this worker, 0.82
 * with no fsync at all — the bound). Durability is unchanged: the same checkpoints happen with
 * the same syncs, on another thread.
 *
 * How: the server's connection turns automatic checkpoints off, and a worker thread with its own
 * connection to the file runs a PASSIVE checkpoint (never blocks the server's readers or writer)
 * every `intervalMs`. A PASSIVE checkpoint cannot rewind the WAL while writes keep arriving, so
 * under sustained load the file would only grow; past `maxWalBytes` the worker runs a TRUNCATE
 * checkpoint, which waits for the writer (the server's next write waits for it in turn, through
 * `busy_timeout`, as it used to wait for its own inline checkpoint) and empties the WAL.
 *
 * A TRUNCATE checkpoint holds the write lock while it waits for every reader to reach the newest
 * snapshot, so a long read transaction — `sso-bridge backup` copying the live database, from
 * another process — would stall the server's writes for as long as the checkpoint waits, and
 * fail them past their own `busy_timeout` (measured with the old 5 s wait: writes stalled 5 s,
 * one failed with "database is locked"). So the worker waits at most `truncateWaitMs`
 * (100 ms: plenty for the short transactions of requests) and, when a reader still held it off,
 * leaves TRUNCATE alone for `truncateBackoffMs` (1 s) while PASSIVE checkpoints go on: during a
 * backup, writes wait at most that 100 ms once a second, and the WAL is emptied once the copy ends.
 *
 * Should the worker stop for any reason other than {@link Checkpointer.stop}, the connection
 * goes back to SQLite's automatic checkpoints: the WAL never grows unchecked.
 */
import type { DatabaseSync } from 'node:sqlite'
import { Worker } from 'node:worker_threads'

/** Tuning of the checkpoint worker; tests shorten both. */
export interface CheckpointerOptions {
  /** Time between PASSIVE checkpoints. Default 100 ms. */
  intervalMs?: number
  /** WAL size past which the worker empties it with a TRUNCATE checkpoint. Default 64 MiB. */
  maxWalBytes?: number
  /** How long a TRUNCATE checkpoint waits for writers and readers (its busy_timeout). Default 100 ms. */
  truncateWaitMs?: number
  /** After a TRUNCATE a reader held off, how long before the next try. Default 1 s. */
  truncateBackoffMs?: number
}

/** The running checkpoint worker of one database. */
export interface Checkpointer {
  /** Stops the worker (after its current checkpoint); the connection keeps checkpoints off. */
  stop(): Promise<void>
  /** The worker, for tests that need to see what happens when it dies. */
  readonly worker: Worker
}

/** SQLite's default `wal_autocheckpoint`, restored if the worker is lost. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000

// CommonJS, run by `eval`: no module file to resolve, whether the server runs from source, a
// test runner or a bundle.
const WORKER_SOURCE = `
const { DatabaseSync } = require('node:sqlite')
const { statSync } = require('node:fs')
const { parentPort, workerData } = require('node:worker_threads')
const { file, intervalMs, maxWalBytes, truncateWaitMs, truncateBackoffMs } = workerData
const db = new DatabaseSync(file)
// Only TRUNCATE waits (PASSIVE never does): this is how long it may hold the write lock.
db.exec('PRAGMA busy_timeout = ' + truncateWaitMs + '; PRAGMA synchronous = NORMAL;')
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
const truncate = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)')
const walBytes = () => { try { return statSync(file + '-wal').size } catch { return 0 } }
let timer
let notBefore = 0
function tick() {
  passive.get()
  if (walBytes() > maxWalBytes && Date.now() >= notBefore) {
    // busy = 1: a writer or a reader on an older snapshot kept it from finishing.
    if (truncate.get().busy) notBefore = Date.now() + truncateBackoffMs
  }
  timer = setTimeout(tick, intervalMs)
}
parentPort.on('message', (m) => {
  if (m !== 'stop') return
  clearTimeout(timer)
  db.close()
  parentPort.close()
})
tick()
`

/**
 * Starts checkpointing `file` (the database `db` is connected to) from a worker thread, and
 * turns `db`'s automatic checkpoints off. The worker does not keep the process alive.
 */
export function startCheckpointer(
  db: DatabaseSync,
  file: string,
  options: CheckpointerOptions = {},
): Checkpointer {
  const intervalMs = options.intervalMs ?? 100
  const maxWalBytes = options.maxWalBytes ?? 64 * 1024 * 1024
  const truncateWaitMs = options.truncateWaitMs ?? 100
  const truncateBackoffMs = options.truncateBackoffMs ?? 1000
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, intervalMs, maxWalBytes, truncateWaitMs, truncateBackoffMs },
  })
  let stopping = false
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  const fallBack = () => {
    if (!stopping && db.isOpen)
      db.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`)
  }
  // An error is followed by 'exit', where the fallback runs; say why it was needed.
  worker.on('error', (err) =>
    process.emitWarning(
      `SQLite checkpointer for ${file} failed (${err.message}); back to inline checkpoints`,
    ),
  )
  worker.once('exit', fallBack)
  worker.unref()
  db.exec('PRAGMA wal_autocheckpoint = 0')
  return {
    worker,
    async stop() {
      if (stopping) return exited
      stopping = true
      // Held until it is gone: an unref'd worker alone would let the process exit mid-stop.
      worker.ref()
      worker.postMessage('stop')
      return exited
    },
  }
}
