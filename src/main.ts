/**
 * @module main
 * Composition root: config → logger → keys → store → services → doors → app → listen, and a graceful
 * shutdown on SIGTERM/SIGINT (stop accepting, let in-flight requests finish, close the store).
 */
import { createServer, type Server } from 'node:http'
import { resolveAdminToken } from './admin-token.ts'
import { loadConfig, type Config } from './config/index.ts'
import { BridgeError } from './errors/index.ts'
import { createDoors } from './doors.ts'
import { startEventRetention } from './events/index.ts'
import { createApp } from './http/app.ts'
import { metricsListener } from './http/routes/metrics.ts'
import { logStartup } from './http/startup-log.ts'
import { checkKeysInUse, ensureCookieSecret, ensureKeys, fingerprintKeys } from './keys/index.ts'
import { loadSecretBox } from './keys/secrets-key.ts'
import { createLogger, type Logger } from './log/logger.ts'
import { createServices } from './services.ts'
import { createStore } from './store/index.ts'
import { VERSION } from './version.ts'

/** A started server: its address and how to stop it gracefully (what {@link start} returns). */
export interface Running {
  server: Server
  url: string
  stop: () => Promise<void>
}

/**
 * Starts the bridge with a loaded config: admin token, keys and cookie secret (generated on
 * first start), the store (refusing keys that differ from those the database records),
 * services, doors and the HTTP app, then listens on `config.host:config.port`.
 * @param config from {@link loadConfig}
 * @param log the process logger; operational notes (generated keys, where the admin token is) go here
 * @throws {KeysMismatch} KEYS_DIR holds other keys than the instances on this database use
 * @throws {StoreInUse} another server already holds this SQLite database
 * @throws {StoreUnavailable} the database cannot be reached
 * @example
 * const running = await start(loadConfig(), log)
 * process.once('SIGTERM', () => void running.stop())
 */
export async function start(config: Readonly<Config>, log: Logger): Promise<Running> {
  const admin = resolveAdminToken(config.adminToken, config.dataDir)
  if (admin.source === 'generated')
    log.warn(
      { file: admin.file },
      'ADMIN_TOKEN is not set: generated an admin token; read it from this file',
    )
  else if (admin.source === 'file')
    log.info(
      { file: admin.file },
      'admin token loaded from file (set ADMIN_TOKEN to choose your own)',
    )

  const { keys, generated } = await ensureKeys(config.keysDir, {
    commonName: new URL(config.issuer).hostname,
    log: (msg) => log.info({ keysDir: config.keysDir }, msg),
  })
  if (generated) log.info({ keysDir: config.keysDir }, 'generated signing keys (first start)')
  const cookie = ensureCookieSecret(config.keysDir)
  if (cookie.generated)
    log.info({ keysDir: config.keysDir }, 'generated the cookie secret (first start)')
  const secrets = loadSecretBox(config.secretsKeys, config.keysDir)
  if (secrets.source === 'generated')
    log.info(
      { file: secrets.file },
      'generated the secrets key (first start): back it up with KEYS_DIR, or set SECRETS_KEY',
    )

  if (config.issuer.startsWith('https:') && config.trustProxy === false) {
    // This server speaks plain HTTP: an https ISSUER means a TLS proxy in front, and without
    // trusting it every member is counted under the proxy's address by the sign-in throttle.
    // (Secure cookies and https URLs follow ISSUER, not the proxy: test/deploy/tls.test.ts.)
    log.warn(
      { issuer: config.issuer },
      'ISSUER is https but TRUST_PROXY is false: behind your TLS proxy set TRUST_PROXY to its hop count (true = 1, the proxy this server talks to) or to its addresses/CIDRs',
    )
  }
  const store = await createStore(config.store, { server: { dataDir: config.dataDir } })
  try {
    // Instances on one database must sign with the same keys (keys/fingerprints.ts).
    const recorded = await checkKeysInUse(
      store,
      config.keysDir,
      await fingerprintKeys(keys, cookie.secret),
    )
    if (recorded === 'recorded')
      log.info(
        { keysDir: config.keysDir },
        'recorded the fingerprints of the keys in use in the database',
      )
  } catch (err) {
    await store.close().catch(() => {})
    throw err
  }
  const services = createServices(
    store,
    { ...config, secrets: secrets.box, keys: () => Promise.resolve(keys) },
    log,
  )
  try {
    // A secret this server cannot open stops it here (ERR_SECRETS_KEY_MISSING, naming the key
    // id), not at a member's sign-in; then what an older version stored in plain text is sealed.
    const { checked } = await services.integrations.checkSealed()
    const sealed = await services.sealPlaintextOnce()
    log.info(
      {
        keyId: secrets.box.keyIds[0],
        keySource: secrets.source,
        decryptKeys: secrets.box.keyIds.length,
        checked,
        sealed: sealed.integration_secrets.sealed,
        ...(sealed.walked ? { storedSealed: sealed.walked.stored } : {}),
      },
      'secrets at rest: sealed under the first secrets key',
    )
  } catch (err) {
    await store.close().catch(() => {})
    throw err
  }
  // EVENTS_RETENTION_DAYS: prunes now and hourly; several instances may (events/retention.ts).
  const stopRetention = startEventRetention({
    store,
    retentionMs: config.eventsRetentionMs,
    log,
  })
  const doors = createDoors(services, {
    issuer: config.issuer,
    keys,
    cookieSecret: cookie.secret,
    site: config.site,
    sessionTtlMs: config.sessionTtlMs,
    log,
    siteTicket: config.siteTicket,
    siteLogin: config.siteLogin,
    samlSkewMs: config.samlSkewMs,
    siteLogoutUrl: config.siteLogoutUrl,
    backchannelPrivateNetworks: config.backchannelPrivateNetworks,
    console: config.console,
  })
  const app = createApp({
    services,
    doors,
    log,
    issuer: config.issuer,
    version: VERSION,
    adminToken: admin.token,
    maxBodyBytes: config.maxBodyBytes,
    importMaxBytes: config.importMaxBytes,
    keys,
    keysDir: config.keysDir,
    site: config.site,
    trustProxy: config.trustProxy,
    loginFailureFloorMs: config.loginFailureFloorMs,
    siteTicket: config.siteTicket,
    metricsHere: config.metricsPort === undefined,
    privateNetworkFetch: config.backchannelPrivateNetworks,
  })

  // METRICS_PORT: /metrics alone on a listener of its own (no admin token: a private port).
  const metricsServer =
    config.metricsPort === undefined
      ? undefined
      : await new Promise<Server>((resolve, reject) => {
          const s = createServer(metricsListener(services.metrics, log))
          s.once('error', reject)
          s.listen(config.metricsPort, config.host, () => resolve(s))
        })
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, (err?: Error) =>
      err ? reject(err) : resolve(s),
    )
  })
  // Outlive the idle timeout of the proxies usually in front (60 s on common load balancers),
  // so a proxy never reuses a connection this server has just closed (a 502 at random).
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  logStartup(log, config)
  const metricsAddress = metricsServer?.address()
  const metricsPort =
    typeof metricsAddress === 'object' && metricsAddress ? metricsAddress.port : undefined
  log.info(
    {
      port,
      ...(metricsPort === undefined ? {} : { metricsPort }),
      pid: process.pid,
      issuer: config.issuer,
      store: store.kind,
      version: VERSION,
    },
    'sso-bridge listening',
  )

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down: no new connections, finishing in-flight requests')
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      metricsServer?.close()
      metricsServer?.closeAllConnections()
      // close() only drops connections idle right now; keep-alive sockets of requests still in
      // flight go idle later and would otherwise hold the process for keepAliveTimeout.
      const sweeper = setInterval(() => server.closeIdleConnections(), 50)
      const timer = setTimeout(() => {
        log.warn(
          { timeoutMs: config.shutdownTimeoutMs },
          'shutdown timeout: closing remaining connections',
        )
        server.closeAllConnections()
      }, config.shutdownTimeoutMs)
      await closed
      clearTimeout(timer)
      clearInterval(sweeper)
      await stopRetention()
      // What the last requests recorded goes in before the store closes.
      await services.events.flush()
      await store.close()
      log.info('stopped')
    })())
  return { server, url: `http://127.0.0.1:${port}`, stop }
}

/**
 * The process's start: loads the config from the environment (exit 78 on a bad setting), starts
 * the server and stops it gracefully on SIGTERM/SIGINT (exit 0), or logs why it cannot start
 * (exit 1). Runs when this file is the entry point (`node src/main.ts`), and is what
 * scripts/start.js (`npm start`) calls, from the bundle or from this file.
 */
export async function main(): Promise<void> {
  let config: Readonly<Config>
  try {
    config = loadConfig(process.env)
  } catch (err) {
    process.stderr.write(`sso-bridge: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(78) // EX_CONFIG
  }
  const log = createLogger(config.logLevel)
  try {
    const running = await start(config, log)
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        running.stop().then(
          () => process.exit(0),
          (err) => {
            log.error({ err: { message: err?.message } }, 'error during shutdown')
            process.exit(1)
          },
        )
      })
    }
  } catch (err) {
    const code = err instanceof BridgeError ? err.code : undefined
    log.fatal(
      { code, err: { message: (err as Error)?.message, stack: (err as Error)?.stack } },
      'cannot start',
    )
    process.exit(1)
  }
}

if (import.meta.main) await main()
