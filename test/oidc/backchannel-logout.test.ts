/**
 * OIDC back-channel logout (OpenID Connect Back-Channel Logout 1.0) on every way a member signs
 * out: end_session, a site's logout ticket at /logout, SAML single logout, account deletion. The
 * relying party is openid-client over the real app on a real port; its back-channel endpoint is
 * a real HTTP server that verifies each logout token with jose against our JWKS, as §2.6 says a
 * relying party must. Also SITE_LOGOUT_URL after end_session (contract §5).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { ValidateInResponseTo } from '@node-saml/node-saml'
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  SignJWT,
  type JWTPayload,
} from 'jose'
import * as client from 'openid-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  Browser,
  createAccount,
  isLoginPage,
  PASSWORD,
  registerClient,
  startOidcServer,
  type OidcServer,
} from '../helpers/oidc.ts'
import {
  autoPost,
  nodeSamlSp,
  registerSp,
  SLO,
  spKeyPairs,
  type SamlServer,
} from '../saml/helpers.ts'

const RP_CB = 'https://rp.example/cb'
const SECRET = 'site-ticket-secret-for-tests-0123456789abcdef'
const SITE_LOGOUT = 'https://www.example.com/wp-login.php?action=logout'
const EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** The relying party's back-channel logout endpoint: a real server that keeps each token it gets. */
interface Receiver {
  url: string
  tokens: string[]
  /** Status it answers with (a broken relying party answers 500). */
  status: number
  close(): Promise<void>
}

async function startReceiver(): Promise<Receiver> {
  const r: Receiver = { url: '', tokens: [], status: 200, close: async () => {} }
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      // §2.5: POST, application/x-www-form-urlencoded, one `logout_token` parameter.
      if (
        req.method === 'POST' &&
        req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
      ) {
        const token = new URLSearchParams(body).get('logout_token')
        if (token) r.tokens.push(token)
      }
      res.writeHead(r.status, { 'Cache-Control': 'no-store' }).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel`
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return r
}

let s: OidcServer
let receiver: Receiver
const closing: (() => Promise<void>)[] = []
beforeEach(async () => {
  receiver = await startReceiver()
  closing.push(() => receiver.close())
})
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close()
})

async function server(opts: { privateNetworks?: boolean; siteLogoutUrl?: string } = {}) {
  s = await startOidcServer({
    siteTicket: { secret: SECRET, origins: [] },
    backchannelPrivateNetworks: opts.privateNetworks ?? true,
    ...(opts.siteLogoutUrl ? { siteLogoutUrl: opts.siteLogoutUrl } : {}),
  })
  closing.push(() => s.close())
  await createAccount(s, '42', { username: 'rob' })
  return s
}

/** An RP with a back-channel logout URI (session required), and openid-client's configuration for it. */
async function rp(id = 'rp', settings: Record<string, unknown> = {}) {
  const { clientSecret } = await registerClient(s, id, {
    redirect_uris: [RP_CB],
    first_party: true,
    backchannel_logout_uri: receiver.url,
    backchannel_logout_session_required: true,
    ...settings,
  } as never)
  const config = await client.discovery(
    new URL(s.issuer),
    id,
    { client_secret: clientSecret! },
    client.ClientSecretBasic(clientSecret!),
    { execute: [client.allowInsecureRequests] },
  )
  return { id, config }
}

/** Signs the browser in at the RP (password form), returns the ID token's claims and the token. */
async function signIn(b: Browser, r: Awaited<ReturnType<typeof rp>>) {
  const verifier = client.randomPKCECodeVerifier()
  const url = client.buildAuthorizationUrl(r.config, {
    redirect_uri: RP_CB,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  let page = await b.go(url)
  if (isLoginPage(page)) page = await b.login(page, 'rob', PASSWORD)
  expect(page.left?.href.startsWith(RP_CB), `${page.url} ${page.status}`).toBe(true)
  const tokens = await client.authorizationCodeGrant(r.config, page.left!, {
    pkceCodeVerifier: verifier,
  })
  return { claims: tokens.claims()!, tokens }
}

/**
 * What a relying party must check (Back-Channel Logout 1.0 §2.6): signature against the OP's
 * JWKS, iss, aud, iat, typ, an events claim holding the back-channel logout event, sub and/or
 * sid, and no nonce.
 */
async function verifyLogoutToken(token: string, clientId: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${s.url}/jwks`))
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: s.issuer,
    audience: clientId,
    typ: 'logout+jwt',
    requiredClaims: ['iat', 'exp', 'jti', 'events'],
  })
  expect(protectedHeader.alg).toBe('RS256')
  expect(payload.events).toEqual({ [EVENT]: {} })
  expect(payload).not.toHaveProperty('nonce')
  return payload
}

const newLoginNeeded = async (b: Browser, r: Awaited<ReturnType<typeof rp>>) =>
  isLoginPage(
    await b.go(
      client.buildAuthorizationUrl(r.config, {
        redirect_uri: RP_CB,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    ),
  )

const logoutTicket = (externalId: string) => {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({
    external_id: externalId,
    aud: `${s.issuer}/logout`,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(SECRET))
}

describe('OIDC back-channel logout: every way out tells the relying party', () => {
  it('end_session (Sign out): a logout token verified against our JWKS, with sub and the id token sid', async () => {
    await server()
    const r = await rp()
    const b = new Browser(s.issuer)
    const { claims } = await signIn(b, r)
    expect(claims.sid).toEqual(expect.any(String))
    const done = await b.confirmLogout(
      await b.go(client.buildEndSessionUrl(r.config, { client_id: r.id })),
    )
    expect(done.status).toBe(200)
    expect(receiver.tokens).toHaveLength(1)
    const payload = await verifyLogoutToken(receiver.tokens[0]!, r.id)
    expect(payload.sub).toBe('42')
    expect(payload.sid).toBe(claims.sid)
    expect(await newLoginNeeded(b, r)).toBe(true)
  })

  it('a logout ticket at /logout (server to server): a logout token, the OIDC session and the bridge session gone', async () => {
    await server()
    const r = await rp()
    const b = new Browser(s.issuer)
    const { claims, tokens } = await signIn(b, r)
    const res = await fetch(`${s.url}/logout`, {
      method: 'POST',
      body: new URLSearchParams({ ticket: await logoutTicket('42') }),
    })
    expect(res.status).toBe(204)
    expect(receiver.tokens).toHaveLength(1)
    const payload = await verifyLogoutToken(receiver.tokens[0]!, r.id)
    expect(payload).toMatchObject({ sub: '42', sid: claims.sid })
    // The grant (not offline_access) is revoked with its tokens, as end_session does.
    const info = await client.tokenIntrospection(r.config, tokens.access_token)
    expect(info.active).toBe(false)
    expect(await newLoginNeeded(b, r)).toBe(true)
    // Each session is ended once: a second logout tells no one again.
    const again = await fetch(`${s.url}/logout`, {
      method: 'POST',
      body: new URLSearchParams({ ticket: await logoutTicket('42') }),
    })
    expect(again.status).toBe(204)
    expect(receiver.tokens).toHaveLength(1)
  })

  it('two browsers, two RPs (one without sid): a logout ticket tells each of them for each session', async () => {
    await server()
    const a = await rp('rp-a')
    const plain = await rp('rp-b', { backchannel_logout_session_required: false })
    const laptop = new Browser(s.issuer)
    const phone = new Browser(s.issuer)
    await signIn(laptop, a)
    await signIn(laptop, plain)
    await signIn(phone, a)
    const res = await fetch(`${s.url}/logout`, {
      method: 'POST',
      body: new URLSearchParams({ ticket: await logoutTicket('42') }),
    })
    expect(res.status).toBe(204)
    const auds = await Promise.all(
      receiver.tokens.map(async (tk) => {
        const aud = decodeJwt(tk).aud as string
        const payload = await verifyLogoutToken(tk, aud)
        return `${aud}:${'sid' in payload ? 'sid' : 'no-sid'}`
      }),
    )
    expect(auds.sort()).toEqual(['rp-a:sid', 'rp-a:sid', 'rp-b:no-sid'])
    expect(await newLoginNeeded(laptop, a)).toBe(true)
    expect(await newLoginNeeded(phone, a)).toBe(true)
  })

  it('account deletion: a logout token for each session', async () => {
    await server()
    const r = await rp()
    const b = new Browser(s.issuer)
    const { claims } = await signIn(b, r)
    expect((await s.admin('DELETE', '/users/42')).status).toBe(204)
    expect(receiver.tokens).toHaveLength(1)
    expect(await verifyLogoutToken(receiver.tokens[0]!, r.id)).toMatchObject({
      sub: '42',
      sid: claims.sid,
    })
  })

  it('the admin API signs the member out everywhere: every browser, a logout token per session', async () => {
    await server()
    const r = await rp()
    const laptop = new Browser(s.issuer)
    const phone = new Browser(s.issuer)
    await signIn(laptop, r)
    await signIn(phone, r)
    const res = await s.admin('DELETE', '/users/42/sessions')
    expect(res).toMatchObject({ status: 200, body: { external_id: '42', sessions_ended: 2 } })
    expect(receiver.tokens).toHaveLength(2)
    for (const token of receiver.tokens)
      expect(await verifyLogoutToken(token, r.id)).toMatchObject({ sub: '42' })
    expect(await newLoginNeeded(laptop, r)).toBe(true)
    expect(await newLoginNeeded(phone, r)).toBe(true)
    expect((await s.admin('DELETE', '/users/nobody/sessions')).status).toBe(404)
    // The account itself stays.
    expect((await s.admin('GET', '/users/42')).status).toBe(200)
  })

  it('SAML single logout in the same browser: the OIDC session ends and its RP is told', async () => {
    await server()
    const r = await rp()
    const saml: SamlServer = {
      ...s,
      idpEntityId: `${s.issuer}/saml/metadata`,
      ssoUrl: `${s.issuer}/saml/sso`,
      sloUrl: `${s.issuer}/saml/slo`,
    }
    await registerSp(s, 'sp')
    const keys = await spKeyPairs()
    const sp = nodeSamlSp(saml, {
      logoutCallbackUrl: SLO,
      privateKey: keys.signing.privateKeyPem,
      validateInResponseTo: ValidateInResponseTo.ifPresent,
    })
    const b = new Browser(s.issuer)
    const { claims } = await signIn(b, r)
    // Signed in already: the SP gets its Response without a form.
    const { profile } = await sp.validatePostResponseAsync(
      autoPost(await b.go(await sp.getAuthorizeUrlAsync('', undefined, {}))).fields,
    )
    const out = await b.go(await sp.getLogoutUrlAsync(profile!, '', {}))
    expect((await sp.validatePostResponseAsync(autoPost(out).fields)).loggedOut).toBe(true)
    expect(receiver.tokens).toHaveLength(1)
    expect(await verifyLogoutToken(receiver.tokens[0]!, r.id)).toMatchObject({
      sub: '42',
      sid: claims.sid,
    })
    expect(await newLoginNeeded(b, r)).toBe(true)
  })

  it('an RP that fails, or one on a private address without BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS: the member is signed out anyway, the failure logged', async () => {
    await server({ privateNetworks: false })
    const r = await rp()
    const b = new Browser(s.issuer)
    await signIn(b, r)
    const res = await fetch(`${s.url}/logout`, {
      method: 'POST',
      body: new URLSearchParams({ ticket: await logoutTicket('42') }),
    })
    expect(res.status).toBe(204)
    // oidc-provider's SSRF guard refused 127.0.0.1: nothing arrived.
    expect(receiver.tokens).toHaveLength(0)
    expect(s.t.logs.find((l) => l.code === 'ERR_BACKCHANNEL_LOGOUT_FAILED')).toMatchObject({
      client_id: 'rp',
      reason: 'logout_ticket',
    })
    expect(await newLoginNeeded(b, r)).toBe(true)
  })

  it('an RP answering 500 at end_session: signed out anyway, the failure logged', async () => {
    await server()
    const r = await rp()
    receiver.status = 500
    const b = new Browser(s.issuer)
    await signIn(b, r)
    await b.confirmLogout(await b.go(client.buildEndSessionUrl(r.config, { client_id: r.id })))
    expect(receiver.tokens).toHaveLength(1)
    expect(s.t.logs.find((l) => l.code === 'ERR_BACKCHANNEL_LOGOUT_FAILED')).toMatchObject({
      client_id: 'rp',
      reason: 'end_session',
    })
    expect(b.cookie('sso_bridge')).toBeUndefined()
    expect(await newLoginNeeded(b, r)).toBe(true)
    // No logout token reaches our own log.
    expect(s.t.logText()).not.toContain(receiver.tokens[0]!.split('.')[1]!)
  })

  it('integration settings: backchannel_logout_uri must be an http(s) URL without a fragment', async () => {
    await server()
    for (const bad of ['ftp://rp.example/bc', 'https://rp.example/bc#x', 'not a url']) {
      const res = await s.admin('PUT', '/integrations/bad', {
        type: 'oidc',
        settings: { redirect_uris: [RP_CB], backchannel_logout_uri: bad },
      })
      expect(res.status, bad).toBe(400)
      expect(res.body).toMatchObject({ error: expect.any(String) })
    }
    // The same check on redirect_uris (a non-URL was a 500 before).
    const res = await s.admin('PUT', '/integrations/bad', {
      type: 'oidc',
      settings: { redirect_uris: ['not a url'] },
    })
    expect(res.status).toBe(400)
    const meta = await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()
    expect(meta).toMatchObject({
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    })
  })
})

describe('SITE_LOGOUT_URL (contract §5)', () => {
  it('end_session without post_logout_redirect_uri sends the browser on to the site; with one, to the RP', async () => {
    await server({ siteLogoutUrl: SITE_LOGOUT })
    const r = await rp('rp', { post_logout_redirect_uris: ['https://rp.example/bye'] })
    const b = new Browser(s.issuer)
    await signIn(b, r)
    const done = await b.confirmLogout(
      await b.go(client.buildEndSessionUrl(r.config, { client_id: r.id })),
    )
    expect(done.left?.href).toBe(SITE_LOGOUT)
    expect(b.cookie('sso_bridge')).toBeUndefined()

    const { tokens } = await signIn(b, r)
    const toRp = await b.confirmLogout(
      await b.go(
        client.buildEndSessionUrl(r.config, {
          id_token_hint: tokens.id_token!,
          post_logout_redirect_uri: 'https://rp.example/bye',
        }),
      ),
    )
    expect(toRp.left?.origin + toRp.left!.pathname).toBe('https://rp.example/bye')
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256')
  })
})
