/**
 * The console's Keys page over real HTTP: the fingerprints it shows are those of the keys the
 * server publishes (the JWKS and the SAML metadata, fingerprinted here independently with jose and
 * node:crypto); rotation from the console writes KEYS_DIR and the keys-in-use record, and after a
 * restart over that KEYS_DIR the JWKS lists the new kid first while a token signed before the
 * rotation (a real ID token from an authorization code flow, openid-client as the relying party)
 * still verifies with jose. Refusals: no KEYS_DIR, no confirmation, no CSRF token — nothing
 * rotated.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JWK,
} from 'jose'
import * as client from 'openid-client'
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ensureKeys,
  KEYS_RECORD_KEY,
  KEYS_RECORD_NAMESPACE,
  OIDC_JWKS_FILE,
} from '../../src/keys/index.ts'
import { makeTestApp } from '../helpers/app.ts'
import { consoleAgent } from '../helpers/console.ts'
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
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const colonHex = (buf: Buffer) => buf.toString('hex').toUpperCase().match(/../g)!.join(':')

const open: { close(): Promise<void> }[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const o of open.splice(0)) await o.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('fingerprints', () => {
  it('shows each published OIDC key with its RFC 7638 thumbprint and each SAML certificate with the SHA-256 and SHA-1 SPs compute', async () => {
    const t = makeTestApp()
    open.push(t)
    const c = await consoleAgent(t)
    const page = await c.agent.get('/console/keys').expect(200)
    const jwks = (await request(t.app).get('/jwks').expect(200)).body as { keys: JWK[] }
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2)
    for (const k of jwks.keys) {
      const thumbprint = await calculateJwkThumbprint(k, 'sha256')
      expect(page.text).toMatch(
        new RegExp(
          `<tr data-kid="${k.kid}">[\\s\\S]*?<code class="thumbprint">${thumbprint}</code>`,
        ),
      )
    }
    const metadata = (await request(t.app).get('/saml/metadata').expect(200)).text
    const certs = [...metadata.matchAll(/X509Certificate>([^<]+)</g)].map((m) =>
      Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'),
    )
    expect(certs.length).toBeGreaterThan(0)
    for (const der of certs) {
      expect(page.text).toContain(
        `<code class="sha256">${colonHex(createHash('sha256').update(der).digest())}</code>`,
      )
      expect(page.text).toContain(
        `<code class="sha1">${colonHex(createHash('sha1').update(der).digest())}</code>`,
      )
    }
    // Key ids of the secrets at rest, never a key; no private member of any JWK.
    expect(page.text).toContain(`<code>${t.services.secrets.keyIds[0]}</code> (seals)`)
    expect(page.text).not.toMatch(/"d"|PRIVATE KEY/)
  })

  it('refuses to rotate without a KEYS_DIR, without the confirmation, or without the CSRF token; nothing rotated', async () => {
    const t = makeTestApp()
    open.push(t)
    const c = await consoleAgent(t)
    const before = (await request(t.app).get('/jwks')).body
    const noDir = await c.post('/console/keys/rotate', { confirm: 'yes' })
    expect(noDir.status).toBe(409)
    expect(noDir.text).toContain('data-code="keys_rotation_refused"')

    const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-keys-'))
    dirs.push(dir)
    const { keys } = await ensureKeys(dir, { commonName: 'localhost' })
    const t2 = makeTestApp({ keys: { material: keys, dir } })
    open.push(t2)
    const c2 = await consoleAgent(t2)
    const file = readFileSync(path.join(dir, OIDC_JWKS_FILE), 'utf8')
    expect((await c2.post('/console/keys/rotate', {})).status).toBe(409)
    const noCsrf = await c2.agent.post('/console/keys/rotate').type('form').send({ confirm: 'yes' })
    expect(noCsrf.status).toBe(403)
    expect(readFileSync(path.join(dir, OIDC_JWKS_FILE), 'utf8')).toBe(file)
    expect((await request(t.app).get('/jwks')).body).toEqual(before)
    expect(
      (await t2.services.store.listOperatorAudit(100)).filter((e) => e.action === 'keys_rotated'),
    ).toEqual([])
  })
})

describe('rotation', () => {
  it('one rotation at a time on a database: while another holds the lease, the console refuses and nothing changes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-keys-'))
    dirs.push(dir)
    const { keys } = await ensureKeys(dir, { commonName: 'localhost' })
    const t = makeTestApp({ keys: { material: keys, dir } })
    open.push(t)
    const c = await consoleAgent(t)
    const file = readFileSync(path.join(dir, OIDC_JWKS_FILE), 'utf8')
    // Another instance's rotation under way (keys/rotation.ts takes this lease first).
    expect(
      await t.services.store.kvSetIfAbsent(
        KEYS_RECORD_NAMESPACE,
        'rotation',
        {},
        { ttlMs: 60_000 },
      ),
    ).toBe(true)
    const refused = await c.post('/console/keys/rotate', { confirm: 'yes' })
    expect(refused.status).toBe(409)
    expect(refused.text).toContain('another key rotation is under way')
    expect(readFileSync(path.join(dir, OIDC_JWKS_FILE), 'utf8')).toBe(file)
    await t.services.store.kvDelete(KEYS_RECORD_NAMESPACE, 'rotation')
    expect((await c.post('/console/keys/rotate', { confirm: 'yes' })).status).toBe(303)
    expect(readFileSync(path.join(dir, OIDC_JWKS_FILE), 'utf8')).not.toBe(file)
    // The lease is given back after a rotation.
    expect(await t.services.store.kvGet(KEYS_RECORD_NAMESPACE, 'rotation')).toBeNull()
  })

  it(
    'rotate, restart: the JWKS shows the new kid first and an ID token signed before still verifies',
    { timeout: PROCESS_TEST_TIMEOUT },
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-keys-'))
      dirs.push(dir)
      const loaded = async () => ({
        material: (await ensureKeys(dir, { commonName: 'localhost' })).keys,
        dir,
      })
      const s = await startOidcServer({ keys: await loaded() })
      open.push(s)
      const idToken = await realIdToken(s)
      const oldKid = decodeProtectedHeader(idToken).kid!
      const before = (await fetch(`${s.url}/jwks`).then((r) => r.json())) as { keys: JWK[] }
      expect(before.keys.find((k) => k.alg === 'RS256')!.kid).toBe(oldKid)

      const c = await consoleAgent(s.t)
      const rotated = await c.post('/console/keys/rotate', { confirm: 'yes' })
      expect(rotated.status, rotated.text).toBe(303)
      expect(rotated.headers.location).toBe('/console/keys?notice=keys_rotated')
      const page = await c.agent.get('/console/keys').expect(200)
      expect(page.text).toContain('id="restart-pending"')
      expect(page.text).toMatch(/next: signs after restart/)
      // This process keeps signing with what it loaded until it restarts.
      expect(await fetch(`${s.url}/jwks`).then((r) => r.json())).toEqual(before)
      const audit = await s.t.services.store.listOperatorAudit(100)
      expect(audit).toContainEqual(
        expect.objectContaining({ actor: 'operator:operator', action: 'keys_rotated' }),
      )
      // The database's record of the keys in use is the new set (other instances compare with it)
      const record = await s.t.services.store.kvGet(KEYS_RECORD_NAMESPACE, KEYS_RECORD_KEY)
      // (two new keys, and the two previous ones kept for verification).
      const recorded = record?.value.oidc as string[]
      expect(recorded).toHaveLength(4)
      expect(recorded.filter((e) => e.startsWith(`${oldKid} `))).toHaveLength(1)
      await s.close()
      open.splice(open.indexOf(s), 1)

      // The restart: keys loaded from KEYS_DIR again, as main.ts does.
      const restarted = await startOidcServer({ keys: await loaded() })
      open.push(restarted)
      const after = (await fetch(`${restarted.url}/jwks`).then((r) => r.json())) as {
        keys: JWK[]
      }
      const rs256 = after.keys.filter((k) => k.alg === 'RS256').map((k) => k.kid)
      expect(rs256).toHaveLength(2)
      expect(rs256[0]).not.toBe(oldKid)
      expect(rs256[1]).toBe(oldKid)
      const { payload } = await jwtVerify(idToken, createLocalJWKSet(after))
      expect(payload.sub).toBeDefined()
      const c2 = await consoleAgent(restarted.t)
      const page2 = await c2.agent.get('/console/keys').expect(200)
      expect(page2.text).not.toContain('id="restart-pending"')
      // Keys generated here carry their creation time (a private member, never published).
      expect(after.keys.every((k) => !('createdAt' in k))).toBe(true)
      expect(page2.text).toMatch(
        new RegExp(`<tr data-kid="${rs256[0]}">(?:(?!</tr>)[\\s\\S])*<time datetime="\\d{4}-`),
      )
      expect(page2.text).toMatch(new RegExp(`<tr data-kid="${rs256[0]}">[\\s\\S]*?signing`))
      expect(page2.text).toMatch(new RegExp(`<tr data-kid="${oldKid}">[\\s\\S]*?verification only`))
    },
  )
})

/** A real ID token: openid-client runs the code flow, the scripted browser signs in and allows. */
async function realIdToken(s: OidcServer): Promise<string> {
  await createAccount(s, '42', { username: 'rob' })
  const { clientSecret } = await registerClient(s, 'rp', {
    redirect_uris: ['https://rp.example/cb'],
  })
  const config = await client.discovery(
    new URL(s.issuer),
    'rp',
    { client_secret: clientSecret! },
    client.ClientSecretBasic(clientSecret!),
    { execute: [client.allowInsecureRequests] },
  )
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: 'https://rp.example/cb',
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  })
  const b = new Browser(s.issuer)
  let page = await b.go(url)
  if (isLoginPage(page)) page = await b.login(page, 'rob', PASSWORD)
  if (isConsentPage(page)) page = await b.consent(page, 'allow')
  expect(callbackParams(page).get('code')).toBeTruthy()
  const tokens = await client.authorizationCodeGrant(config, page.left!, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  })
  return tokens.id_token!
}
