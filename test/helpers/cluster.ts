/**
 * Several real server processes (`node src/main.ts`) on one PostgreSQL schema and one shared
 * KEYS_DIR, behind a small round-robin HTTP proxy: what "Running several instances" in the
 * README describes. The proxy forwards each request to the next instance in turn (so a browser
 * changes instance on every request), passes bodies and headers through (Set-Cookie included),
 * and adds X-Forwarded-For / X-Forwarded-Proto as a real reverse proxy does; every instance
 * runs with TRUST_PROXY=1 (believe the one proxy in front) and ISSUER = the proxy's URL.
 */
import { mkdtempSync } from 'node:fs'
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freshSchemaUrl } from './pg.ts'
import { startServer, type ServerProcess } from './server.ts'

export const CLUSTER_ADMIN_TOKEN = 'multi-instance-admin-token-0123456789abcdef'

/** Headers a proxy does not forward (RFC 9110 §7.6.1 connection-specific ones). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
])

export interface RoundRobinProxy {
  url: string
  /** Which instance (index) served each request, in order. */
  served: number[]
  /** The instance the next request will go to. */
  nextIndex(): number
  setTargets(urls: string[]): void
  close(): Promise<void>
}

export async function startRoundRobinProxy(): Promise<RoundRobinProxy> {
  let targets: URL[] = []
  let next = 0
  const served: number[] = []
  const server: Server = createServer((req, res) => {
    if (targets.length === 0) {
      res.writeHead(503).end()
      return
    }
    const index = next++ % targets.length
    served.push(index)
    const target = targets[index]!
    const headers: IncomingHttpHeaders = {}
    for (const [name, value] of Object.entries(req.headers))
      if (!HOP_BY_HOP.has(name)) headers[name] = value
    const client = req.socket.remoteAddress ?? '127.0.0.1'
    headers['x-forwarded-for'] = req.headers['x-forwarded-for']
      ? `${String(req.headers['x-forwarded-for'])}, ${client}`
      : client
    headers['x-forwarded-proto'] = 'http'
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (up) => {
        const out: string[] = []
        for (let i = 0; i < up.rawHeaders.length; i += 2) {
          if (!HOP_BY_HOP.has(up.rawHeaders[i]!.toLowerCase()))
            out.push(up.rawHeaders[i]!, up.rawHeaders[i + 1]!)
        }
        res.writeHead(up.statusCode ?? 502, up.statusMessage, out)
        up.pipe(res)
      },
    )
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    nextIndex: () => next % targets.length,
    setTargets(urls) {
      targets = urls.map((u) => new URL(u))
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

export interface Cluster {
  /** The proxy's URL: the ISSUER every instance is configured with. */
  url: string
  proxy: RoundRobinProxy
  instances: ServerProcess[]
  databaseUrl: string
  schema: string
  keysDir: string
  dir: string
  /** The admin API of one instance directly (JSON in, JSON out). */
  admin(
    instance: number,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }>
  stop(): Promise<void>
}

/** Starts `count` instances at once (on a fresh schema of the test PostgreSQL unless `databaseUrl` is given) (they race for the first keys, as real ones may) behind one proxy. */
export async function startCluster(
  opts: { count?: number; env?: Record<string, string>; databaseUrl?: string } = {},
): Promise<Cluster> {
  const count = opts.count ?? 2
  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-cluster-'))
  const { url: databaseUrl, schema } = opts.databaseUrl
    ? { url: opts.databaseUrl, schema: 'public' }
    : await freshSchemaUrl('sso_cluster')
  const proxy = await startRoundRobinProxy()
  const keysDir = path.join(dir, 'keys')
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      startServer(
        {
          DATABASE_URL: databaseUrl,
          KEYS_DIR: keysDir,
          DATA_DIR: path.join(dir, `data-${i}`),
          ISSUER: proxy.url,
          TRUST_PROXY: '1',
          ADMIN_TOKEN: CLUSTER_ADMIN_TOKEN,
          ...opts.env,
        },
        dir,
      ),
    ),
  )
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const stop = async () => {
    await proxy.close()
    await Promise.all(
      instances.map(async (s) => {
        if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM')
        await s.exited
      }),
    )
  }
  const failed = started.find((s) => s.status === 'rejected')
  if (failed) {
    await stop()
    throw (failed as PromiseRejectedResult).reason
  }
  proxy.setTargets(instances.map((s) => s.url))
  const admin = async (instance: number, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${instances[instance]!.url}/api/v1${p}`, {
      method,
      headers: {
        Authorization: `Bearer ${CLUSTER_ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }
  return { url: proxy.url, proxy, instances, databaseUrl, schema, keysDir, dir, admin, stop }
}
