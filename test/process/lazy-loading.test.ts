/**
 * Issue #13 ("Lean and fast"): what a configuration does not use is not loaded. A real server
 * process (SQLite, no SAML integration) records every module it loads (helpers/loaded-modules.ts);
 * after serving the health, home, OIDC discovery, admin and token API, it has not loaded the
 * PostgreSQL driver, the Markdown renderer, the SAML XML stack, the CSV parser or the password
 * hashers. Then the same server, asked for /docs, the SAML metadata, a CSV import and a password,
 * has loaded each of them (so the first half is not passing because nothing is recorded).
 *
 * Both ways the server runs: from its bundle (`npm start`, scripts/start.js), where a package
 * counts as loaded once the chunk holding it is (helpers/loaded-modules.ts reads the bundle's
 * metafile), and from the sources (`node src/main.ts`).
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadedModulesEnv, loadedPackages } from '../helpers/loaded-modules.ts'
import {
  PROCESS_TEST_TIMEOUT,
  startServer,
  stopServer,
  type ServerProcess,
} from '../helpers/server.ts'

const ADMIN = 'lazy-loading-admin-token-0123456789abcdef'
const auth = { Authorization: `Bearer ${ADMIN}` }

/** Loaded only when used: the packages and what uses them. */
const DEFERRED = {
  pg: 'DATABASE_URL (PostgreSQL)',
  marked: '/docs',
  'github-slugger': '/docs',
  samlify: 'a SAML URL',
  'xml-crypto': 'a SAML URL',
  '@xmldom/xmldom': 'a SAML URL or SP metadata',
  '@authenio/xml-encryption': 'an encrypted SAML assertion',
  'csv-parse': 'a CSV import',
  '@node-rs/argon2': 'a password',
  bcryptjs: 'a password',
}

let server: ServerProcess | undefined
afterEach(async () => {
  await stopServer(server, 'SIGKILL')
  server = undefined
})

/** How each run starts the server, and the module its recording must show it ran. */
const MODES = [
  {
    name: 'from its bundle (npm start)',
    via: 'node',
    entry: /\/sso-bridge\/server\/[0-9a-f]{64}\/main\.mjs$/,
  },
  { name: 'from its sources (node src/main.ts)', via: 'source', entry: /\/src\/main\.ts$/ },
] as const

/** Starts a server recording its modules; `finish()` stops it gracefully and returns the packages it loaded (and `urls`, every module's). */
async function recordingServer(dir: string, file: string, via: 'node' | 'source') {
  server = await startServer({ ADMIN_TOKEN: ADMIN, ...loadedModulesEnv(file) }, dir, via)
  const running = server
  return {
    url: running.url,
    urls: () => readFileSync(file, 'utf8').split('\n'),
    async finish(): Promise<Set<string>> {
      running.child.kill('SIGTERM')
      expect(await running.exited).toBe(0)
      return loadedPackages(readFileSync(file, 'utf8'))
    },
  }
}

const put = (url: string, body: unknown) =>
  fetch(url, {
    method: 'PUT',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })

describe.each(MODES)('lazy loading (issue #13), the server $name', ({ via, entry }) => {
  it(
    'a SQLite server with no SAML integration loads none of the deferred packages until they are used',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-lazy-'))
      const first = await recordingServer(dir, path.join(dir, 'first.txt'), via)
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200)
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200)
      expect((await fetch(`${first.url}/`)).status).toBe(200)
      expect((await fetch(`${first.url}/.well-known/openid-configuration`)).status).toBe(200)
      expect(
        (
          await put(`${first.url}/api/v1/integrations/minnit`, {
            type: 'minnit-zero-click',
            settings: { chat_url: 'https://organizations.minnit.chat/626811533994618/c/Main' },
            secrets: { encryption_key: 'z8pkH$jjNEWEEEe*DwThe4K2iDtjDwYQ' },
          })
        ).status,
      ).toBe(201)
      expect((await put(`${first.url}/api/v1/users/42`, { username: 'Rob' })).status).toBe(201)
      const token = await fetch(`${first.url}/api/v1/integrations/minnit/tokens`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ external_id: '42' }),
      })
      expect(token.status).toBe(200)
      const idle = await first.finish()
      // It ran the way this run is about (not, say, the sources when the bundle failed to build).
      expect(first.urls().filter((u) => entry.test(u))).toHaveLength(1)
      // The recording sees packages at all: the ones every server needs are there.
      expect(idle).toContain('oidc-provider')
      expect(idle).toContain('express')
      expect([...idle].filter((p) => p in DEFERRED)).toEqual([])
      // rate-limiter-flexible: the two files the throttle uses, not the index of every limiter.
      const limiter = first.urls().filter((u) => u.includes('/node_modules/rate-limiter-flexible/'))
      expect(limiter.map((u) => u.split('/rate-limiter-flexible/')[1]).sort()).toEqual(
        expect.arrayContaining(['lib/RateLimiterRes.js', 'lib/RateLimiterStoreAbstract.js']),
      )
      expect(limiter.filter((u) => u.endsWith('/rate-limiter-flexible/index.js'))).toEqual([])

      // The same server and data, now using each of them.
      const second = await recordingServer(dir, path.join(dir, 'second.txt'), via)
      expect((await fetch(`${second.url}/docs`)).status).toBe(200)
      expect((await fetch(`${second.url}/saml/metadata`)).status).toBe(200)
      const csv = await fetch(`${second.url}/api/v1/users/import`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'text/csv' },
        body: 'external_id,username\n1001,alice\n',
      })
      expect(csv.status).toBe(200)
      expect(
        (
          await put(`${second.url}/api/v1/users/43`, {
            username: 'Ann',
            password: 'correct horse battery',
          })
        ).status,
      ).toBe(201)
      const used = await second.finish()
      for (const p of [
        'marked',
        'github-slugger',
        'samlify',
        'xml-crypto',
        '@xmldom/xmldom',
        'csv-parse',
        '@node-rs/argon2',
      ])
        expect(used, `${p} after ${DEFERRED[p as keyof typeof DEFERRED]}`).toContain(p)
      // Still SQLite: the PostgreSQL driver stays unloaded.
      expect(used).not.toContain('pg')
    },
    PROCESS_TEST_TIMEOUT * 2,
  )
})
