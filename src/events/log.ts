/**
 * @module events/log
 * The one way a door records what happened (issue #14): `events.record({...})` for a sign-in, a
 * ticket, a token issued, a SAML response, a logout or a refusal. The console's Activity and
 * Overview pages and `GET /api/v1/events` read what it writes.
 *
 * Why buffered: a door's answer must not wait on a second write. Events recorded in one turn of
 * the event loop are appended together in the next (`setImmediate`), one store write for the
 * batch (on SQLite inside the KV group commit that turn's session and token writes already pay
 * for; on PostgreSQL one multi-row INSERT), as the store's own writers batch (store/sqlite/
 * group-commit.ts, store/postgres/batch-writer.ts). The cost: events still buffered when the
 * process dies are lost; a store outage drops the batch (logged with its size), never the
 * request. Readers call {@link EventLog.flush} first, so what a request recorded is listed.
 *
 * Nothing secret goes in: the fields are ids, names and codes only (no token, password, cookie
 * or ticket), and {@link EventInput} has no free-form field where one could slip in.
 *
 * Refusals are sampled, so a flood of bad requests cannot grow the table faster than retention
 * shrinks it: per minute, at most {@link REFUSALS_PER_KEY_PER_MINUTE} identical refusals (same
 * door, integration, member and code) and at most {@link REFUSALS_PER_MINUTE} refusals in all are
 * written; the rest are counted (the metrics still see every one, through `onRecord`) and
 * summed up in one log line (`EVENTS_REFUSALS_SAMPLED`) at the first refusal of a later minute. Sampling rather than coalescing into one row
 * with a count: a row stays one request (its request id finds it in the log), and the table and
 * every reader keep their shape. At most 120 refusal rows a minute is at most
 * 172,800 a day, so the refusals the table holds are bounded by EVENTS_RETENTION_DAYS × that.
 * Refusals that reach the HTTP error handler are recorded there ({@link EventLog.recordRefusal}),
 * once: a refusal the door recorded itself for the same request is not recorded twice.
 */
import {
  BridgeError,
  isBridgeErrorCode,
  ValidationFailed,
  type BridgeErrorCode,
  type FieldIssue,
} from '../errors/index.ts'
import type { Logger } from '../log/logger.ts'
import { newId } from '../store/ids.ts'
import type {
  EventCount,
  EventCountQuery,
  EventQuery,
  EventRecord,
  EventStore,
  Page,
} from '../store/ports.ts'
import { checkListing } from './listing.ts'

/** Which door an event happened at. */
export type EventDoor = (typeof EVENT_DOORS)[number]

/** Every door that records events (a `door` filter must name one). */
export const EVENT_DOORS = ['oidc', 'saml', 'tokens', 'ticket', 'login'] as const

/** What happened. */
export type EventKind = (typeof EVENT_KINDS)[number]

/** Every kind of event (a `kind` filter must name one). */
export const EVENT_KINDS = [
  'sign_in',
  'ticket_redeemed',
  'oidc_token',
  'saml_response',
  'platform_token',
  'logout',
  'refused',
] as const

/** What a door records: no time or id (the log adds them), no free text. */
export interface EventInput {
  door: EventDoor
  kind: EventKind
  /** `ok`, or the refusal's stable code (`ERR_*`, errors/codes.ts). */
  result: 'ok' | BridgeErrorCode
  integrationId?: string | null | undefined
  /** The member's external_id, when known. */
  memberId?: string | null | undefined
  /** The request's X-Request-Id (web/request-id.ts). */
  requestId?: string | null | undefined
}

/** The longest id an event keeps: a refused request's ids come from the client. */
const ID_MAX = 200

const clip = (id: string | null | undefined): string | null =>
  id == null ? null : id.slice(0, ID_MAX)

/** Events waiting for their batch beyond this are dropped (a store outage must not eat memory). */
export const EVENT_BUFFER_MAX = 10_000

/** Identical refusals (door, integration, member, code) written per minute; the rest counted only. */
export const REFUSALS_PER_KEY_PER_MINUTE = 10

/** Refusals written per minute in all, whatever their keys (which a client chooses). */
export const REFUSALS_PER_MINUTE = 120

/** Request ids of refusals recorded lately, so the error handler does not record one again. */
const RECENT_REFUSALS_MAX = 1_024

/**
 * The event log over a store.
 * @param deps.log where a failed or overflowing batch is reported (never its contents)
 * @example
 * const events = createEventLog({ store })
 * events.record({ door: 'tokens', kind: 'platform_token', result: 'ok', integrationId, memberId })
 */
export function createEventLog(deps: {
  store: EventStore
  log?: Logger | undefined
  /** Told of each event as it is recorded (the metrics' counters: metrics/metrics.ts). */
  onRecord?: (event: EventInput) => void
  /** The clock the refusal sampling's minutes are read from (tests fix it); Date.now without. */
  now?: (() => number) | undefined
}) {
  const { store, log, onRecord } = deps
  const now = deps.now ?? Date.now
  let pending: EventRecord[] = []
  let scheduled = false
  let dropped = 0
  const inFlight = new Set<Promise<void>>()
  // Refusal sampling: the current minute, what each key and all keys wrote in it, what was not.
  let minute = -1
  const perKey = new Map<string, number>()
  let written = 0
  let sampledOut = 0
  // Insertion-ordered: the oldest request id goes first when it is full.
  const recentRefusals = new Set<string>()

  /** Whether this refusal is one the minute's sample writes (counting it either way). */
  function sampled(input: EventInput): boolean {
    const m = Math.floor(now() / 60_000)
    if (m !== minute) {
      if (sampledOut > 0)
        log?.warn(
          { code: 'EVENTS_REFUSALS_SAMPLED', written, not_written: sampledOut },
          'refusal events sampled: a minute had more refusals than are written',
        )
      minute = m
      perKey.clear()
      written = 0
      sampledOut = 0
    }
    const key = [input.door, clip(input.integrationId), clip(input.memberId), input.result].join(
      '\u0000',
    )
    const n = perKey.get(key) ?? 0
    if (n >= REFUSALS_PER_KEY_PER_MINUTE || written >= REFUSALS_PER_MINUTE) {
      sampledOut++
      return false
    }
    perKey.set(key, n + 1)
    written++
    return true
  }

  function remember(requestId: string | null | undefined): void {
    if (!requestId) return
    recentRefusals.add(requestId)
    if (recentRefusals.size > RECENT_REFUSALS_MAX)
      recentRefusals.delete(recentRefusals.values().next().value!)
  }

  function write(): Promise<void> {
    scheduled = false
    const batch = pending
    pending = []
    if (batch.length === 0) return Promise.resolve()
    const done = store.appendEvents(batch).then(
      () => {},
      (err: unknown) => {
        log?.warn({ code: refusalCode(err), events: batch.length }, 'events not written')
      },
    )
    inFlight.add(done)
    void done.finally(() => inFlight.delete(done))
    return done
  }

  /** Counts one event (metrics), samples a refusal, and buffers it for this turn's batch. */
  function push(input: EventInput): void {
    onRecord?.(input)
    if (input.kind === 'refused' && !sampled(input)) return
    if (pending.length >= EVENT_BUFFER_MAX) {
      if (dropped++ === 0) log?.warn({ max: EVENT_BUFFER_MAX }, 'event buffer full: dropping')
      return
    }
    dropped = 0
    pending.push({
      id: newId(),
      at: new Date().toISOString(),
      door: input.door,
      kind: input.kind,
      result: input.result,
      integration_id: clip(input.integrationId),
      member_id: clip(input.memberId),
      request_id: clip(input.requestId),
    })
    if (!scheduled) {
      scheduled = true
      setImmediate(write)
    }
  }

  return {
    /**
     * Records one event; written with the others of this turn of the event loop (a refusal only
     * when the minute's sample takes it: see the module doc).
     */
    record(input: EventInput): void {
      if (input.kind === 'refused') remember(input.requestId)
      push(input)
    },

    /**
     * Records a refusal the HTTP error handler answered, unless the door already recorded a
     * refusal for the same request (its request id): each refused request is one event.
     * @returns whether it was recorded (sampled or not), false when the door had done it
     */
    recordRefusal(input: Omit<EventInput, 'kind'>): boolean {
      if (input.requestId && recentRefusals.delete(input.requestId)) return false
      push({ ...input, kind: 'refused' })
      return true
    },

    /** Writes what is buffered now and waits for every batch under way. */
    async flush(): Promise<void> {
      await write()
      await Promise.all([...inFlight])
    },

    /**
     * Events newest first, after writing what is buffered.
     * @throws {ValidationFailed} a bad filter, limit or cursor (every issue named)
     */
    async list(filters: EventFilters): Promise<Page<EventRecord>> {
      const query = checkFilters(filters)
      await this.flush()
      return store.listEvents(query)
    },

    /**
     * Sign-ins, tokens issued and failures per integration and hour or day (the console's
     * Overview), after writing what is buffered: one grouped query (store/event-categories.ts).
     */
    async counts(query: EventCountQuery): Promise<EventCount[]> {
      await this.flush()
      return store.countEvents(query)
    },
  }
}

/** The most events one page lists (`limit`); 100 without one. */
export const EVENTS_MAX_PAGE = 500

/** The filters of `GET /api/v1/events` as they arrive: strings, each optional. */
export interface EventFilters {
  integration?: string
  member?: string
  door?: string
  /** One of {@link EVENT_KINDS}. */
  kind?: string
  /** `ok` or an `ERR_*` code. */
  result?: string
  /** ISO 8601 date-times, inclusive. */
  since?: string
  until?: string
  limit?: string
  cursor?: string
}

/** Checks the filters of a listing and turns them into the store's query. */
function checkFilters(f: EventFilters): EventQuery {
  const issues: FieldIssue[] = []
  const paging = checkListing(f, issues, { max: EVENTS_MAX_PAGE, fallback: 100 })
  if (f.door !== undefined && !(EVENT_DOORS as readonly string[]).includes(f.door))
    issues.push({ path: 'door', message: `must be one of ${EVENT_DOORS.join(', ')}` })
  if (f.kind !== undefined && !(EVENT_KINDS as readonly string[]).includes(f.kind))
    issues.push({ path: 'kind', message: `must be one of ${EVENT_KINDS.join(', ')}` })
  if (f.result !== undefined && f.result !== 'ok' && !isBridgeErrorCode(f.result))
    issues.push({ path: 'result', message: 'must be ok or an ERR_* code' })
  for (const key of ['integration', 'member'] as const) {
    if (f[key] !== undefined && (f[key] === '' || f[key].length > ID_MAX))
      issues.push({ path: key, message: `must be 1 to ${ID_MAX} characters` })
  }
  if (issues.length > 0) throw new ValidationFailed(issues)
  return {
    ...(f.integration !== undefined ? { integration_id: f.integration } : {}),
    ...(f.member !== undefined ? { member_id: f.member } : {}),
    ...(f.door !== undefined ? { door: f.door } : {}),
    ...(f.kind !== undefined ? { kind: f.kind } : {}),
    ...(f.result !== undefined ? { result: f.result } : {}),
    ...paging,
  }
}

/** What {@link createEventLog} builds. */
export type EventLog = ReturnType<typeof createEventLog>

/**
 * The stable code an event records for a refusal: the error's own `ERR_*` code, or
 * `ERR_GENERIC` for one that is not ours (its message is never recorded).
 */
export function refusalCode(err: unknown): BridgeErrorCode {
  return err instanceof BridgeError ? err.code : 'ERR_GENERIC'
}
