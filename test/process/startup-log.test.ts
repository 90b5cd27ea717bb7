/**
 * What the server says at start (src/http/startup-log.ts), read from a real server process's
 * output: one line listing every door and its URLs, which must be the URLs the server really
 * serves (cross-checked against the discovery document and the SAML metadata, and fetched), and
 * the warning for a localhost ISSUER on a public interface, tested both ways.
 */
import { afterAll, describe, expect, it as vitestIt } from 'vitest'
import {
  PROCESS_TEST_TIMEOUT,
  startServer,
  stopServer,
  type ServerProcess,
} from '../helpers/server.ts'

// Every test starts the real server (seconds on a loaded machine); the timeout only catches a hang.
const it = (name: string, fn: () => Promise<void>) => vitestIt(name, fn, PROCESS_TEST_TIMEOUT)

const ISSUER = 'https://sso.example.test'
const ADMIN_TOKEN = 'startup-log-admin-token-0123456789'
const TICKET_SECRET = 'startup-log-ticket-secret-0123456789abcdef'

const started: ServerProcess[] = []
afterAll(async () => {
  for (const s of started) await stopServer(s)
}, PROCESS_TEST_TIMEOUT)

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const s = await startServer(env)
  started.push(s)
  return s
}

/** The server's JSON log lines. */
function lines(s: ServerProcess): Record<string, any>[] {
  return s
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>)
}

const WARNING = 'ISSUER_LOCALHOST_PUBLIC_BIND'

describe('the start-up line listing every door', () => {
  it('names every door under ISSUER, and each URL is what the server serves', async () => {
    // Public interface, public ISSUER (behind a proxy): the usual production start.
    const s = await start({
      HOST: '0.0.0.0',
      ISSUER,
      TRUST_PROXY: '1',
      ADMIN_TOKEN,
      SITE_TICKET_SECRET: TICKET_SECRET,
    })
    const doorLines = lines(s).filter((l) => l.code === 'STARTUP_DOORS')
    expect(doorLines).toHaveLength(1)
    const { doors, level } = doorLines[0]!
    expect(level).toBe('info')
    expect(Object.keys(doors).sort()).toEqual([
      'console',
      'discourse',
      'login',
      'oidc',
      'saml',
      'server',
      'tokens',
    ])
    const all = Object.values(doors).flatMap((d) => Object.values(d as Record<string, string>))
    expect(all.length).toBeGreaterThan(20)
    for (const url of all) expect(url.startsWith(ISSUER)).toBe(true)
    // No value was censored (the OIDC door's `token` URL is named like a credential).
    expect(JSON.stringify(doors)).not.toContain('[redacted]')
    expect(lines(s).some((l) => l.code === WARNING)).toBe(false)

    const at = (url: string, init?: RequestInit) => {
      const u = new URL(url)
      return fetch(`${s.url}${u.pathname}${u.search}`, init)
    }
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }

    // OIDC: the logged URLs are the ones the discovery document advertises.
    const discovery = await (await at(doors.oidc.discovery)).json()
    expect(doors.oidc).toMatchObject({
      issuer: discovery.issuer,
      authorization: discovery.authorization_endpoint,
      token: discovery.token_endpoint,
      jwks: discovery.jwks_uri,
      userinfo: discovery.userinfo_endpoint,
      end_session: discovery.end_session_endpoint,
      introspection: discovery.introspection_endpoint,
      revocation: discovery.revocation_endpoint,
    })
    // SAML: the metadata's entity ID, SSO and SLO locations.
    const metadata = await (await at(doors.saml.metadata)).text()
    expect(metadata).toContain(`entityID="${doors.saml.metadata}"`)
    expect(metadata).toContain(
      `SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${doors.saml.sso}"`,
    )
    expect(metadata).toContain(`Location="${doors.saml.slo}"`)

    // The shell's pages and the admin API answer where the line says.
    for (const name of ['home', 'health', 'ready', 'docs'])
      expect((await at(doors.server[name])).status, name).toBe(200)
    expect((await at(`${doors.server.adminApi}/users`, { headers: admin })).status).toBe(200)
    // The console: its sign-in page answers where the line says.
    expect((await at(doors.console.login)).status).toBe(200)
    // Login: the sign-in page; the ticket and logout doors are mounted (a request without a
    // ticket is refused by them, not unknown).
    expect((await at(`${doors.login.login}?return_to=%2F`)).status).toBe(200)
    for (const name of ['ticket', 'logout']) {
      const res = await at(doors.login[name])
      expect(res.status, name).toBeGreaterThanOrEqual(400)
      expect(res.status, name).not.toBe(404)
    }

    // Tokens: the token API, for a real integration and member.
    expect(
      (
        await at(`${ISSUER}/api/v1/users/42`, {
          method: 'PUT',
          headers: admin,
          body: JSON.stringify({ username: 'rob', email: 'rob@example.test' }),
        })
      ).status,
    ).toBe(201)
    expect(
      (
        await at(`${ISSUER}/api/v1/integrations/chat`, {
          method: 'PUT',
          headers: admin,
          body: JSON.stringify({
            type: 'jwt',
            settings: { target_url: 'https://chat.example.com/sso' },
            secrets: { secret: 'jwt-secret-for-the-startup-test-0123456789' },
          }),
        })
      ).status,
    ).toBe(201)
    const token = await at(doors.tokens.api.replace('{integration_id}', 'chat'), {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ external_id: '42' }),
    })
    expect(token.status).toBe(200)
  })
})

describe('the warning for a localhost ISSUER on a public interface', () => {
  it('warns, with its code, when ISSUER is left at its default and HOST is 0.0.0.0', async () => {
    const s = await start({ HOST: '0.0.0.0' })
    const warnings = lines(s).filter((l) => l.code === WARNING)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ level: 'warn', host: '0.0.0.0' })
    expect(warnings[0]!.issuer).toMatch(/^http:\/\/localhost:\d+$/)
    expect(warnings[0]!.msg).toMatch(/Set ISSUER to the public URL/)
  })

  it('does not warn when the default ISSUER goes with a loopback HOST', async () => {
    const s = await start({ HOST: '127.0.0.1' })
    expect(lines(s).some((l) => l.code === 'STARTUP_DOORS')).toBe(true)
    expect(lines(s).some((l) => l.code === WARNING)).toBe(false)
  })
})
