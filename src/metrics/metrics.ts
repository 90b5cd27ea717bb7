/**
 * @module metrics/metrics
 * What `GET /metrics` serves, in Prometheus text format through prom-client: per-door and
 * per-integration counters of sign-ins, tokens issued and failures by code (fed by the event
 * log: events/log.ts), request latency per route group, event-loop lag and process metrics
 * (prom-client's default metrics, `sso_bridge_` prefixed).
 *
 * Why lazy: prom-client and its default collectors cost ~22 MB of RSS and a few hundred ms to
 * load (measured on the shared 2-core machine), for a process that may never be scraped. Until
 * the first scrape, the counters are plain numbers in a Map, and prom-client is not loaded; the
 * first scrape loads it and registers counters whose values are read from those numbers at each
 * scrape (prom-client's `collect`), so they count from process start. Latency histograms (requests,
 * store calls) and event-loop lag begin at the first scrape (as after a restart, which Prometheus's `rate()`
 * already handles).
 */
import type { EventInput } from '../events/index.ts'

/** The first this many integration ids get their own label value; any later one is `other`. */
export const INTEGRATION_LABELS_MAX = 500

/** Latency buckets in seconds: most answers take ms, a hashed password ~100 ms, a slow store s. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

type Labels = Record<string, string>
type Counts = Map<string, { labels: Labels; value: number }>

interface Live {
  text: () => Promise<string>
  contentType: string
  observeRequest: (group: string, seconds: number) => void
  observeStore: (op: string, seconds: number) => void
}

/**
 * The process's metrics.
 * @example
 * const metrics = createMetrics()
 * events.onRecord(metrics.countEvent)
 * const { contentType, body } = await metrics.render()
 */
export function createMetrics() {
  const signIns: Counts = new Map()
  const tokens: Counts = new Map()
  const failures: Counts = new Map()
  const integrationIds = new Set<string>()
  let live: Promise<Live> | undefined
  let ready: Live | undefined

  // Ids in refusals come from the client: a bounded set keeps the label space bounded.
  const integrationLabel = (id: string | null | undefined): string => {
    if (!id) return ''
    if (integrationIds.has(id)) return id
    if (integrationIds.size >= INTEGRATION_LABELS_MAX) return 'other'
    integrationIds.add(id)
    return id
  }
  const add = (counts: Counts, labels: Labels) => {
    const key = JSON.stringify(labels)
    const entry = counts.get(key)
    if (entry) entry.value++
    else counts.set(key, { labels, value: 1 })
  }

  async function load(): Promise<Live> {
    // `default`: a CommonJS package's exports, which Node also offers by name but the server's
    // bundle (scripts/bundle.js, a chunk of its own) offers only as `default`.
    const prom = (await import('prom-client')).default
    const registry = new prom.Registry()
    prom.collectDefaultMetrics({ register: registry, prefix: 'sso_bridge_' })
    const counter = (name: string, help: string, labelNames: string[], counts: Counts) =>
      new prom.Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset()
          for (const { labels, value } of counts.values()) this.inc(labels, value)
        },
      })
    counter(
      'sso_bridge_sign_ins_total',
      'Members signed in (password, site ticket), by door and integration.',
      ['door', 'integration', 'method'],
      signIns,
    )
    counter(
      'sso_bridge_tokens_issued_total',
      'Tokens issued: OIDC tokens, SAML responses, platform tokens; by door and integration.',
      ['door', 'integration', 'kind'],
      tokens,
    )
    counter(
      'sso_bridge_failures_total',
      'Refusals, by door, integration (when known) and stable error code.',
      ['door', 'integration', 'code'],
      failures,
    )
    const requests = new prom.Histogram({
      name: 'sso_bridge_http_request_duration_seconds',
      help: 'Request latency by route group.',
      labelNames: ['group'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    })
    const store = new prom.Histogram({
      name: 'sso_bridge_store_duration_seconds',
      help: 'Store call latency by method (metrics/timed-store.ts).',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    })
    return {
      text: () => registry.metrics(),
      observeStore: (op, seconds) => store.observe({ op }, seconds),
      contentType: registry.contentType,
      observeRequest: (group, seconds) => requests.observe({ group }, seconds),
    }
  }

  return {
    /** Counts one recorded event (hand it to the event log's `onRecord`). */
    countEvent(e: EventInput): void {
      const door = e.door
      const integration = integrationLabel(e.integrationId)
      if (e.result !== 'ok') add(failures, { door, integration, code: e.result })
      else if (e.kind === 'sign_in') add(signIns, { door, integration, method: 'password' })
      else if (e.kind === 'ticket_redeemed') add(signIns, { door, integration, method: 'ticket' })
      else if (e.kind === 'oidc_token' || e.kind === 'platform_token' || e.kind === 'saml_response')
        add(tokens, { door, integration, kind: e.kind })
    },

    /** One request's latency; counted once metrics have been asked for (see the module doc). */
    observeRequest(group: string, seconds: number): void {
      ready?.observeRequest(group, seconds)
    },

    /** One store call's latency (metrics/timed-store.ts); as {@link observeRequest}. */
    observeStore(op: string, seconds: number): void {
      ready?.observeStore(op, seconds)
    },

    /** Whether latencies are counted yet: from the first scrape on. */
    get timing(): boolean {
      return ready !== undefined
    },

    /** The exposition text; the first call loads prom-client. */
    async render(): Promise<{ contentType: string; body: string }> {
      live ??= load()
      ready = await live
      return { contentType: ready.contentType, body: await ready.text() }
    },
  }
}

/** What {@link createMetrics} builds. */
export type Metrics = ReturnType<typeof createMetrics>
