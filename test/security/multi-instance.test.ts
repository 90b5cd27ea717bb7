/**
 * Several instances on one PostgreSQL (issue #10): two real server processes on the test
 * PostgreSQL with one shared KEYS_DIR, behind a round-robin proxy (test/helpers/cluster.ts), so
 * a browser changes instance on every request. Relying parties no one here wrote: openid-client
 * (OIDC code + PKCE, refresh, revocation, account deletion), @node-saml/node-saml (SAML).
 * Named regressions:
 * - Dead Simple Chat: a member's first token asked of two instances at once made two platform
 *   users and two tokens; now exactly one Create User call across instances.
 * - Integration changes: a client secret rotated or a redirect URI removed on instance A kept
 *   working on instance B for up to a second; now refused there as soon as the write returns.
 * - Key mismatch: an instance with other keys joined silently; now it refuses to start.
 * Also held here: the sign-in throttle (counted in the database, so shared by the instances).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml'
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose'
import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../helpers/cluster.ts'
import { dropFreshSchemas } from '../helpers/pg.ts'
import { Browser, isConsentPage, isLoginPage, parseForms, type Page } from '../helpers/oidc.ts'
import { runServer } from '../helpers/server.ts'
import { startDscServer, type DscServer } from '../tokens/helpers/dsc-server.ts'
import { DSC_KEY, integrations } from '../tokens/helpers/fixtures.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const PASSWORD = 'correct horse battery staple'
const TICKET_SECRET = 'multi-instance-ticket-secret-0123456789abcdef'
const RP_CB = 'https://rp.example/cb'
/** The per-account sign-in limit the cluster runs with (README: Sign-in throttling). */
const ACCOUNT_ATTEMPTS = 3
const SP_ENTITY = 'https://sp.example/saml/metadata'
const ACS = 'https://sp.example/saml/acs'

let c: Cluster
let dsc: DscServer

beforeAll(async () => {
  dsc = await startDscServer(DSC_KEY)
  c = await startCluster({
    env: {
      SITE_TICKET_SECRET: TICKET_SECRET,
      LOGIN_ATTEMPTS_PER_ACCOUNT: String(ACCOUNT_ATTEMPTS),
      LOGIN_FAILURE_DELAY_MS: '0',
    },
  })
  for (const [id, fields] of [
    ['42', { username: 'Rob', email: 'rob@example.test', rank: 'moderator' }],
    ['43', { username: 'Ana', email: 'ana@example.test' }],
    ['1001', { username: 'robin', email: 'robin@example.test' }],
    ['1002', { username: 'tobias', email: 'tobias@example.test' }],
  ] as const) {
    expect(
      (await c.admin(0, 'PUT', `/users/${id}`, { ...fields, password: PASSWORD })).status,
    ).toBe(201)
  }
  expect((await c.admin(1, 'PUT', '/integrations/dsc', integrations.dsc(dsc.url))).status).toBe(201)
  expect(
    (
      await c.admin(0, 'PUT', '/integrations/sp', {
        type: 'saml',
        settings: { entity_id: SP_ENTITY, acs_urls: [{ url: ACS, binding: 'HTTP-POST' }] },
      })
    ).status,
  ).toBe(201)
})
afterAll(async () => {
  await c?.stop()
  await dsc?.close()
  await dropFreshSchemas()
})

/** Waits for `cond` (no deadline of its own: the test's timeout is the limit). */
async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 20))
}

/** Makes the proxy's next request go to an instance other than `instance`. */
async function nextNot(instance: number): Promise<void> {
  if (c.proxy.nextIndex() === instance) await (await fetch(`${c.url}/healthz`)).arrayBuffer()
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
/** Token introspection straight at one instance, authenticating as the client. */
const introspect = (instance: number, id: string, secret: string) =>
  fetch(`${c.instances[instance]!.url}/token/introspection`, {
    method: 'POST',
    headers: {
      Authorization: basic(id, secret),
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'token=not-a-token-of-ours',
  })

async function registerRp(id: string, secret: string, redirectUris = [RP_CB]) {
  const res = await c.admin(0, 'PUT', `/integrations/${id}`, {
    type: 'oidc',
    settings: { redirect_uris: redirectUris },
    secrets: { client_secret: secret },
  })
  expect([200, 201]).toContain(res.status)
}

describe('OIDC across instances (openid-client)', () => {
  it(
    'code + PKCE sign-in, ID token, refresh, userinfo and revocation hold whichever instance answers',
    async () => {
      const secret = 'rp-client-secret-0123456789abcdef0123'
      await registerRp('rp', secret)
      const config = await client.discovery(
        new URL(c.url),
        'rp',
        { client_secret: secret },
        client.ClientSecretBasic(secret),
        { execute: [client.allowInsecureRequests] },
      )
      const b = new Browser(c.url)
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const nonce = client.randomNonce()
      const from = c.proxy.served.length
      let page: Page = await b.go(
        client.buildAuthorizationUrl(config, {
          redirect_uri: RP_CB,
          scope: 'openid profile email',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        }),
      )
      expect(isLoginPage(page), `${page.url} ${page.status} ${page.left?.href}`).toBe(true)
      page = await b.login(page, 'rob', PASSWORD)
      if (isConsentPage(page)) page = await b.consent(page, 'allow')
      expect(page.left?.href.startsWith(RP_CB), `${page.url} ${page.status}`).toBe(true)
      const tokens = await client.authorizationCodeGrant(config, page.left!, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      })
      // The sign-in really went back and forth between the two instances.
      expect(new Set(c.proxy.served.slice(from))).toEqual(new Set([0, 1]))
      expect(tokens.claims()).toMatchObject({ sub: '42', iss: c.url, aud: 'rp', nonce })

      // Both instances publish the same keys, and the ID token verifies against either.
      const [j0, j1] = await Promise.all(
        c.instances.map(async (s) => (await fetch(`${s.url}/jwks`)).json()),
      )
      expect(j1).toEqual(j0)
      await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${c.url}/jwks`)), {
        issuer: c.url,
        audience: 'rp',
      })

      // Userinfo on each instance; refresh on whichever comes next, then the old refresh token is spent everywhere.
      for (const s of c.instances) {
        const res = await fetch(`${s.url}/me`, {
          headers: { Authorization: `Bearer ${tokens.access_token}` },
        })
        expect(res.status).toBe(200)
        expect(await res.json()).toMatchObject({ sub: '42' })
      }
      expect(tokens.refresh_token).toBeTruthy()
      {
        const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!)
        expect(refreshed.access_token).not.toBe(tokens.access_token)
        await nextNot(c.proxy.served.at(-1)!)
        await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject(
          { error: 'invalid_grant' },
        )
      }

      // Revoked on one instance: inactive on both.
      await client.tokenRevocation(config, tokens.access_token)
      for (let i = 0; i < 2; i++)
        expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({
          active: false,
        })
      for (const s of c.instances)
        expect(
          (
            await fetch(`${s.url}/me`, {
              headers: { Authorization: `Bearer ${tokens.access_token}` },
            })
          ).status,
        ).toBe(401)
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('account deletion across instances', () => {
  it(
    'a member deleted on one instance: their tokens, refresh, bridge session and Dead Simple Chat user are gone on the other too',
    async () => {
      const secret = 'del-rp-client-secret-0123456789abcdef'
      await registerRp('del-rp', secret)
      expect(
        (
          await c.admin(0, 'PUT', '/users/77', {
            username: 'dora',
            email: 'dora@example.test',
            password: PASSWORD,
          })
        ).status,
      ).toBe(201)
      const config = await client.discovery(
        new URL(c.url),
        'del-rp',
        { client_secret: secret },
        client.ClientSecretBasic(secret),
        { execute: [client.allowInsecureRequests] },
      )
      const b = new Browser(c.url)
      const authorize = async () => {
        const verifier = client.randomPKCECodeVerifier()
        const state = client.randomState()
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: RP_CB,
          scope: 'openid profile',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
        })
        return {
          page: await b.go(url),
          checks: { pkceCodeVerifier: verifier, expectedState: state },
        }
      }
      const auth = await authorize()
      const { checks } = auth
      let { page } = auth
      page = await b.login(page, 'dora', PASSWORD)
      if (isConsentPage(page)) page = await b.consent(page, 'allow')
      const tokens = await client.authorizationCodeGrant(config, page.left!, checks)
      const dscCalls = dsc.calls.length
      const chat = (await c.admin(1, 'POST', '/integrations/dsc/tokens', { external_id: '77' }))
        .body.token as string
      expect(dsc.calls.length).toBe(dscCalls + 1)

      expect((await c.admin(0, 'DELETE', '/users/77')).status).toBe(204)

      for (const s of c.instances)
        expect(
          (
            await fetch(`${s.url}/me`, {
              headers: { Authorization: `Bearer ${tokens.access_token}` },
            })
          ).status,
        ).toBe(401)
      for (let i = 0; i < 2; i++)
        expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({
          active: false,
        })
      await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      })
      // Signed out on every instance: the next authorization asks for the password again.
      for (let i = 0; i < 2; i++) expect(isLoginPage((await authorize()).page)).toBe(true)
      // A new member under the same external_id gets a new chat user, from the other instance too.
      expect((await c.admin(1, 'PUT', '/users/77', { username: 'dora' })).status).toBe(201)
      const again = (await c.admin(0, 'POST', '/integrations/dsc/tokens', { external_id: '77' }))
        .body.token as string
      expect(again).not.toBe(chat)
      expect(dsc.calls.length).toBe(dscCalls + 2)
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('SAML across instances (@node-saml/node-saml)', () => {
  const idpCert = () => {
    const manifest = JSON.parse(
      readFileSync(path.join(c.keysDir, 'saml', 'manifest.json'), 'utf8'),
    ) as { keys: { id: string }[] }
    return readFileSync(path.join(c.keysDir, 'saml', `${manifest.keys[0]!.id}.crt`), 'utf8')
  }
  const sp = () =>
    new SAML({
      callbackUrl: ACS,
      entryPoint: `${c.url}/saml/sso`,
      issuer: SP_ENTITY,
      idpIssuer: `${c.url}/saml/metadata`,
      idpCert: idpCert(),
      audience: SP_ENTITY,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      validateInResponseTo: ValidateInResponseTo.always,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
    })
  const autoPost = (page: Page) => {
    const form = parseForms(page.html)[0]
    if (!form || form.method !== 'post')
      throw new Error(
        `no auto-post form on ${page.url} (${page.status}):\n${page.html.slice(0, 1000)}`,
      )
    return form
  }

  it(
    'sign-in answered with a signed Response node-saml accepts; a replayed request ID is refused by the other instance',
    async () => {
      const saml = sp()
      const b = new Browser(c.url)
      let page = await b.go(await saml.getAuthorizeUrlAsync('', undefined, {}))
      page = await b.submit(page, { username: 'robin', password: PASSWORD }, (f) =>
        f.action.startsWith('/login?'),
      )
      const post = autoPost(page)
      expect(post.action).toBe(ACS)
      const { profile } = await saml.validatePostResponseAsync(post.fields)
      expect(profile?.nameID).toBeTruthy()

      // Signed in now: a new request is answered at once; the same request again, on the other instance, is a replay.
      const url = await saml.getAuthorizeUrlAsync('', undefined, {})
      const first = c.proxy.nextIndex()
      const answered = autoPost(await b.go(url))
      expect(Buffer.from(answered.fields.SAMLResponse!, 'base64').toString('utf8')).toContain(
        'Assertion',
      )
      await nextNot(first)
      const replayed = autoPost(await b.go(url))
      const xml = Buffer.from(replayed.fields.SAMLResponse!, 'base64').toString('utf8')
      expect(xml).toContain('urn:oasis:names:tc:SAML:2.0:status:Requester')
      expect(xml).not.toContain('Assertion')
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('sign-in throttle across instances', () => {
  it(
    'wrong passwords sent to alternating instances count together: once the account limit is reached, both refuse even the right one',
    async () => {
      const b = new Browser(c.url)
      let page = await b.go(`${c.url}/login?return_to=%2F`)
      const from = c.proxy.served.length
      for (let i = 0; i < ACCOUNT_ATTEMPTS; i++) {
        page = await b.submit(page, { username: 'tobias', password: `wrong-${i}` }, (f) =>
          f.action.startsWith('/login'),
        )
        expect(page.status).toBe(401)
      }
      expect(new Set(c.proxy.served.slice(from))).toEqual(new Set([0, 1]))
      for (let i = 0; i < 2; i++) {
        const refused = await b.submit(page, { username: 'tobias', password: PASSWORD }, (f) =>
          f.action.startsWith('/login'),
        )
        expect(refused.status).toBe(429)
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
      }
      // Both instances answered a refusal.
      expect(new Set(c.proxy.served.slice(-4))).toEqual(new Set([0, 1]))
      expect(b.cookie('sso_bridge')).toBeUndefined()
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('site tickets across instances', () => {
  it('a ticket used on one instance is refused as replayed on the other', async () => {
    const now = Math.floor(Date.now() / 1000)
    const ticket = await new SignJWT({ external_id: 't-1', username: 'Tess' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setAudience(`${c.url}/ticket`)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(crypto.randomUUID())
      .sign(new TextEncoder().encode(TICKET_SECRET))
    const url = `/ticket?ticket=${encodeURIComponent(ticket)}&return_to=%2F`
    const first = await fetch(`${c.instances[0]!.url}${url}`, { redirect: 'manual' })
    expect(first.status).toBe(303)
    expect(first.headers.getSetCookie().some((h) => h.startsWith('sso_bridge='))).toBe(true)
    const again = await fetch(`${c.instances[1]!.url}${url}`, { redirect: 'manual' })
    expect(again.status).toBe(400)
    expect(await again.text()).toContain('ticket_replayed')
    expect(again.headers.getSetCookie().some((h) => h.startsWith('sso_bridge='))).toBe(false)
  })

  it('a logout ticket sent to one instance ends the sessions the member started on the other (issue #12)', async () => {
    const sign = (aud: string, claims: Record<string, unknown>) => {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setAudience(`${c.url}${aud}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .setJti(crypto.randomUUID())
        .sign(new TextEncoder().encode(TICKET_SECRET))
    }
    /** Signs a browser in on `instance`; its bridge cookie. */
    const signIn = async (instance: number) => {
      const ticket = await sign('/ticket', { external_id: 't-2' })
      const res = await fetch(
        `${c.instances[instance]!.url}/ticket?ticket=${encodeURIComponent(ticket)}&return_to=%2F`,
        { redirect: 'manual' },
      )
      expect(res.status).toBe(303)
      return res.headers
        .getSetCookie()
        .find((h) => h.startsWith('sso_bridge='))!
        .split(';')[0]!
    }
    /** Whether the cookie still skips the sign-in form on `instance`. */
    const live = async (instance: number, cookie: string) => {
      const res = await fetch(`${c.instances[instance]!.url}/login?return_to=%2F`, {
        headers: { Cookie: cookie },
        redirect: 'manual',
      })
      expect([200, 303]).toContain(res.status)
      return res.status === 303
    }
    const onA = await signIn(0)
    const onB = await signIn(1)
    expect(await live(1, onA)).toBe(true)
    expect(await live(0, onB)).toBe(true)
    const out = await fetch(`${c.instances[1]!.url}/logout`, {
      method: 'POST',
      body: new URLSearchParams({ ticket: await sign('/logout', { external_id: 't-2' }) }),
    })
    expect(out.status).toBe(204)
    for (const instance of [0, 1]) {
      expect(await live(instance, onA)).toBe(false)
      expect(await live(instance, onB)).toBe(false)
    }
  })
})

describe('Dead Simple Chat: one Create User across instances (regression)', () => {
  const waitingLines = () =>
    c.instances.reduce(
      (n, s) =>
        n + (s.logs().match(/another instance is creating this member's user/g)?.length ?? 0),
      0,
    )

  it(
    'the first token of a member asked of both instances at once: one Create User call, one user, the same token from both',
    async () => {
      const calls = dsc.calls.length
      const seen = waitingLines()
      const release = dsc.hold() // a slow API: the two requests overlap for certain
      const a = c.admin(0, 'POST', '/integrations/dsc/tokens', { external_id: '42' })
      const b = c.admin(1, 'POST', '/integrations/dsc/tokens', { external_id: '42' })
      await dsc.waitForCalls(calls + 1)
      // The other instance either waits on the claim (logs it) or, as before the fix, calls too.
      await Promise.race([dsc.waitForCalls(calls + 2), until(() => waitingLines() > seen)])
      release()
      const [ra, rb] = await Promise.all([a, b])
      expect(ra.status).toBe(200)
      expect(rb.status).toBe(200)
      expect(rb.body.token).toBe(ra.body.token)
      expect(dsc.calls.length - calls).toBe(1)
      // Later tokens from either instance reuse it.
      expect(
        (await c.admin(1, 'POST', '/integrations/dsc/tokens', { external_id: '42' })).body.token,
      ).toBe(ra.body.token)
      expect(dsc.calls.length - calls).toBe(1)
    },
    PROCESS_TEST_TIMEOUT,
  )

  it(
    'when the instance holding the claim fails, the waiting one takes over: one user, no duplicate',
    async () => {
      const calls = dsc.calls.length
      const seen = waitingLines()
      const release = dsc.hold()
      const a = c.admin(0, 'POST', '/integrations/dsc/tokens', { external_id: '43' })
      await dsc.waitForCalls(calls + 1)
      const b = c.admin(1, 'POST', '/integrations/dsc/tokens', { external_id: '43' })
      await Promise.race([dsc.waitForCalls(calls + 2), until(() => waitingLines() > seen)])
      dsc.failNext(500)
      release()
      const [ra, rb] = await Promise.all([a, b])
      expect(ra.status).toBe(502)
      expect(ra.body.error).toBe('platform_unavailable')
      expect(rb.status).toBe(200)
      expect(dsc.calls.length - calls).toBe(2) // the failed one, then the taker-over's
      expect(dsc.valid.has(rb.body.token)).toBe(true)
      expect(
        (await c.admin(0, 'POST', '/integrations/dsc/tokens', { external_id: '43' })).body.token,
      ).toBe(rb.body.token)
    },
    PROCESS_TEST_TIMEOUT,
  )
})

describe('integration changes reach every instance as the write returns (regression)', () => {
  it('a client secret rotated on A is refused on B at once; the new one works there', async () => {
    const OLD = 'old-secret-of-rotating-0123456789abcdef'
    const NEW = 'new-secret-of-rotating-0123456789abcdef'
    await registerRp('rotating', OLD)
    expect((await introspect(1, 'rotating', OLD)).status).toBe(200) // B has it cached now
    await registerRp('rotating', NEW) // on A
    const refused = await introspect(1, 'rotating', OLD)
    expect(refused.status).toBe(401)
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' })
    expect((await introspect(1, 'rotating', NEW)).status).toBe(200)
  })

  it('a redirect URI removed on A is refused on B at once', async () => {
    const secret = 'redirect-client-secret-0123456789abcdef'
    const OLD_CB = 'https://rp.example/old-cb'
    await registerRp('redirecting', secret, [RP_CB, OLD_CB])
    const auth = (instance: number) =>
      fetch(
        `${c.instances[instance]!.url}/auth?${new URLSearchParams({ client_id: 'redirecting', redirect_uri: OLD_CB, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`,
        { redirect: 'manual' },
      )
    const before = await auth(1)
    expect(before.status).toBeGreaterThanOrEqual(300)
    expect(before.status).toBeLessThan(400)
    expect(before.headers.get('location')).not.toContain('old-cb')
    await registerRp('redirecting', secret, [RP_CB]) // on A
    const after = await auth(1)
    expect(after.status).toBe(400)
    expect(after.headers.get('location')).toBeNull()
  })
})

describe('key mismatch', () => {
  it(
    'a third instance on this database with its own KEYS_DIR refuses to start, naming KEYS_DIR',
    async () => {
      const keysDir = path.join(c.dir, 'other-keys')
      const res = await runServer({
        DATABASE_URL: c.databaseUrl,
        KEYS_DIR: keysDir,
        DATA_DIR: path.join(c.dir, 'data-other'),
        ISSUER: c.url,
        ADMIN_TOKEN: 'x'.repeat(32),
        PORT: '0',
        HOST: '127.0.0.1',
      })
      expect(res.code).not.toBe(0)
      expect(res.output).toContain('ERR_KEYS_MISMATCH')
      expect(res.output).toContain(keysDir)
    },
    PROCESS_TEST_TIMEOUT,
  )
})
