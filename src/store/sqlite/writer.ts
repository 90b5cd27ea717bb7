/**
 * @module store/sqlite/writer
 * The one way the SQLite store writes outside the KV group commit. KV writes share a commit per
 * event-loop turn (group-commit.ts) and hold the file's write lock while their batch is open, so
 * every other write must first commit any open batch of this thread ({@link flushAllBatches}):
 * then it runs on its own, as before, is durable when its promise settles, and never waits on a
 * lock its own thread is to release. That rule lives here, in the statement and the
 * transaction, not at each call site: a write statement prepared through {@link Writer.prepare}
 * flushes before every execution, so a new write path cannot forget it. Inside
 * {@link Writer.transaction} the flush finds nothing open (the transaction began with one and
 * runs synchronously), so it costs a set lookup.
 */
import type { DatabaseSync, SQLInputValue, StatementResultingChanges } from 'node:sqlite'
import { flushAllBatches } from './group-commit.ts'

type Params = SQLInputValue[] | [Record<string, SQLInputValue>, ...SQLInputValue[]]

/** A prepared write: `run` and `get` (for `RETURNING`) as on StatementSync, each after a flush. */
export interface WriteStatement {
  run(...params: Params): StatementResultingChanges
  get(...params: Params): unknown
}

/**
 * The connection's write side: each statement first commits any open group-commit batch, so
 * a direct write never waits on (or lands inside) a KV batch.
 */
export interface Writer {
  /** Prepares a statement that writes (INSERT, UPDATE, DELETE). */
  prepare(sql: string): WriteStatement
  /** BEGIN IMMEDIATE … COMMIT (ROLLBACK when `commit` says so, or on any error). */
  transaction<T>(fn: () => T, commit?: (result: T) => boolean): T
}

/** The {@link Writer} of one connection (internal to store/sqlite). */
export function createWriter(db: DatabaseSync): Writer {
  return {
    prepare(sql) {
      const statement = db.prepare(sql)
      return {
        run(...params) {
          flushAllBatches()
          return statement.run(...(params as SQLInputValue[]))
        },
        get(...params) {
          flushAllBatches()
          return statement.get(...(params as SQLInputValue[]))
        },
      }
    },

    transaction(fn, commit = () => true) {
      flushAllBatches()
      db.exec('BEGIN IMMEDIATE')
      try {
        const result = fn()
        db.exec(commit(result) ? 'COMMIT' : 'ROLLBACK')
        return result
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK')
        throw err
      }
    },
  }
}
