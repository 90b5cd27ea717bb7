/**
 * Defect (issue #10, "Errors, never 500"): while the database restarted, the OIDC refresh grant
 * answered 500 `server_error` where the token API answered 503 `store_unavailable` for the same
 * cause. oidc-provider renders any error it does not know as server_error; now every store call
 * it makes through us translates the outage into 503 `temporarily_unavailable` (RFC 6749's
 * code) with Retry-After, as the admin and token APIs answer 503 with Retry-After.
 *
 * Real parts: a private PostgreSQL cluster, really stopped (`pg_ctl stop -m fast`) and started
 * again; the app on a real port; openid-client as the relying party.
 */
import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreUnavailable } from '../../src/errors/index.ts'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import {
  Browser,
  createAccount,
  isConsentPage,
  isLoginPage,
  PASSWORD,
  registerClient,
  startOidcServer,
  type OidcServer,
} from '../helpers/oidc.ts'
import { ADMIN_TOKEN } from '../helpers/app.ts'
import {
  findPostgresBin,
  startCluster,
  type OutageControls,
  type TestPostgres,
} from '../setup/postgres.ts'

const RP_CB = 'https://rp.example/cb'
const RETRY_AFTER = String(StoreUnavailable.RETRY_AFTER_SECONDS)

let cluster: (TestPostgres & OutageControls) | undefined
let s: OidcServer
let config: client.Configuration
let refreshToken: string

beforeAll(async () => {
  const bin = findPostgresBin()
  if (!bin)
    throw new Error(
      'PostgreSQL server binaries not found: apt-get install postgresql (this test stops and restarts its own cluster)',
    )
  cluster = await startCluster(bin, { durable: false })
  s = await startOidcServer({ store: await createPostgresStore(cluster.url) })
  await createAccount(s, '42', { username: 'rob' })
  const { clientSecret } = await registerClient(s, 'rp', { redirect_uris: [RP_CB] })
  const put = await s.admin('PUT', '/integrations/chat', {
    type: 'jwt',
    secrets: { secret: 'a-shared-hs256-secret-of-32-bytes-or-more' },
  })
  expect(put.status).toBe(201)
  config = await client.discovery(
    new URL(s.issuer),
    'rp',
    { client_secret: clientSecret! },
    client.ClientSecretBasic(clientSecret!),
    { execute: [client.allowInsecureRequests] },
  )

  // A member signs in through the RP: it holds a refresh token.
  const verifier = client.randomPKCECodeVerifier()
  const b = new Browser(s.issuer)
  let page = await b.go(
    client.buildAuthorizationUrl(config, {
      redirect_uri: RP_CB,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).href,
  )
  if (isLoginPage(page)) page = await b.login(page, 'rob', PASSWORD)
  if (isConsentPage(page)) page = await b.consent(page, 'allow')
  const tokens = await client.authorizationCodeGrant(config, page.left!, {
    pkceCodeVerifier: verifier,
  })
  refreshToken = tokens.refresh_token!
  expect(refreshToken).toEqual(expect.any(String))
}, 120_000)

afterAll(async () => {
  try {
    cluster?.resume()
    await s?.close()
  } finally {
    await cluster?.stop()
  }
})

const refresh = (token: string) =>
  fetch(`${s.url}/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`rp:${config.clientMetadata().client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
  })
const tokenApi = () =>
  fetch(`${s.url}/api/v1/integrations/chat/tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: '{"external_id":"42"}',
  })

describe('database down: one answer, 503 with Retry-After, at every door', () => {
  it('the refresh grant answers 503 temporarily_unavailable like the token API answers 503; after the restart the same refresh token works', async () => {
    cluster!.halt()
    try {
      const r = await refresh(refreshToken)
      expect(r.status).toBe(503)
      expect(r.headers.get('retry-after')).toBe(RETRY_AFTER)
      expect(await r.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'the database does not answer; try again shortly',
      })

      // openid-client (oauth4webapi) takes only 400/401 for OAuth error responses (RFC 6749 §5.2):
      // it reports the 503 as an unexpected status and hands the response over, to retry later.
      const seen = (await client.refreshTokenGrant(config, refreshToken).then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: string; cause?: Response }
      expect(seen).toMatchObject({ code: 'OAUTH_RESPONSE_IS_NOT_CONFORM' })
      expect(seen.cause?.status).toBe(503)
      expect(seen.cause?.headers.get('retry-after')).toBe(RETRY_AFTER)

      // The token API, for the same cause: 503 and Retry-After.
      const api = await tokenApi()
      expect(api.status).toBe(503)
      expect(api.headers.get('retry-after')).toBe(RETRY_AFTER)
      expect(await api.json()).toMatchObject({ error: 'store_unavailable' })

      // The authorization endpoint (the client cannot be looked up, so no redirect to it): the
      // error page, with the same status; introspection and readiness alike.
      const auth = await new Browser(s.issuer).go(
        client.buildAuthorizationUrl(config, {
          redirect_uri: RP_CB,
          scope: 'openid',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        }).href,
      )
      expect(auth.status).toBe(503)
      expect(auth.html).toContain('temporarily_unavailable')
      const introspect = await fetch(`${s.url}/token/introspection`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${Buffer.from(`rp:${config.clientMetadata().client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token: refreshToken }),
      })
      expect(introspect.status).toBe(503)
      expect(introspect.headers.get('retry-after')).toBe(RETRY_AFTER)
      expect((await fetch(`${s.url}/readyz`)).status).toBe(503)
    } finally {
      cluster!.resume()
    }

    // Nothing was consumed during the outage: the refresh token still works, and rotates.
    const refreshed = await client.refreshTokenGrant(config, refreshToken)
    expect(refreshed.access_token).toEqual(expect.any(String))
    expect((await tokenApi()).status).toBe(200)

    const logs = s.t.logs
    expect(
      logs.some(
        (l) => l.code === 'ERR_STORE_UNAVAILABLE' && l.event === 'grant.error' && l.status === 503,
      ),
    ).toBe(true)
    expect(logs.filter((l) => l.code === 'ERR_OIDC_SERVER_ERROR')).toEqual([])
    expect(logs.filter((l) => typeof l.status === 'number' && l.status === 500)).toEqual([])
    // The refresh token never reached the log.
    expect(s.t.logText()).not.toContain(refreshToken)
  }, 60_000)
})
