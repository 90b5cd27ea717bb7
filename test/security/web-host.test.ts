/**
 * Defect (issue #10, "Redirects, hosts and headers"): a request's `Host` (or, with TRUST_PROXY on,
 * its `X-Forwarded-Host`, `X-Forwarded-Proto`, or an absolute-form request target) rewrote every
 * endpoint URL in the discovery document and the logout form's action. Now every URL the server
 * writes comes from ISSUER (http/pin-host.ts, oidc/provider.ts).
 */
import { connect } from 'node:net'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'

const ISSUER = 'https://sso.example.com'
const EVIL = 'evil.example'
/** What a hostile client (or a careless proxy that passes them on) sends. */
const HOSTILE = { Host: EVIL, 'X-Forwarded-Host': EVIL, 'X-Forwarded-Proto': 'http' }

let t: TestApp
let server: Server
let port: number

/** Every absolute URL in a text. */
const urlsIn = (text: string) => [...text.matchAll(/https?:\/\/[^\s"'<>\\]+/g)].map((m) => m[0])

beforeAll(async () => {
  // An https issuer behind a (pretend) TLS proxy: TRUST_PROXY on, the case where forwarded headers count.
  t = makeTestApp({ issuer: ISSUER, trustProxy: true })
  await request(t.app)
    .put('/api/v1/integrations/chat')
    .set(auth)
    .send({
      type: 'oidc',
      settings: {
        redirect_uris: ['https://rp.example/cb'],
        post_logout_redirect_uris: ['https://rp.example/bye'],
      },
    })
    .expect(201)
  await request(t.app)
    .put('/api/v1/integrations/wiki')
    .set(auth)
    .send({
      type: 'saml',
      settings: { entity_id: 'https://wiki.example/sp', acs_url: 'https://wiki.example/acs' },
    })
  server = createServer(t.app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await t.close()
})

/** A raw HTTP/1.1 request, so the request target may be in absolute form. */
function raw(target: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let out = ''
    socket.on('data', (d) => (out += d))
    socket.on('end', () => resolve(out))
    socket.on('error', reject)
    const lines = Object.entries({ ...headers, Connection: 'close' }).map(([k, v]) => `${k}: ${v}`)
    socket.write(`GET ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`)
  })
}

describe('web: every URL comes from ISSUER, never from Host / X-Forwarded-Host (TRUST_PROXY on)', () => {
  it('the discovery document names only ISSUER URLs, whatever Host, X-Forwarded-Host and X-Forwarded-Proto say', async () => {
    const res = await request(t.app)
      .get('/.well-known/openid-configuration')
      .set(HOSTILE)
      .expect(200)
    expect(res.body.issuer).toBe(ISSUER)
    const urls = urlsIn(JSON.stringify(res.body))
    expect(urls.length).toBeGreaterThan(5)
    for (const url of urls) expect(url === ISSUER || url.startsWith(`${ISSUER}/`), url).toBe(true)
    expect(res.body.authorization_endpoint).toBe(`${ISSUER}/auth`)
    expect(res.body.end_session_endpoint).toBe(`${ISSUER}/session/end`)
  })

  it('an absolute-form request target (GET http://evil.example/…) does not rewrite them either', async () => {
    const answer = await raw(`http://${EVIL}/.well-known/openid-configuration`, HOSTILE)
    expect(answer).toMatch(/^HTTP\/1\.1 200/)
    const urls = urlsIn(answer.slice(answer.indexOf('\r\n\r\n')))
    expect(urls.length).toBeGreaterThan(5)
    for (const url of urls) expect(url === ISSUER || url.startsWith(`${ISSUER}/`), url).toBe(true)
  })

  it('the logout form posts to ISSUER', async () => {
    const res = await request(t.app)
      .get('/session/end')
      .query({ client_id: 'chat' })
      .set(HOSTILE)
      .expect(200)
    const action =
      /<form[^>]*id="op\.logoutForm"[^>]*action="([^"]+)"/.exec(res.text)?.[1] ??
      /action="([^"]+)"/.exec(res.text)?.[1]
    expect(action).toBe(`${ISSUER}/session/end/confirm`)
    expect(res.text).not.toContain(EVIL)
  })

  it('the authorization redirect to the sign-in page stays on ISSUER', async () => {
    const res = await request(t.app)
      .get('/auth')
      .query({
        client_id: 'chat',
        response_type: 'code',
        redirect_uri: 'https://rp.example/cb',
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      })
      .set(HOSTILE)
    expect(res.status).toBe(303)
    const location = new URL(res.headers.location as string, ISSUER)
    expect(location.origin).toBe(ISSUER)
    expect(location.pathname).toMatch(/^\/interaction\//)
  })

  it("a token redirect's way back through login_url is built from ISSUER, not from the request target", async () => {
    await request(t.app)
      .put('/api/v1/integrations/board')
      .set(auth)
      .send({
        type: 'jwt',
        settings: {
          target_url: 'https://board.example.net/sso',
          login_url: 'https://www.example.com/login',
        },
        secrets: { secret: 's'.repeat(32) },
      })
      .expect(201)
    const answer = await raw(`http://${EVIL}/tokens/board/redirect`, {
      ...HOSTILE,
      Accept: 'text/html',
    })
    expect(answer).toMatch(/^HTTP\/1\.1 302/)
    const location = new URL(/\r\nLocation: ([^\r]+)/i.exec(answer)![1]!)
    expect(location.origin).toBe('https://www.example.com')
    expect(location.searchParams.get('return_to')).toBe(`${ISSUER}/tokens/board/redirect`)
  })

  it('the SAML metadata, the home page and the connection sheet name ISSUER only', async () => {
    const bodies = [
      (await request(t.app).get('/saml/metadata').set(HOSTILE).expect(200)).text,
      (await request(t.app).get('/').set(HOSTILE).expect(200)).text,
      JSON.stringify(
        (await request(t.app).get('/api/v1/integrations/chat/connection').set(auth).set(HOSTILE))
          .body,
      ),
    ]
    for (const body of bodies) {
      expect(body).not.toContain(EVIL)
      expect(urlsIn(body).some((u) => u.startsWith(ISSUER))).toBe(true)
    }
  })
})
