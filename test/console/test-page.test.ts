/**
 * The console's Test page (issue #14) over HTTP against the real app and a real SQLite store:
 * what each type's platform would receive for a member (Minnit OAuth2's `names.nicknames.0`,
 * the SAML NameID and attributes, the decrypted zero-click payload, verified JWT claims, Dead
 * Simple Chat's Create User request and its "send for real" against the loopback stand-in of its
 * API), the SAML metadata check against a stand-in metadata server (a match and a mismatch, and
 * the private-address rule), and the refusals: CSRF, unknown member, unknown integration, a
 * missing required field. Nothing here mocks our own store or server.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { makeTestApp, type TestApp, type TestAppOptions } from '../helpers/app.ts'
import { consoleAgent } from '../helpers/console.ts'
import { createAccount, registerClient, startOidcServer } from '../helpers/oidc.ts'
import { oidcLiveCheck } from '../../src/oidc/live-check.ts'
import { startDscServer, type DscServer } from '../tokens/helpers/dsc-server.ts'
import { DSC_KEY, integrations, ROB } from '../tokens/helpers/fixtures.ts'

let t: TestApp | undefined
let closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of closers) await c()
  closers = []
  await t?.close()
  t = undefined
})

const MINNIT_OAUTH2 = {
  type: 'oidc',
  settings: { redirect_uris: ['https://organizations.minnit.chat/oauth/callback'] },
  mapping: {
    id: 'external_id',
    'names.nicknames.0': 'nickname',
    'names.full_name': { template: '{given_name} {family_name}' },
  },
}
const SP = {
  type: 'saml',
  settings: {
    entity_id: 'https://sp.example/metadata',
    acs_urls: [{ url: 'https://sp.example/acs', binding: 'HTTP-POST' }],
    name_id_format: 'emailAddress',
  },
}

async function setup(opts: TestAppOptions = {}) {
  t = makeTestApp(opts)
  await t.services.accounts.put('42', { ...ROB })
  await t.services.accounts.put('43', { username: 'Ana', rank: 'regular' })
  return { t, c: await consoleAgent(t) }
}

/** The text of the `<pre id=…>` block, unescaped and parsed. */
function block(html: string, id: string): unknown {
  const m = new RegExp(`<pre id="${id}"[^>]*>([\\s\\S]*?)</pre>`).exec(html)
  if (!m) throw new Error(`no #${id} on the page`)
  const text = m[1]!.replace(/&#(\d+);/g, (_x, n: string) => String.fromCharCode(Number(n)))
  return JSON.parse(text)
}

describe('what the platform receives', () => {
  it('Minnit OAuth2: the user-info document and its key paths, names.nicknames.0 among them', async () => {
    const { t, c } = await setup()
    await t.services.integrations.put('minnit-oauth', MINNIT_OAUTH2)
    // By username, as the operator would type it; the external id and the email find the same.
    for (const q of ['Rob', '42', 'rob@example.com']) {
      const res = await c.agent.get(`/console/integrations/minnit-oauth/test?member=${q}`)
      expect(res.status, res.text).toBe(200)
      expect(block(res.text, 'document')).toMatchObject({
        id: '42',
        names: { nicknames: ['Robbie'], full_name: 'Robert Smith' },
      })
      expect(res.text).toContain('<code>names.nicknames.0</code></th><td><code>&#34;Robbie&#34;')
      expect(res.headers['cache-control']).toBe('no-store')
    }
  })

  it('SAML: the NameID with its format and the attribute statement', async () => {
    const { t, c } = await setup()
    await t.services.integrations.put('sp', SP)
    const res = await c.agent.get('/console/integrations/sp/test?member=42').expect(200)
    expect(res.text).toContain('<code id="name-id">rob@example.com</code>')
    expect(res.text).toContain('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress')
    expect(res.text).toMatch(/<code>givenName<\/code><\/th><td><code>Robert<\/code>/)
    // Ana has no email: an emailAddress SP can get no NameID for her; said so, not a 500.
    const ana = await c.agent.get('/console/integrations/sp/test?member=43')
    expect(ana.status).toBe(400)
    expect(ana.text).toContain('data-code="saml_unsupported"')
  })

  it('Minnit zero-click: the decrypted payload and the embed snippet', async () => {
    const { t, c } = await setup()
    await t.services.integrations.put('minnit', integrations.minnit)
    const res = await c.agent.get('/console/integrations/minnit/test?member=42').expect(200)
    expect(res.text).toContain('Decrypted zero-click payload')
    const payload = block(res.text, 'document') as Record<string, unknown>
    expect(payload).toMatchObject({ userid: '42', username: 'Rob', rank: 'moderator' })
    expect(payload.max_valid_ts).toBeTypeOf('number')
    expect(res.text).toContain('&#60;iframe src=&#34;https://organizations.minnit.chat/')
  })

  it('JWT types: the verified claims', async () => {
    const { t, c } = await setup()
    await t.services.integrations.put('generic', integrations.generic)
    const res = await c.agent.get('/console/integrations/generic/test?member=Rob').expect(200)
    expect(res.text).toContain('Verified JWT claims')
    expect(block(res.text, 'document')).toMatchObject({
      sub: '42',
      aud: 'https://platform.example',
    })
  })

  it('Discourse: the signed DiscourseConnect payload (the browser token URL refuses it; this page does not)', async () => {
    const { t, c } = await setup()
    await t.services.integrations.put('forum', {
      type: 'discourse',
      settings: { discourse_url: 'https://forum.example.com' },
      secrets: { connect_secret: 'discourse-connect-secret-0123456789' },
    })
    const res = await c.agent.get('/console/integrations/forum/test?member=42').expect(200)
    expect(block(res.text, 'document')).toMatchObject({ external_id: '42', email: ROB.email })
    expect(res.text).not.toContain('discourse-connect-secret-0123456789')
  })

  it('a missing required field shows as account_incomplete with the field, nothing issued', async () => {
    const { t, c } = await setup()
    await t.services.integrations.put('boost', integrations.boostgpt)
    // BoostGPT needs an email; Ana has none.
    const res = await c.agent.get('/console/integrations/boost/test?member=Ana')
    expect(res.status).toBe(422)
    expect(res.text).toContain('data-code="account_incomplete"')
    expect(res.text).toContain('<code>email</code>')
  })
})

describe('Dead Simple Chat: the Create User request, and sending it for real', () => {
  let dsc: DscServer
  it('shows the request without the private key; "send for real" creates the user once', async () => {
    const { t, c } = await setup()
    dsc = await startDscServer(DSC_KEY)
    closers.push(() => dsc.close())
    await t.services.integrations.put('dsc', integrations.dsc(dsc.url))
    const page = await c.agent.get('/console/integrations/dsc/test?member=42').expect(200)
    expect(page.text).toContain('/consumer/api/v1/user?auth=&#60;private_key&#62;')
    expect(page.text).not.toContain(DSC_KEY)
    expect(block(page.text, 'document')).toEqual({
      username: 'Rob',
      isModerator: true,
      externalUserId: '42',
    })
    expect(dsc.calls).toHaveLength(0) // looking sends nothing

    // Without the CSRF token: refused, nothing sent.
    const forged = await c.agent
      .post('/console/integrations/dsc/test/send')
      .type('form')
      .send({ member: '42' })
    expect(forged.status).toBe(403)
    expect(forged.text).toContain('data-code="csrf_failed"')
    expect(dsc.calls).toHaveLength(0)

    const sent = await c.post('/console/integrations/dsc/test/send', { member: '42' })
    expect(sent.status, sent.text).toBe(303)
    expect(dsc.calls).toHaveLength(1)
    expect(dsc.calls[0]!.body).toEqual({ username: 'Rob', isModerator: true, externalUserId: '42' })
    const after = await c.agent.get(sent.headers.location!).expect(200)
    expect(after.text).toMatch(/Create User answered: user [0-9a-f]{24} was created\./)
    // Again: the stored user serves, nothing more is sent.
    const again = await c.post('/console/integrations/dsc/test/send', { member: '42' })
    expect((await c.agent.get(again.headers.location!)).text).toContain('nothing was sent')
    expect(dsc.calls).toHaveLength(1)
    const audit = await t.services.store.listOperatorAudit(100)
    expect(audit.filter((a) => a.action === 'integration_test_sent')).toEqual([
      expect.objectContaining({ actor: 'operator:operator', target: 'integration:dsc' }),
      expect.objectContaining({ actor: 'operator:operator', target: 'integration:dsc' }),
    ])
    expect(t.logText()).not.toContain(DSC_KEY)
  })
})

describe('SAML live check: the SP metadata fetched and compared', () => {
  const CERT = 'MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGVGb3JUZXN0c0FhYWFhYWFhYTAKBggqhkjOPQQDAjA='
  const metadata = (acs: string) => `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.example/metadata">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${CERT}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${acs}" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>`

  /** A stand-in SP serving its metadata at /metadata (what it serves can change). */
  async function metadataServer(body: { xml: string; hits?: number }) {
    const server: Server = createServer((req, res) => {
      body.hits = (body.hits ?? 0) + 1
      if (req.url !== '/metadata') return res.writeHead(404).end()
      res.writeHead(200, { 'Content-Type': 'application/samlmetadata+xml' }).end(body.xml)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    closers.push(
      () =>
        new Promise<void>((r) => {
          server.close(() => r())
          server.closeAllConnections()
        }),
    )
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`
  }

  const pem = `-----BEGIN CERTIFICATE-----\n${CERT}\n-----END CERTIFICATE-----\n`

  it('lists each setting as match or mismatch', async () => {
    const { t, c } = await setup({ backchannelPrivateNetworks: true })
    await t.services.integrations.put('sp', {
      ...SP,
      settings: { ...SP.settings, signing_certificate: pem },
    })
    const served = { xml: metadata('https://sp.example/acs') }
    const url = await metadataServer(served)
    const ok = await c.post('/console/integrations/sp/test/saml-metadata', { metadata_url: url })
    expect(ok.status, ok.text).toBe(200)
    expect(ok.text).toContain('Metadata matches the settings')
    expect(ok.text).not.toContain('data-match="false"')
    expect(ok.text).toMatch(/<code>entity_id<\/code>.*?match</)

    // The SP moved its ACS: that ACS is a mismatch both ways, the rest still match.
    served.xml = metadata('https://sp.example/new-acs')
    const moved = await c.post('/console/integrations/sp/test/saml-metadata', { metadata_url: url })
    expect(moved.status).toBe(200)
    expect(moved.text).toContain('Metadata differs from the settings')
    const rows = [
      ...moved.text.matchAll(
        /<tr data-match="(true|false)"><th scope="row"><code>(\w+)<\/code><\/th><td><code>([^<]*)<\/code><\/td><td><code>([^<]*)</g,
      ),
    ].map((m) => ({ match: m[1], setting: m[2], ours: m[3], theirs: m[4] }))
    expect(rows).toEqual([
      expect.objectContaining({ setting: 'entity_id', match: 'true' }),
      {
        setting: 'acs_urls',
        match: 'false',
        ours: 'HTTP-POST https://sp.example/acs',
        theirs: '(not in the metadata)',
      },
      {
        setting: 'acs_urls',
        match: 'false',
        ours: '(not registered)',
        theirs: 'HTTP-POST https://sp.example/new-acs',
      },
      expect.objectContaining({ setting: 'signing_certificate', match: 'true' }),
      expect.objectContaining({ setting: 'require_signed_requests', match: 'true' }),
    ])
    // A check changes nothing.
    expect((await t.services.integrations.get('sp')).settings).toMatchObject(SP.settings)
  })

  it('refuses a loopback URL unless BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS allows it; bad input is a 4xx at the field', async () => {
    const { t, c } = await setup()
    await t.services.integrations.put('sp', SP)
    const served = { xml: metadata('https://sp.example/acs'), hits: 0 }
    const url = await metadataServer(served)
    const res = await c.post('/console/integrations/sp/test/saml-metadata', { metadata_url: url })
    expect(res.status).toBe(400)
    expect(res.text).toContain('data-code="validation_failed"')
    expect(res.text).toContain('BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS')
    expect(served.hits).toBe(0) // refused before any connection
    const notUrl = await c.post('/console/integrations/sp/test/saml-metadata', {
      metadata_url: 'file:///etc/passwd',
    })
    expect(notUrl.status).toBe(400)
    expect(notUrl.text).toContain('must be an http(s) URL')
  })

  it('a document that is not SP metadata is a 4xx with its SAML code', async () => {
    const { t, c } = await setup({ backchannelPrivateNetworks: true })
    await t.services.integrations.put('sp', SP)
    const url = await metadataServer({ xml: '<html>not metadata</html>' })
    const res = await c.post('/console/integrations/sp/test/saml-metadata', { metadata_url: url })
    expect(res.status).toBe(400)
    expect(res.text).toContain('data-code="saml_schema"')
  })
})

describe('refusals', () => {
  it('unknown member: 404 at the field; unknown integration: 404 page; nothing changed', async () => {
    const { t, c } = await setup()
    await t.services.integrations.put('minnit-oauth', MINNIT_OAUTH2)
    const nobody = await c.agent.get('/console/integrations/minnit-oauth/test?member=nobody')
    expect(nobody.status).toBe(404)
    expect(nobody.text).toContain('data-code="user_not_found"')
    expect(nobody.text).toContain('aria-invalid="true"')
    const gone = await c.agent.get('/console/integrations/nope/test?member=42')
    expect(gone.status).toBe(404)
    expect(gone.text).toContain('data-code="integration_not_found"')
    const post = await c.post('/console/integrations/nope/test/send', { member: '42' })
    expect(post.status).toBe(404)
    // Send for real is for a type that calls an API: an OIDC integration has none.
    const oidc = await c.post('/console/integrations/minnit-oauth/test/send', { member: '42' })
    expect(oidc.status).toBe(400)
    expect(oidc.text).toContain('data-code="validation_failed"')
    expect(await t.services.store.listOperatorAudit(100)).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ action: 'integration_test_sent' })]),
    )
  })

  it('a signed-out browser is sent to the sign-in, not shown the page', async () => {
    const { t } = await setup()
    await t.services.integrations.put('minnit-oauth', MINNIT_OAUTH2)
    const { default: request } = await import('supertest')
    const res = await request(t.app).get('/console/integrations/minnit-oauth/test?member=42')
    expect(res.status).toBe(303)
    expect(res.headers.location).toBe('/console/login')
  })
})

describe('OIDC live check: a real round trip through ISSUER', () => {
  const CALLBACK = 'https://organizations.minnit.chat/oauth/callback'

  it('discovery, authorize, token, ID token and user-info for the member; the operator gets no member cookie', async () => {
    const s = await startOidcServer()
    closers.push(() => s.close())
    await createAccount(s, '1001', { username: 'rob', nickname: 'Robbie' })
    const { clientSecret } = await registerClient(s, 'minnit', {
      redirect_uris: [CALLBACK],
      mapping: MINNIT_OAUTH2.mapping,
    })
    const c = await consoleAgent(s.t)
    const res = await c.post('/console/integrations/minnit/test/oidc', { member: 'rob' })
    expect(res.status, res.text).toBe(200)
    expect(res.text).toContain('Round trip for rob (1001): passed')
    const steps = [...res.text.matchAll(/<tr data-ok="(true|false)"><th scope="row">([^<]+)</g)]
    expect(steps.map((m) => [m[2], m[1]])).toEqual([
      ['Discovery', 'true'],
      ['Authorization request', 'true'],
      ['Sign-in as the member', 'true'],
      ['Token request', 'true'],
      ['ID token', 'true'],
      ['User-info', 'true'],
    ])
    expect(block(res.text, 'userinfo')).toMatchObject({
      sub: '1001',
      names: { nicknames: ['Robbie'] },
    })
    expect(res.text).toContain('<code>names.nicknames.0</code>')
    // Nothing of the member reached the operator's browser.
    const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? []
    expect(cookies.filter((k) => /^(_session|_interaction|sso_bridge)/.test(k))).toEqual([])
    expect(await s.t.services.store.listOperatorAudit(100)).toContainEqual(
      expect.objectContaining({
        actor: 'operator:operator',
        action: 'integration_oidc_live_check',
        target: 'integration:minnit member:1001',
      }),
    )
    expect(s.t.logText()).not.toContain(clientSecret!)
    expect(res.text).not.toContain(clientSecret!)
  })

  it('a step that fails is shown failed, with why, and the steps after it are not run', async () => {
    const s = await startOidcServer({
      env: { SSO_BRIDGE_SECRET_MINNIT: 'a client secret from the environment, 0123456789' },
    })
    closers.push(() => s.close())
    await createAccount(s, '1001', { username: 'rob' })
    const put = await s.admin('PUT', '/integrations/minnit', {
      type: 'oidc',
      settings: { redirect_uris: [CALLBACK] },
      secrets: { client_secret: { env: 'SSO_BRIDGE_SECRET_MINNIT' } },
    })
    expect(put.status, JSON.stringify(put.body)).toBe(201)
    // The variable is gone where the server runs: the client can no longer authenticate.
    delete s.t.env.SSO_BRIDGE_SECRET_MINNIT
    const c = await consoleAgent(s.t)
    const res = await c.post('/console/integrations/minnit/test/oidc', { member: 'rob' })
    expect(res.status, res.text).toBe(200)
    expect(res.text).toContain('Round trip for rob (1001): failed')
    const steps = [...res.text.matchAll(/<tr data-ok="(true|false)"><th scope="row">([^<]+)</g)]
    expect(steps.at(-1)![1]).toBe('false')
    // oidc-provider cannot load a client without its secret: /auth answers its error page.
    expect(res.text).toMatch(
      /Authorization request<\/th><td><span class="badge bad">failed<\/span><\/td><td>refused: HTTP 400/,
    )
    expect(steps.slice(0, -1).every((m) => m[1] === 'true')).toBe(true)
    expect(steps.map((m) => m[2])).not.toContain('User-info')
    expect(res.text).not.toContain('id="userinfo"')
  })

  it('a public client goes through with PKCE alone', async () => {
    const s = await startOidcServer()
    closers.push(() => s.close())
    await createAccount(s, '1001', { username: 'rob', nickname: 'Robbie' })
    await registerClient(s, 'spa', { redirect_uris: [CALLBACK], public: true })
    const c = await consoleAgent(s.t)
    const res = await c.post('/console/integrations/spa/test/oidc', { member: '1001' })
    expect(res.status, res.text).toBe(200)
    expect(res.text).toContain('Round trip for rob (1001): passed')
    expect(res.text).toContain('public client, PKCE')
  })

  it('destroys the grant it made (its tokens die with it); a disabled member fails at the first step', async () => {
    const s = await startOidcServer()
    closers.push(() => s.close())
    await createAccount(s, '1001', { username: 'rob', nickname: 'Robbie' })
    await registerClient(s, 'minnit', { redirect_uris: [CALLBACK], mapping: MINNIT_OAUTH2.mapping })
    const deps = {
      provider: s.t.doors.oidc.provider,
      issuer: s.issuer,
      integrations: s.t.services.integrations,
      accounts: s.t.services.accounts,
    }
    const done = await oidcLiveCheck(deps, 'minnit', '1001')
    expect(done.steps.every((x) => x.ok)).toBe(true)
    expect(done.grantId).toEqual(expect.any(String))
    expect(await s.t.doors.oidc.provider.Grant.find(done.grantId!)).toBeUndefined()

    await s.t.services.accounts.put('1001', { username: 'rob', status: 'disabled' })
    const refused = await oidcLiveCheck(deps, 'minnit', '1001')
    expect(refused.steps).toEqual([
      { name: 'Member', ok: false, detail: 'the account is disabled' },
    ])
  })
})
