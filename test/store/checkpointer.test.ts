/**
 * The SQLite store's background checkpointer (src/store/sqlite/checkpointer.ts): the server's
 * connection never checkpoints inline, the WAL still reaches the database file, an oversized WAL
 * is emptied, and a lost worker hands checkpoints back to SQLite.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { startCheckpointer } from '../../src/store/sqlite/checkpointer.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { WAIT_TIMEOUT } from '../helpers/timeouts.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-checkpointer-'))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const size = (file: string) => (existsSync(file) ? statSync(file).size : 0)

/** Polls for what the checkpointer's worker thread does; the limit only catches a worker that never does it. */
async function until(what: string, ok: () => boolean, ms = WAIT_TIMEOUT): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A WAL database with a table, its connection's inline checkpoints still on (SQLite's default). */
function openDb(): { db: DatabaseSync; file: string } {
  const file = path.join(dir, `c${n++}.sqlite`)
  const db = new DatabaseSync(file)
  // busy_timeout as the store sets it: a TRUNCATE checkpoint makes writers wait.
  db.exec(
    'PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)',
  )
  return { db, file }
}

const write = (db: DatabaseSync, rows: number, tag: string) => {
  const ins = db.prepare('INSERT INTO t VALUES (?, ?)')
  // One commit per row, as requests make them.
  for (let i = 0; i < rows; i++) ins.run(`${tag}${i}`, 'x'.repeat(200))
}

const autocheckpoint = (db: DatabaseSync) =>
  (db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number })
    .wal_autocheckpoint

describe('SQLite background checkpointer', () => {
  it('the store writes without inline checkpoints, and the data still reaches the database file', async () => {
    const file = path.join(dir, `store${n++}.sqlite`)
    const store = createSqliteStore(file)
    try {
      const before = size(file)
      for (let i = 0; i < 300; i++)
        await store.kvSet('test', `k${i}`, { v: 'y'.repeat(500) }, { indexes: { g: `g${i % 7}` } })
      // Copied by the worker: without it (inline checkpoints off) the file would keep its size until close.
      await until('the database file grows', () => size(file) > before + 100_000)
      expect((await store.kvGet('test', 'k299'))?.value).toEqual({ v: 'y'.repeat(500) })
    } finally {
      await store.close()
    }
  })

  it('turns the connection’s inline checkpoints off, and the worker copies the WAL into the file', async () => {
    const { db, file } = openDb()
    const cp = startCheckpointer(db, file, { intervalMs: 10 })
    try {
      expect(autocheckpoint(db)).toBe(0)
      const before = size(file)
      write(db, 2000, 'a')
      await until('the database file grows', () => size(file) > before + 300_000)
    } finally {
      await cp.stop()
      db.close()
    }
  })

  it('empties a WAL that grew past maxWalBytes', async () => {
    const { db, file } = openDb()
    // The WAL grows past 256 KiB before the worker starts: the worker runs on its own thread, so
    // started first it may truncate in the middle of the writes (it did, on a loaded machine).
    db.exec('PRAGMA wal_autocheckpoint = 0')
    write(db, 3000, 'b')
    expect(size(`${file}-wal`)).toBeGreaterThan(256 * 1024)
    const cp = startCheckpointer(db, file, { intervalMs: 10, maxWalBytes: 256 * 1024 })
    try {
      await until('the WAL is truncated', () => size(`${file}-wal`) === 0)
      expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(3000)
    } finally {
      await cp.stop()
      db.close()
    }
  })

  it('a PASSIVE checkpoint alone leaves a big WAL as it is (why the size limit exists)', async () => {
    const { db, file } = openDb()
    const cp = startCheckpointer(db, file, { intervalMs: 10, maxWalBytes: Number.MAX_SAFE_INTEGER })
    try {
      const before = size(file)
      write(db, 3000, 'c')
      const wal = size(`${file}-wal`)
      await until('the database file grows', () => size(file) > before + 300_000)
      expect(size(`${file}-wal`)).toBe(wal)
    } finally {
      await cp.stop()
      db.close()
    }
  })

  it('a long reader (a backup copying the live database) does not stall the writer: TRUNCATE gives up and tries again later', async () => {
    const { db, file } = openDb()
    // Far below the 5 s a TRUNCATE used to wait for readers while holding the write lock.
    db.exec('PRAGMA busy_timeout = 2000')
    // The reader holds one snapshot, as `sso-bridge backup`'s copy does, from another connection.
    const reader = new DatabaseSync(file)
    reader.exec('BEGIN')
    reader.prepare('SELECT count(*) FROM t').get()
    const cp = startCheckpointer(db, file, { intervalMs: 10, maxWalBytes: 1 })
    try {
      const failed: string[] = []
      // Writes as requests make them, while the worker keeps finding the WAL past its limit.
      for (let i = 0; i < 300; i++) {
        try {
          write(db, 1, `r${i}-`)
        } catch (err) {
          failed.push((err as Error).message)
          break
        }
        await new Promise((r) => setTimeout(r, 5))
      }
      expect(failed).toEqual([])
      reader.exec('COMMIT')
      await until('the WAL is emptied once the reader is done', () => size(`${file}-wal`) === 0)
      expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(300)
    } finally {
      reader.close()
      await cp.stop()
      db.close()
    }
  })

  it('hands checkpoints back to SQLite when the worker dies, not when it is stopped', async () => {
    const a = openDb()
    const lost = startCheckpointer(a.db, a.file, { intervalMs: 10 })
    expect(autocheckpoint(a.db)).toBe(0)
    await lost.worker.terminate()
    await until('inline checkpoints are back', () => autocheckpoint(a.db) === 1000)
    a.db.close()

    const b = openDb()
    const stopped = startCheckpointer(b.db, b.file, { intervalMs: 10 })
    await stopped.stop()
    expect(autocheckpoint(b.db)).toBe(0)
    b.db.close()
  })
})
