/**
 * The documented deployment, run for real: Debian's nginx (/usr/sbin/nginx) started from the
 * shipped site file docs/deploy/nginx.conf, with only its ports, host name and certificate paths
 * filled in, in front of a real server process; plus a throwaway self-signed certificate made by
 * `openssl req -x509` and a fetch that trusts it (undici's Agent with that CA: the process's
 * trust store and NODE_TLS_REJECT_UNAUTHORIZED are left alone).
 *
 * nginx runs in a temp dir as its own prefix (`-p`): pid, logs and temp paths there, nothing
 * under /etc or /var touched. It is stopped by its pid in {@link Nginx.stop}.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Agent, fetch as undiciFetch } from 'undici'
import { PROCESS_START_TIMEOUT } from './timeouts.ts'

export const NGINX = '/usr/sbin/nginx'
export const OPENSSL = '/usr/bin/openssl'
/** The shipped site file (what docs/deploying.md tells an operator to install). */
export const NGINX_SITE = path.resolve('docs/deploy/nginx.conf')

export const NGINX_MISSING =
  "The TLS deployment suite needs Debian's nginx and openssl: `apt-get install -y --no-install-recommends nginx openssl`. It never skips."

/** A self-signed certificate for one host name (and 127.0.0.1), its key, and the PEM text. */
export interface TestCertificate {
  certFile: string
  keyFile: string
  pem: string
}

/** Makes a throwaway certificate with `openssl req -x509` (EC P-256, one day). */
export function makeCertificate(dir: string, host = 'localhost'): TestCertificate {
  const certFile = path.join(dir, 'tls.crt')
  const keyFile = path.join(dir, 'tls.key')
  const r = spawnSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${host}`,
      '-addext',
      `subjectAltName=DNS:${host},IP:127.0.0.1`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { encoding: 'utf8', timeout: PROCESS_START_TIMEOUT },
  )
  if (r.status !== 0) throw new Error(`openssl req failed (${r.status}):\n${r.stderr}`)
  return { certFile, keyFile, pem: readFileSync(certFile, 'utf8') }
}

/** What the test fills into the shipped site file. */
export interface SiteValues {
  serverName: string
  /** Replaces `listen 443 ssl`. */
  tlsPort: number
  /** Replaces `listen 80` (the redirect to https). */
  httpPort: number
  /** The sso-bridge server's port (replaces the upstream's 127.0.0.1:3000). */
  upstreamPort: number
  cert: TestCertificate
}

/**
 * The shipped site file with the values filled in. Each replaced text must occur exactly as the
 * file writes it: if the documented file changes, this throws rather than test something else.
 */
export function fillSite(text: string, v: SiteValues): string {
  const replacements: [string, string][] = [
    ['listen 443 ssl;', `listen 127.0.0.1:${v.tlsPort} ssl;`],
    ['listen 80;', `listen 127.0.0.1:${v.httpPort};`],
    ['server 127.0.0.1:3000;', `server 127.0.0.1:${v.upstreamPort};`],
    ['/etc/letsencrypt/live/sso.example.com/fullchain.pem', v.cert.certFile],
    ['/etc/letsencrypt/live/sso.example.com/privkey.pem', v.cert.keyFile],
    ['server_name sso.example.com;', `server_name ${v.serverName};`],
  ]
  let out = text
  for (const [from, to] of replacements) {
    if (!out.includes(from)) throw new Error(`docs/deploy/nginx.conf no longer has "${from}"`)
    out = out.split(from).join(to)
  }
  return out
}

export interface Nginx {
  dir: string
  /** nginx's error log so far. */
  errorLog: () => string
  /** nginx's access log so far (`$remote_addr` first on each line). */
  accessLog: () => string
  stop: () => Promise<void>
}

/**
 * Starts nginx with a minimal main configuration (pid, logs, temp paths in `dir`) that includes
 * `site` (a filled copy of the shipped file), and waits for its pid file: nginx writes it once
 * its listening sockets are bound.
 */
export async function startNginx(dir: string, site: string): Promise<Nginx> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX_MISSING} (missing: ${NGINX})`)
  const temp = path.join(dir, 'nginx-temp')
  mkdirSync(temp, { recursive: true })
  const file = (name: string) => path.join(dir, name)
  writeFileSync(file('site.conf'), site)
  // As root, nginx's workers would run as `nobody` and could not use the temp dir made here.
  const asRoot = process.getuid?.() === 0
  writeFileSync(
    file('nginx.conf'),
    `${asRoot ? 'user root;\n' : ''}worker_processes 1;
pid ${file('nginx.pid')};
error_log ${file('nginx-error.log')} info;
events { worker_connections 256; }
http {
  access_log ${file('nginx-access.log')};
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  include ${file('site.conf')};
}
`,
  )
  const child = spawn(
    NGINX,
    ['-p', dir, '-c', file('nginx.conf'), '-e', file('nginx-error.log'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const read = (name: string) => (existsSync(file(name)) ? readFileSync(file(name), 'utf8') : '')
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await exited
  }
  const started = Date.now()
  while (!existsSync(file('nginx.pid'))) {
    if (child.exitCode !== null)
      throw new Error(`nginx exited (${child.exitCode}):\n${out}\n${read('nginx-error.log')}`)
    if (Date.now() - started > PROCESS_START_TIMEOUT) {
      await stop()
      throw new Error(`nginx did not start:\n${out}\n${read('nginx-error.log')}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    dir,
    errorLog: () => read('nginx-error.log'),
    accessLog: () => read('nginx-access.log'),
    stop,
  }
}

/**
 * A fetch that trusts `ca` alone (tls `ca` replaces the default roots), over IPv4, optionally
 * from a given loopback source address (127.0.0.2 …) so that nginx sees distinct clients.
 */
export function trustingFetch(ca: string, localAddress?: string): typeof fetch {
  const dispatcher = new Agent({
    connect: { ca, family: 4 },
    ...(localAddress ? { localAddress } : {}),
  })
  return ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch
}
