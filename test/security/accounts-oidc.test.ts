/**
 * Issue #10, accounts part — OIDC grants and tokens follow the account, not only its external_id:
 * - deleting an account left its grants, access and refresh tokens alive (introspection said
 *   active) and, once an account was made again under the same external_id, the old tokens
 *   worked for the new person: deletion now revokes every OIDC session, grant, code and token
 *   of the account, and each grant is bound to the account's internal id;
 * - a confidential client could introspect another client's token;
 * - a different member signing in over a stale OIDC session had to sign in twice: oidc-provider's
 *   account switch also ended the new member's bridge session.
 * openid-client 6 is the relying party, a scripted browser the member, against the real app on a
 * real port over a real SQLite store (and PostgreSQL for deletion and binding).
 */
import * as client from 'openid-client'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { oidcNamespace, oidcRecordKey } from '../../src/oidc/adapter.ts'
import { GRANT_ACCOUNT_FIELD } from '../../src/oidc/account-binding.ts'
import { ACCOUNT_MODELS } from '../../src/oidc/revoke-account.ts'
import { createSessionManager } from '../../src/login/session.ts'
import {
  Browser,
  createAccount,
  isLoginPage,
  parseForms,
  PASSWORD,
  registerClient,
  startOidcServer,
  type ClientSpec,
  type OidcServer,
  type Page,
} from '../helpers/oidc.ts'

const RP_CB = 'https://rp.example/cb'

let s: OidcServer
/** The store the next server runs on (set by a describe below; SQLite by default). */
let storeKind: 'sqlite' | 'postgres' = 'sqlite'
beforeEach(async () => {
  s = await startOidcServer(
    storeKind === 'postgres'
      ? { store: await createPostgresStore((await freshSchemaUrl()).url) }
      : {},
  )
  expect(s.t.services.store.kind).toBe(storeKind)
  await createAccount(s, '42', { username: 'rob' })
})
afterEach(async () => s.close())
afterAll(dropFreshSchemas)

/** Runs `body`'s tests once per store. */
const eachStore = (name: string, body: () => void) =>
  describe.each(['sqlite', 'postgres'] as const)(`${name} [%s]`, (kind) => {
    // beforeAll: it runs before the top-level beforeEach that starts each test's server.
    beforeAll(() => void (storeKind = kind))
    afterAll(() => void (storeKind = 'sqlite'))
    body()
  })

async function rp(id: string, spec: ClientSpec = {}) {
  const { clientSecret } = await registerClient(s, id, { redirect_uris: [RP_CB], ...spec })
  const config = await client.discovery(
    new URL(s.issuer),
    id,
    { client_secret: clientSecret },
    client.ClientSecretBasic(clientSecret!),
    { execute: [client.allowInsecureRequests] },
  )
  return { id, config }
}
type Rp = Awaited<ReturnType<typeof rp>>

/** Follows oidc-provider's auto-submitted form posts (a script would submit them in a real browser). */
async function followFormPosts(b: Browser, page: Page): Promise<Page> {
  for (let i = 0; i < 5 && !page.left; i++) {
    const form = parseForms(page.html).find(
      (f) => f.method === 'post' && f.action.includes('/session/end/confirm'),
    )
    if (!form) break
    page = await b.submit(page, {}, (f) => f === form || f.action === form.action)
  }
  return page
}

/** Authorize as the RP would; the member signs in as `login` when asked (consent is skipped: first-party). */
async function signIn(b: Browser, r: Rp, login = 'rob', opts: { expectLogin?: boolean } = {}) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(r.config, {
    redirect_uri: RP_CB,
    scope: 'openid profile offline_access',
    prompt: 'consent',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  })
  let page = await b.go(url)
  if (opts.expectLogin !== undefined)
    expect(isLoginPage(page), 'sign-in form shown').toBe(opts.expectLogin)
  let logins = 0
  while (isLoginPage(page) && logins < 3) {
    logins++
    page = await followFormPosts(b, await b.login(page, login, PASSWORD))
  }
  expect(
    page.left?.href.startsWith(RP_CB),
    `redirected to the client: ${page.url} ${page.status}`,
  ).toBe(true)
  expect(page.left!.searchParams.get('error'), page.left!.search).toBeNull()
  const tokens = await client.authorizationCodeGrant(r.config, page.left!, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  })
  return { tokens, logins }
}

const me = (accessToken: string) =>
  fetch(`${s.url}/me`, { headers: { Authorization: `Bearer ${accessToken}` } })
const introspect = (r: Rp, token: string) => client.tokenIntrospection(r.config, token)
const deleteUser = (id: string) => s.admin('DELETE', `/users/${id}`)

/** Every live OIDC record the store holds for oidc-provider's accountId `externalId`. */
async function oidcRecordsOf(externalId: string): Promise<string[]> {
  const found: string[] = []
  for (const model of ACCOUNT_MODELS)
    if (await s.t.services.store.kvFindBy(oidcNamespace(model), 'accountId', externalId))
      found.push(model)
  return found
}

eachStore(
  'accounts: deleting an account revokes its OIDC grants, tokens and sessions (defect: tokens stayed active)',
  () => {
    it('introspection says inactive, /me and refresh refuse, and nothing of it is left in the store', async () => {
      const r = await rp('rp', {
        first_party: true,
        scopes: ['openid', 'profile', 'offline_access'],
      })
      const b = new Browser(s.issuer)
      const { tokens } = await signIn(b, r)
      expect(tokens.refresh_token).toEqual(expect.any(String))
      expect(await introspect(r, tokens.access_token)).toMatchObject({ active: true, sub: '42' })

      expect((await deleteUser('42')).status).toBe(204)
      expect(await introspect(r, tokens.access_token)).toEqual({ active: false })
      expect(await introspect(r, tokens.refresh_token!)).toEqual({ active: false })
      expect((await me(tokens.access_token)).status).toBe(401)
      await expect(client.refreshTokenGrant(r.config, tokens.refresh_token!)).rejects.toMatchObject(
        { error: 'invalid_grant' },
      )
      expect(await oidcRecordsOf('42')).toEqual([])
      expect(
        await s.t.services.store.kvGet(
          oidcNamespace('AccessToken'),
          oidcRecordKey('AccessToken', tokens.access_token),
        ),
      ).toBeNull()

      // A new member under the same external_id: the first member's tokens stay dead.
      await createAccount(s, '42', { username: 'newrob' })
      expect(await introspect(r, tokens.access_token)).toEqual({ active: false })
      expect((await me(tokens.access_token)).status).toBe(401)
      await expect(client.refreshTokenGrant(r.config, tokens.refresh_token!)).rejects.toMatchObject(
        { error: 'invalid_grant' },
      )
      // The browser's old OIDC session does not sign the new member in either.
      const again = await b.go(
        client.buildAuthorizationUrl(r.config, {
          redirect_uri: RP_CB,
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
      )
      expect(isLoginPage(again)).toBe(true)
    })
  },
)

eachStore(
  'accounts: a token is bound to the internal account id, not only the external_id (defect: old tokens worked for a new account)',
  () => {
    it('tokens that outlived the account (a removal that revoked nothing) are refused once the external_id belongs to someone else', async () => {
      const r = await rp('rp', {
        first_party: true,
        scopes: ['openid', 'profile', 'offline_access'],
      })
      const { tokens } = await signIn(new Browser(s.issuer), r)
      // As if the revocation had missed them (records stored before the accountId index, or a
      // token issued while the deletion ran): the account goes, its OIDC records stay.
      expect(await s.t.services.store.deleteAccount('42')).toBe(true)
      await createAccount(s, '42', { username: 'newrob' })

      expect(await introspect(r, tokens.access_token)).toEqual({ active: false })
      expect(await introspect(r, tokens.refresh_token!)).toEqual({ active: false })
      const res = await me(tokens.access_token)
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({ error: 'invalid_token' })
      await expect(client.refreshTokenGrant(r.config, tokens.refresh_token!)).rejects.toMatchObject(
        { error: 'invalid_grant' },
      )

      // The new member signs in and gets working tokens of their own.
      const fresh = await signIn(new Browser(s.issuer), r, 'newrob')
      expect(await introspect(r, fresh.tokens.access_token)).toMatchObject({
        active: true,
        sub: '42',
      })
      expect((await me(fresh.tokens.access_token)).status).toBe(200)
      expect(
        (await client.refreshTokenGrant(r.config, fresh.tokens.refresh_token!)).access_token,
      ).toEqual(expect.any(String))
    })

    it('a grant stored before the binding existed counts only for an account created before it', async () => {
      const r = await rp('rp', {
        first_party: true,
        scopes: ['openid', 'profile', 'offline_access'],
      })
      const { tokens } = await signIn(new Browser(s.issuer), r)
      const store = s.t.services.store
      const found = (await store.kvFindBy(oidcNamespace('Grant'), 'accountId', '42'))!
      expect(found.entry.value[GRANT_ACCOUNT_FIELD]).toBe(
        (await s.t.services.accounts.get('42')).id,
      )
      const rewrite = async (iat: number) => {
        const { [GRANT_ACCOUNT_FIELD]: _bound, ...legacy } = found.entry.value
        await store.kvSet(
          oidcNamespace('Grant'),
          found.key,
          { ...legacy, iat },
          { ttlMs: found.entry.expiresAt! - Date.now(), indexes: { accountId: '42' } },
        )
      }
      // Made after the account: still its own (an upgrade signs nobody out).
      await rewrite(
        Math.ceil(Date.parse((await s.t.services.accounts.get('42')).created_at) / 1000) + 1,
      )
      expect(await introspect(r, tokens.access_token)).toMatchObject({ active: true })
      expect((await me(tokens.access_token)).status).toBe(200)
      // The account was made again after the grant: not its grant.
      expect(await s.t.services.store.deleteAccount('42')).toBe(true)
      await createAccount(s, '42', { username: 'newrob' })
      await rewrite(
        Math.floor(Date.parse((await s.t.services.accounts.get('42')).created_at) / 1000) - 1,
      )
      expect(await introspect(r, tokens.access_token)).toEqual({ active: false })
      expect((await me(tokens.access_token)).status).toBe(401)
      await expect(client.refreshTokenGrant(r.config, tokens.refresh_token!)).rejects.toMatchObject(
        { error: 'invalid_grant' },
      )
    })
  },
)

describe("accounts: introspection answers only for the token's own client (defect: any confidential client could)", () => {
  it('another client gets {"active": false} for access and refresh tokens; the owner gets the answer', async () => {
    const owner = await rp('owner', {
      first_party: true,
      scopes: ['openid', 'profile', 'offline_access'],
    })
    const other = await rp('other', {
      first_party: true,
      scopes: ['openid', 'profile', 'offline_access'],
    })
    const { tokens } = await signIn(new Browser(s.issuer), owner)
    expect(await introspect(other, tokens.access_token)).toEqual({ active: false })
    expect(await introspect(other, tokens.refresh_token!)).toEqual({ active: false })
    expect(await introspect(owner, tokens.access_token)).toMatchObject({
      active: true,
      client_id: 'owner',
      sub: '42',
    })
    expect(await introspect(owner, tokens.refresh_token!)).toMatchObject({
      active: true,
      client_id: 'owner',
    })
  })
})

describe('accounts: a different member signing in over a stale OIDC session signs in once (defect: twice)', () => {
  it("B signs in once after A's bridge session ended; B's bridge session survives the account switch", async () => {
    await createAccount(s, '43', { username: 'bea' })
    const r = await rp('rp', { first_party: true, scopes: ['openid', 'profile', 'offline_access'] })
    const chat = await rp('chat', {
      first_party: true,
      scopes: ['openid', 'profile', 'offline_access'],
    })
    const b = new Browser(s.issuer)
    const a = await signIn(b, r, 'rob')
    expect(a.tokens.claims()!.sub).toBe('42')
    // A's bridge session ends (expired, or signed out at another door); the OIDC session cookie stays.
    b.deleteCookie('sso_bridge')
    expect(b.cookie('_session')).toBeDefined()

    const second = await signIn(b, r, 'bea', { expectLogin: true })
    expect(second.logins).toBe(1)
    expect(second.tokens.claims()!.sub).toBe('43')
    const sessions = createSessionManager({ kv: s.t.services.store, ttlMs: 60_000 })
    const bridge = await sessions.get(b.cookie('sso_bridge'))
    expect(bridge?.account_id).toBe((await s.t.services.accounts.get('43')).id)
    // One sign-in for every door: another client signs B in without the form.
    const third = await signIn(b, chat, 'bea', { expectLogin: false })
    expect(third.tokens.claims()!.sub).toBe('43')
    // A's offline access (a refresh token) outlives the OIDC session, as oidc-provider intends,
    // and stays A's.
    expect(await introspect(r, a.tokens.access_token)).toMatchObject({ active: true, sub: '42' })
  })
})
