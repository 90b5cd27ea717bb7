import { readFileSync, statSync, existsSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterEach, describe, expect, it as vitestIt } from 'vitest'
import {
  PROCESS_TEST_TIMEOUT,
  runServer,
  startServer,
  stopServer,
  type ServerProcess,
} from '../helpers/server.ts'

// Every test starts the real server (seconds on a loaded machine); the timeout only catches a hang.
const it = (name: string, fn: () => Promise<void>) => vitestIt(name, fn, PROCESS_TEST_TIMEOUT)

let server: ServerProcess | undefined
afterEach(async () => {
  await stopServer(server, 'SIGKILL')
  server = undefined
})

describe('the server process (npm start)', () => {
  it('starts on the embedded store, generates keys and an admin token it never logs', async () => {
    server = await startServer()
    const health = await fetch(`${server.url}/healthz`)
    expect(await health.json()).toEqual({ status: 'ok' })
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({
      status: 'ready',
      store: 'sqlite',
    })

    const tokenFile = path.join(server.dir, 'data', 'admin-token')
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600)
    const token = readFileSync(tokenFile, 'utf8').trim()
    expect(token.length).toBeGreaterThanOrEqual(32)
    expect(server.logs()).toContain(tokenFile)
    expect(server.logs()).not.toContain(token)

    const res = await fetch(`${server.url}/api/v1/users`, {
      headers: { Authorization: `Bearer ${token}` },
    })
    expect(res.status).toBe(200)
    expect(existsSync(path.join(server.dir, 'data', 'sso-bridge.sqlite'))).toBe(true)
    expect(existsSync(path.join(server.dir, 'keys', 'oidc-jwks.json'))).toBe(true)
    expect(server.logs()).toMatch(/generated signing keys/)

    const home = await fetch(`${server.url}/`)
    const html = await home.text()
    expect(html).toContain('sso-bridge')
    expect(html).toMatch(/version \d+\.\d+\.\d+/)
    // Every link on the page leads somewhere real.
    const links = [...html.matchAll(/href="([^"#]+)(#[^"]*)?"/g)].map((m) => m[1]!)
    expect(links.length).toBeGreaterThanOrEqual(3)
    // Absolute links name the configured issuer (port 0 here); the rest are relative (/assets/…).
    for (const link of links)
      expect(
        (await fetch(new URL(link.replace('http://localhost:0', server.url), server.url))).status,
        link,
      ).toBe(200)
  })

  it('reuses the generated admin token and keys on the next start', async () => {
    const first = await startServer()
    const token = readFileSync(path.join(first.dir, 'data', 'admin-token'), 'utf8')
    const jwks = readFileSync(path.join(first.dir, 'keys', 'oidc-jwks.json'), 'utf8')
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    server = await startServer({}, first.dir)
    expect(readFileSync(path.join(first.dir, 'data', 'admin-token'), 'utf8')).toBe(token)
    expect(readFileSync(path.join(first.dir, 'keys', 'oidc-jwks.json'), 'utf8')).toBe(jwks)
    expect(server.logs()).not.toMatch(/generated signing keys/)
  })

  it('on SIGTERM finishes the in-flight request, then exits 0', async () => {
    // The shutdown timeout is not what this test is about: a loaded machine must not reach it.
    server = await startServer({
      ADMIN_TOKEN: 'a-configured-admin-token-123456',
      SHUTDOWN_TIMEOUT_MS: '600000',
    })
    const running = server
    const { port } = new URL(running.url)
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      // With Expect: 100-continue, the "100 Continue" says the server has taken the request in.
      const headers = {
        Authorization: 'Bearer a-configured-admin-token-123456',
        'Content-Type': 'application/x-ndjson',
        Expect: '100-continue',
      }
      const req = http.request(
        { port, method: 'POST', path: '/api/v1/users/import', headers },
        (res) => {
          let body = ''
          res.on('data', (d) => (body += d))
          res.on('end', () => resolve({ status: res.statusCode!, body }))
        },
      )
      req.on('error', reject)
      req.on('continue', () => {
        req.write('{"external_id":"in-flight-1"}\n')
        // The body is still open when the server starts shutting down; it completes afterwards.
        running.child.kill('SIGTERM')
        running
          .logged('shutting down')
          .then(() => req.end('{"external_id":"in-flight-2"}\n'), reject)
      })
      req.flushHeaders()
    })
    const { status, body } = await response
    expect(status).toBe(200)
    expect(JSON.parse(body)).toMatchObject({ accepted: 2 })
    expect(await server.exited).toBe(0)
    expect(server.logs()).toMatch(/"msg":"stopped"/)
  })

  it('`npm start` hands SIGTERM to the server: it shuts down gracefully and nothing is left running', async () => {
    server = await startServer({}, undefined, 'npm')
    const url = server.url
    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    const pid = Number(/"pid":(\d+)/.exec(server.logs())![1])
    // npm and the server share the output pipes: they close once every process holding them has
    // exited, so no orphan is left (one would keep them open, and this test would not finish).
    const child = server.child
    const pipesClosed = new Promise((resolve) => child.once('close', resolve))
    try {
      child.kill('SIGTERM') // the signal goes to npm, as a container runtime would send it
      await server.exited
      await pipesClosed
      // The start script execs node, so the signal reached the server itself.
      expect(server.logs()).toMatch(/"msg":"stopped"/)
      await expect(fetch(`${url}/healthz`)).rejects.toThrow()
    } finally {
      try {
        process.kill(pid, 'SIGKILL') // only if the test failed: the orphan must not outlive it
      } catch {
        // already gone: the test passed and stopped it
      }
    }
  })

  it('refuses to start on a bad config value, naming the key', async () => {
    const { code, output } = await runServer({ PORT: 'eighty', DATABASE_URL: 'mysql://nope' })
    expect(code).toBe(78)
    expect(output).toMatch(/PORT: .*"eighty"/)
    expect(output).toMatch(/DATABASE_URL: /)
  })

  it('fails clearly when the PostgreSQL server cannot be reached, without printing its password', async () => {
    const { code, output } = await runServer({
      PORT: '0',
      DATABASE_URL: 'postgres://sso:s3cret-pw@127.0.0.1:1/sso',
    })
    expect(code).toBe(1)
    expect(output).toContain('ERR_STORE_UNAVAILABLE')
    expect(output).not.toContain('s3cret-pw')
  })
})
