/**
 * The start-up report's pure parts (src/http/startup-log.ts): which hosts count as loopback,
 * when the ISSUER warning applies, and that the doors' URLs follow the path tables. The lines
 * themselves are read from a real server in test/process/startup-log.test.ts.
 */
import { describe, expect, it } from 'vitest'
import {
  doorUrls,
  INTEGRATION_ID,
  isLoopbackHost,
  issuerUnreachable,
} from '../../src/http/startup-log.ts'
import { LOGIN_ROUTES } from '../../src/login/paths.ts'
import { CONSOLE_ROUTES } from '../../src/console/paths.ts'
import { OIDC_ROUTES } from '../../src/oidc/paths.ts'
import { SAML_ROUTES } from '../../src/saml/paths.ts'
import { TOKEN_ROUTES } from '../../src/tokens/paths.ts'
import { DISCOURSE_ROUTES } from '../../src/tokens/discourse/paths.ts'

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    'app.localhost',
    '127.0.0.1',
    '127.1.2.3',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
  ])('%s is loopback', (host) => expect(isLoopbackHost(host)).toBe(true))

  it.each([
    '0.0.0.0',
    '::',
    '10.0.0.5',
    '192.0.2.1',
    '2001:db8::1',
    '::ffff:192.0.2.1',
    'sso.example.com',
    'localhost.example.com',
    '128.0.0.1',
  ])('%s is not', (host) => expect(isLoopbackHost(host)).toBe(false))
})

describe('issuerUnreachable', () => {
  it('holds for a localhost ISSUER on a public bind, and only then', () => {
    expect(issuerUnreachable({ issuer: 'http://localhost:3000', host: '0.0.0.0' })).toBe(true)
    expect(issuerUnreachable({ issuer: 'http://127.0.0.1:3000', host: '::' })).toBe(true)
    expect(issuerUnreachable({ issuer: 'http://[::1]:3000', host: '192.0.2.10' })).toBe(true)
    expect(issuerUnreachable({ issuer: 'http://localhost:3000', host: '127.0.0.1' })).toBe(false)
    expect(issuerUnreachable({ issuer: 'http://localhost:3000', host: 'localhost' })).toBe(false)
    expect(issuerUnreachable({ issuer: 'https://sso.example.com', host: '0.0.0.0' })).toBe(false)
  })
})

describe('doorUrls', () => {
  it('has one URL per path-table entry, under the issuer', () => {
    const issuer = 'https://sso.example.com'
    const doors = doorUrls(issuer)
    expect(Object.keys(doors.oidc)).toEqual(['issuer', 'discovery', ...Object.keys(OIDC_ROUTES)])
    expect(Object.keys(doors.saml)).toEqual(Object.keys(SAML_ROUTES))
    expect(Object.keys(doors.tokens)).toEqual(Object.keys(TOKEN_ROUTES))
    expect(Object.keys(doors.discourse)).toEqual(Object.keys(DISCOURSE_ROUTES))
    expect(Object.keys(doors.login)).toEqual(Object.keys(LOGIN_ROUTES))
    expect(Object.keys(doors.console)).toEqual(
      Object.entries(CONSOLE_ROUTES)
        .filter(([, p]) => !p.includes(':'))
        .map(([name]) => name),
    )
    expect(Object.keys(doors.console)).toContain('members')
    expect(doors.console.login).toBe(`${issuer}/console/login`)
    expect(doors.oidc.discovery).toBe(`${issuer}/.well-known/openid-configuration`)
    expect(doors.saml.sso).toBe(`${issuer}${SAML_ROUTES.sso}`)
    expect(doors.tokens.browser).toBe(`${issuer}${TOKEN_ROUTES.browser(INTEGRATION_ID)}`)
    expect(doors.server).toMatchObject({
      health: `${issuer}/healthz`,
      ready: `${issuer}/readyz`,
      docs: `${issuer}/docs`,
      adminApi: `${issuer}/api/v1`,
    })
  })
})
