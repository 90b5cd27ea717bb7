/**
 * @module store/postgres/changes
 * Integration changes pushed to every instance on one PostgreSQL database (LISTEN/NOTIFY), so a
 * rotated client secret or a removed redirect URI stops working everywhere as soon as the write
 * returns, not after an instance's cache runs out.
 *
 * - Writers: every integration write or removal notifies channel INTEGRATIONS_CHANNEL in the
 *   same statement (so the same transaction; PostgreSQL delivers it only on commit), with the
 *   payload `<schema>:<integration id>` (several sso-bridge schemas may share one database).
 * - Listeners: one dedicated connection per process (not a pooled one: a LISTEN belongs to its
 *   session), started on the first subscription. When it is lost (a PostgreSQL restart, a
 *   network cut, an administrator ending the session) the listeners hear `null` ("anything may
 *   have changed"), and it reconnects with a growing pause, then says `null` once more.
 * - sync(): one round trip on the listening connection. A committing writer signals every
 *   listening backend before its client sees the statement's ReadyForQuery (so before our
 *   write returns); a listening backend forwards what it was signalled when it waits for its
 *   client, or, if busy, just before its next ReadyForQuery (postgres.c, since PostgreSQL 13:
 *   "if any notifies were received during the just-finished transaction, they'll be seen by the
 *   client before ReadyForQuery is"). node-postgres emits notifications in stream order, before
 *   it resolves the query, so when sync() resolves true every change committed before it was
 *   called has reached the listeners. Calls made while one round trip
 *   waits to be sent share it; false when not listening at the moment (the caller then trusts
 *   no cache).
 */
import pg from 'pg'
import type { ChangeFeed } from '../ports.ts'

/** The NOTIFY channel of integration changes. */
export const INTEGRATIONS_CHANNEL = 'sso_bridge_integrations'
/** application_name of the listening session (plus the schema), so an operator can find it. */
export const LISTEN_APPLICATION_NAME = 'sso-bridge listen'
/** Pauses before reconnect attempts, milliseconds (the last repeats). */
const RECONNECT_MS = [100, 250, 500, 1000, 2000, 5000] as const

/** SQL for a writer: notify the integration `idSql` of the current schema. */
export const notifyIntegrationSql = (idSql: string) =>
  `pg_notify('${INTEGRATIONS_CHANNEL}', coalesce(current_schema(), '') || ':' || ${idSql})`

/** A change feed over LISTEN/NOTIFY, which the store closes with itself. */
export interface PostgresChangeFeed extends ChangeFeed {
  /** Stops listening and reconnecting (the store's close). */
  close(): Promise<void>
}

/**
 * The change feed of the database at `url` (the store's own URL, so the same schema). Connects
 * on the first subscription, not before: a CLI command that never loads an integration opens no
 * listening connection.
 */
export function createPostgresChangeFeed(url: string): PostgresChangeFeed {
  const listeners = new Set<(id: string | null) => void>()
  let client: pg.Client | null = null
  let starting: Promise<void> | null = null
  let closed = false
  let attempt = 0
  let timer: NodeJS.Timeout | undefined
  let queued: Promise<boolean> | undefined
  let chain: Promise<unknown> = Promise.resolve()

  const emit = (id: string | null) => {
    for (const l of listeners) l(id)
  }

  function lost(c: pg.Client): void {
    if (client !== c) return
    client = null
    emit(null)
    c.end().catch(() => {})
    schedule()
  }

  function schedule(): void {
    if (closed || timer) return
    const pause = RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)]
    timer = setTimeout(() => {
      timer = undefined
      void connect()
    }, pause)
    timer.unref()
  }

  function connect(): Promise<void> {
    return (starting ??= (async () => {
      const c = new pg.Client({ connectionString: url, application_name: LISTEN_APPLICATION_NAME })
      let schema = ''
      c.on('error', () => lost(c))
      c.on('end', () => lost(c))
      c.on('notification', (msg) => {
        if (msg.channel !== INTEGRATIONS_CHANNEL || msg.payload === undefined) return
        const at = msg.payload.indexOf(':')
        if (at >= 0 && msg.payload.slice(0, at) === schema) emit(msg.payload.slice(at + 1))
      })
      try {
        await c.connect()
        schema = ((await c.query('SELECT current_schema() AS s')).rows[0]?.s as string | null) ?? ''
        await c.query(`SELECT set_config('application_name', $1, false)`, [
          `${LISTEN_APPLICATION_NAME} ${schema}`.slice(0, 63),
        ])
        await c.query(`LISTEN ${INTEGRATIONS_CHANNEL}`)
        if (closed) {
          await c.end()
          return
        }
        client = c
        attempt = 0
        emit(null) // changes made while nobody listened
      } catch {
        c.removeAllListeners('end')
        c.end().catch(() => {})
        schedule()
      }
    })().finally(() => {
      starting = null
    }))
  }

  return {
    subscribe(listener) {
      listeners.add(listener)
      if (!client && !timer && !closed) void connect()
      return () => {
        listeners.delete(listener)
      }
    },

    sync() {
      if (!client) return Promise.resolve(false)
      if (queued) return queued
      const c = client
      const barrier = chain.then(async () => {
        queued = undefined // sent from here on: later callers need the next round trip
        if (client !== c) return false
        try {
          await c.query('SELECT 1')
        } catch {
          return false
        }
        return client === c
      })
      queued = barrier
      chain = barrier
      return barrier
    },

    async close() {
      closed = true
      clearTimeout(timer)
      await starting
      const c = client
      client = null
      if (c) {
        c.removeAllListeners('end')
        await c.end().catch(() => {})
      }
    },
  }
}
