/**
 * A plain OAuth2 client the way Minnit's OAuth2 form drives one, by hand with fetch: no scope,
 * no `openid`, no PKCE, a confidential client. authorize → sign in → code → token (secret in
 * the body, or HTTP Basic) → GET the user-info URL with the bearer token → exactly the mapped
 * JSON, keyed as the preview endpoint lists.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { listPaths } from '../../src/mapping/index.ts'
import {
  Browser,
  callbackParams,
  createAccount,
  isConsentPage,
  isLoginPage,
  PASSWORD,
  registerClient,
  startOidcServer,
  type OidcServer,
} from '../helpers/oidc.ts'

const CALLBACK = 'https://organizations.minnit.chat/oauth/callback'
const MAPPING = {
  id: 'external_id',
  'names.nicknames.0': 'nickname',
  'names.full_name': { template: '{given_name} {family_name}' },
}

let s: OidcServer
let secret: string
beforeEach(async () => {
  s = await startOidcServer()
  await createAccount(s, '1001', {
    username: 'rob',
    nickname: 'Robbie',
    given_name: 'Robert',
    family_name: 'Smith',
    email: 'rob@example.com',
  })
  secret = (await registerClient(s, 'minnit', { redirect_uris: [CALLBACK], mapping: MAPPING }))
    .clientSecret!
})
afterEach(async () => {
  expect(s.t.logText()).not.toContain(secret)
  expect(s.t.logText()).not.toContain(PASSWORD)
  await s.close()
})

/** The member's side: Minnit sends the browser to the authorize URL; they sign in and allow. */
async function authorize(state: string): Promise<string> {
  const b = new Browser(s.issuer)
  const url = `${s.issuer}/auth?${new URLSearchParams({ response_type: 'code', client_id: 'minnit', redirect_uri: CALLBACK, state })}`
  let page = await b.go(url)
  expect(isLoginPage(page)).toBe(true)
  page = await b.login(page, 'rob', PASSWORD)
  expect(isConsentPage(page)).toBe(true)
  page = await b.consent(page, 'allow')
  const q = callbackParams(page)
  expect(page.left!.origin + page.left!.pathname).toBe(CALLBACK)
  expect(q.get('state')).toBe(state)
  expect(q.get('error')).toBeNull()
  return q.get('code')!
}

/** Minnit's server side: the code for tokens, then the user-info URL from discovery. */
async function exchange(code: string, how: 'post' | 'basic') {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: CALLBACK,
  })
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  }
  if (how === 'post') {
    body.set('client_id', 'minnit')
    body.set('client_secret', secret)
  } else {
    headers.Authorization = `Basic ${Buffer.from(`minnit:${secret}`).toString('base64')}`
  }
  const res = await fetch(`${s.url}/token`, { method: 'POST', headers, body })
  const json = (await res.json()) as Record<string, unknown>
  expect(res.status, JSON.stringify(json)).toBe(200)
  expect(res.headers.get('cache-control')).toMatch(/no-store/)
  return json
}

async function userInfo(accessToken: string) {
  const discovery = (await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()) as {
    userinfo_endpoint: string
  }
  expect(discovery.userinfo_endpoint).toBe(`${s.issuer}/me`)
  const res = await fetch(discovery.userinfo_endpoint, {
    headers: { Authorization: `Bearer ${accessToken}` },
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  expect(res.headers.get('cache-control')).toMatch(/no-store/)
  return (await res.json()) as Record<string, unknown>
}

describe('plain OAuth2 (Minnit OAuth2 form)', () => {
  for (const how of ['post', 'basic'] as const) {
    it(`no scope, no PKCE, client_secret_${how}: /me answers exactly the mapped JSON`, async () => {
      const tokens = await exchange(await authorize(`minnit-${how}`), how)
      expect(tokens).toMatchObject({
        access_token: expect.any(String),
        token_type: expect.stringMatching(/^bearer$/i),
        expires_in: expect.any(Number),
      })
      // No openid scope: no ID token.
      expect(tokens.id_token).toBeUndefined()
      const info = await userInfo(tokens.access_token as string)

      const preview = await s.admin('POST', '/integrations/minnit/preview', { external_id: '1001' })
      expect(preview.status).toBe(200)
      expect(info).toEqual(preview.body.document)
      expect(info).toMatchObject({
        id: '1001',
        names: { nicknames: ['Robbie'], full_name: 'Robert Smith' },
      })
      // The keys a Minnit admin types into "unique user key" / "username key" are the preview's.
      const paths = preview.body.paths.map((p: { path: string }) => p.path)
      expect(listPaths(info as never).map((p) => p.path)).toEqual(paths)
      expect(paths).toEqual(expect.arrayContaining(['id', 'names.nicknames.0', 'names.full_name']))
    })
  }

  it('the access token also works as a form field (RFC 6750 §2.2), and the mapping may drop every default key', async () => {
    await s.admin('PUT', '/integrations/minnit', {
      type: 'oidc',
      settings: { redirect_uris: [CALLBACK] },
      mapping: {
        ...MAPPING,
        sub: null,
        preferred_username: null,
        nickname: null,
        name: null,
        given_name: null,
        family_name: null,
        picture: null,
        email: null,
        email_verified: null,
        locale: null,
        zoneinfo: null,
        updated_at: null,
      },
    })
    const tokens = await exchange(await authorize('minnit-form'), 'post')
    const res = await fetch(`${s.url}/me`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: tokens.access_token as string }),
    })
    expect(res.status).toBe(200)
    // `sub` is always there: it is who signed in (the external_id here).
    expect(await res.json()).toEqual({
      id: '1001',
      names: { nicknames: ['Robbie'], full_name: 'Robert Smith' },
      sub: '1001',
    })
  })

  it('the generated client secret is shown once, never read back', async () => {
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const read = await s.admin('GET', '/integrations/minnit')
    expect(read.status).toBe(200)
    expect(read.body.secrets.client_secret).toEqual({ source: 'inline', set: true })
    expect(JSON.stringify(read.body)).not.toContain(secret)
    // Saving again without secrets keeps it (and shows nothing).
    const again = await s.admin('PUT', '/integrations/minnit', {
      type: 'oidc',
      settings: { redirect_uris: [CALLBACK] },
      mapping: MAPPING,
    })
    expect(again.body.generated_secrets).toBeUndefined()
    expect((await exchange(await authorize('minnit-kept'), 'post')).access_token).toEqual(
      expect.any(String),
    )
  })

  it('refresh works without openid too', async () => {
    const tokens = await exchange(await authorize('minnit-refresh'), 'basic')
    expect(tokens.refresh_token).toEqual(expect.any(String))
    const res = await fetch(`${s.url}/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`minnit:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token as string,
      }),
    })
    const refreshed = (await res.json()) as Record<string, string>
    expect(res.status).toBe(200)
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    expect((await userInfo(refreshed.access_token!)).id).toBe('1001')
  })
})
