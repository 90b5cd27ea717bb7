/**
 * Site-ticket settings: SITE_TICKET_SECRET, SITE_TICKET_PUBLIC_KEY (PEM text or a file) and
 * SITE_ORIGINS as loadConfig reads them, and the wiring from the environment to /ticket in the
 * real server process.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import {
  PROCESS_TEST_TIMEOUT,
  startServer,
  stopServer,
  type ServerProcess,
} from '../helpers/server.ts'

const noFile = { envFile: false as const }
const SECRET = 'site-ticket-secret-for-tests-0123456789abcdef'

function issuesOf(env: Record<string, string>): { path: string; message: string }[] {
  try {
    loadConfig(env, noFile)
  } catch (err) {
    expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID' })
    return (err as { issues: { path: string; message: string }[] }).issues
  }
  throw new Error('loadConfig accepted it')
}

describe('site ticket settings', () => {
  it('are off by default', () => {
    expect(loadConfig({}, noFile).siteTicket).toEqual({ origins: [] })
  })

  it('read the secret and normalized origins', () => {
    const c = loadConfig(
      {
        SITE_TICKET_SECRET: SECRET,
        SITE_ORIGINS:
          ' https://www.example.com/ , https://Chat.Example.com:8443,https://www.example.com',
      },
      noFile,
    )
    expect(c.siteTicket).toEqual({
      secret: SECRET,
      origins: ['https://www.example.com', 'https://chat.example.com:8443'],
    })
  })

  it('refuse a short secret without echoing it', () => {
    const issues = issuesOf({ SITE_TICKET_SECRET: 'too-short-secret' })
    expect(issues.map((i) => i.path)).toEqual(['SITE_TICKET_SECRET'])
    expect(issues[0]!.message).toMatch(/32 bytes.*value hidden/)
    expect(JSON.stringify(issues)).not.toContain('too-short-secret')
  })

  it('refuse origins with a path, query, credentials or another scheme', () => {
    for (const bad of [
      'https://www.example.com/chat',
      'www.example.com',
      'javascript:alert(1)',
      'https://u:p@www.example.com',
      'https://www.example.com?x',
      'ftp://files.example.com',
    ]) {
      expect(
        issuesOf({ SITE_ORIGINS: `https://ok.example.com,${bad}` }).map((i) => i.path),
        bad,
      ).toEqual(['SITE_ORIGINS'])
    }
  })

  it('take the public key as PEM text, with \\n escapes, or as a file path', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string
    expect(loadConfig({ SITE_TICKET_PUBLIC_KEY: pem }, noFile).siteTicket.publicKey).toBe(pem)
    expect(
      loadConfig({ SITE_TICKET_PUBLIC_KEY: pem.replaceAll('\n', '\\n') }, noFile).siteTicket
        .publicKey,
    ).toBe(pem)
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sso-bridge-key-')), 'site.pem')
    writeFileSync(file, pem)
    expect(loadConfig({ SITE_TICKET_PUBLIC_KEY: file }, noFile).siteTicket.publicKey).toBe(pem)
  })

  it('refuse a private key, a weak or unsupported key, and a missing file', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const cases: [string, RegExp][] = [
      [rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, /never the private key/],
      [
        generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
          type: 'spki',
          format: 'pem',
        }) as string,
        /2048 bits/,
      ],
      [
        generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
          type: 'spki',
          format: 'pem',
        }) as string,
        /P-256/,
      ],
      [
        generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string,
        /unsupported key type/,
      ],
      ['-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n', /not a PEM public key/],
      ['/no/such/site.pem', /neither PEM text nor a readable PEM file/],
    ]
    for (const [value, message] of cases) {
      const issues = issuesOf({ SITE_TICKET_PUBLIC_KEY: value })
      expect(issues.map((i) => i.path)).toEqual(['SITE_TICKET_PUBLIC_KEY'])
      expect(issues[0]!.message).toMatch(message)
    }
    expect(
      loadConfig(
        { SITE_TICKET_PUBLIC_KEY: rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string },
        noFile,
      ).siteTicket.publicKey,
    ).toMatch(/BEGIN PUBLIC KEY/)
  })
})

describe('site tickets in the server process (npm start)', () => {
  let server: ServerProcess | undefined
  afterEach(async () => {
    await stopServer(server)
    server = undefined
  })

  it(
    'the environment turns /ticket on: a ticket signs in and goes to an allow-listed origin',
    async () => {
      const issuer = 'http://sso.test'
      server = await startServer({
        ISSUER: issuer,
        SITE_TICKET_SECRET: SECRET,
        SITE_ORIGINS: 'https://www.example.com',
      })
      const iat = Math.floor(Date.now() / 1000)
      const ticket = await new SignJWT({
        external_id: '42',
        username: 'Rob',
        aud: `${issuer}/ticket`,
        iat,
        exp: iat + 60,
        jti: randomUUID(),
      })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(SECRET))
      const url = `${server.url}/ticket?${new URLSearchParams({ ticket, return_to: 'https://www.example.com/chat' })}`
      const res = await fetch(url, { redirect: 'manual' })
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toBe('https://www.example.com/chat')
      expect(res.headers.get('set-cookie')).toMatch(/^sso_bridge=/)
      const again = await fetch(url, { redirect: 'manual' })
      expect(again.status).toBe(400)
      expect(await again.text()).toContain('ticket_replayed')
      await server.logged('"code":"ERR_TICKET_REPLAYED"') // the log line may trail the response
      expect(server.logs()).not.toContain(ticket.split('.')[2]!)
      expect(server.logs()).not.toContain(SECRET)
    },
    PROCESS_TEST_TIMEOUT,
  )
})
