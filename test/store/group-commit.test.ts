/**
 * Group commit of SQLite KV writes (src/store/sqlite/group-commit.ts): writes of one event-loop
 * turn share a commit, a write's promise settles only once it is committed (another connection
 * sees it then, not before), a failing write undoes only itself, a failing commit rejects the
 * whole batch, and no other write in the thread can deadlock on the batch's write lock.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { createGroupCommit } from '../../src/store/sqlite/group-commit.ts'
import { createSqliteStore } from '../../src/store/sqlite/store.ts'
import { accountWrite } from '../fixtures/accounts.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-group-commit-'))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const freshFile = () => path.join(dir, `g${n++}.sqlite`)

/** What another connection (another process, say) sees of a KV key. */
function seenElsewhere(file: string, namespace: string, key: string): boolean {
  const other = new DatabaseSync(file, { readOnly: true })
  try {
    return (
      other.prepare('SELECT 1 FROM kv WHERE namespace = ? AND key = ?').get(namespace, key) !==
      undefined
    )
  } finally {
    other.close()
  }
}

describe('SQLite KV group commit', () => {
  it('a write is invisible to other connections until its promise settles, and committed when it does', async () => {
    const file = freshFile()
    const store = createSqliteStore(file)
    try {
      const a = store.kvSet('g', 'a', { v: 1 })
      const b = store.kvSet('g', 'b', { v: 2 }, { indexes: { x: 'y' } })
      // Same connection: its own uncommitted writes are visible to it at once.
      expect((await store.kvGet('g', 'a'))?.value).toEqual({ v: 1 })
      expect(seenElsewhere(file, 'g', 'a')).toBe(false)
      await Promise.all([a, b])
      expect(seenElsewhere(file, 'g', 'a')).toBe(true)
      expect(seenElsewhere(file, 'g', 'b')).toBe(true)
    } finally {
      await store.close()
    }
  })

  it('a write that throws undoes only itself; the rest of its batch commits', async () => {
    const file = freshFile()
    const db = new DatabaseSync(file)
    db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY)')
    const group = createGroupCommit(db)
    const ok = group.write(() => db.prepare('INSERT INTO t VALUES (?)').run('kept'))
    const failed = group.write(() => {
      db.prepare('INSERT INTO t VALUES (?)').run('undone')
      throw new Error('second statement failed')
    })
    await expect(failed).rejects.toThrow('second statement failed')
    await ok
    expect(db.prepare('SELECT k FROM t ORDER BY k').all()).toEqual([{ k: 'kept' }])
    expect(db.isTransaction).toBe(false)
    db.close()
  })

  it('a commit that fails rejects every write of the batch and undoes them all', async () => {
    const file = freshFile()
    const db = new DatabaseSync(file)
    // A deferred foreign key is checked at COMMIT: the only portable way to make a commit fail.
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;
      CREATE TABLE parent (id TEXT PRIMARY KEY);
      CREATE TABLE child (id TEXT PRIMARY KEY, parent TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`)
    const group = createGroupCommit(db)
    const innocent = group.write(() => db.prepare('INSERT INTO parent VALUES (?)').run('p1'))
    const orphan = group.write(() =>
      db.prepare('INSERT INTO child VALUES (?, ?)').run('c1', 'missing'),
    )
    const results = await Promise.allSettled([innocent, orphan])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/i)
    expect(db.prepare('SELECT count(*) AS n FROM parent').get()).toEqual({ n: 0 })
    expect(db.isTransaction).toBe(false)
    // The connection goes on working.
    await group.write(() => db.prepare('INSERT INTO parent VALUES (?)').run('p2'))
    expect(db.prepare('SELECT id FROM parent').all()).toEqual([{ id: 'p2' }])
    db.close()
  })

  it('an account write while a KV batch is open on the same connection runs on its own (no nested transaction)', async () => {
    const file = freshFile()
    const store = createSqliteStore(file)
    try {
      const pending = store.kvSet('g', 'k', { v: 1 })
      const result = await store.upsertAccount(accountWrite({ external_id: '1', username: 'one' }))
      expect(result.created).toBe(true)
      // Committed when its promise settled (not left inside the KV batch until the next turn).
      const other = new DatabaseSync(file, { readOnly: true })
      expect(other.prepare('SELECT external_id FROM accounts').all()).toEqual([
        { external_id: '1' },
      ])
      other.close()
      await pending
      expect((await store.kvGet('g', 'k'))?.value).toEqual({ v: 1 })
    } finally {
      await store.close()
    }
  })

  it('two stores on one file in one thread never wait on each other’s open batch', async () => {
    const file = freshFile()
    const a = createSqliteStore(file)
    const b = createSqliteStore(file)
    try {
      const pending = a.kvSet('g', 'from-a', { v: 1 }) // a's batch holds the file's write lock
      expect(seenElsewhere(file, 'g', 'from-a')).toBe(false)
      // b's write commits a's batch before it takes the lock (the order is the mechanism): without
      // that, b would sit in SQLite's busy handler (5 s) — this thread cannot release the lock
      // while it waits — and then fail with SQLITE_BUSY.
      const fromB = b.kvSet('g', 'from-b', { v: 2 })
      expect(seenElsewhere(file, 'g', 'from-a')).toBe(true)
      expect(seenElsewhere(file, 'g', 'from-b')).toBe(false)
      const account = b.upsertAccount(accountWrite({ external_id: '2', username: 'two' }))
      expect(seenElsewhere(file, 'g', 'from-b')).toBe(true) // likewise before an account write
      await Promise.all([pending, fromB, account])
      expect((await b.kvGet('g', 'from-a'))?.value).toEqual({ v: 1 })
      expect((await a.kvGet('g', 'from-b'))?.value).toEqual({ v: 2 })
    } finally {
      await a.close()
      await b.close()
    }
  })
})
