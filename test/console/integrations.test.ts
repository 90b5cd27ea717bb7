/**
 * The console's integration pages (issue #14) over HTTP against the real app and a real SQLite
 * store: the list, the catalogue and an Add through every entry (Minnit OAuth2 with its preset
 * included), the form generated from each type's schema with issues at their fields, secrets
 * (inline, from an environment variable, removed) shown only by their state, delete behind a
 * typed confirmation, the client secret shown once after creation and after regeneration, and the
 * refusals (CSRF, unknown id, duplicate id). Every change is in the audit log with the operator as
 * actor, and no page or log line ever holds a secret value that was not generated for that view.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import request from 'supertest'
import { createPostgresStore } from '../../src/store/postgres/store.ts'
import { auth, makeTestApp, type TestApp, type TestAppOptions } from '../helpers/app.ts'
import { dropFreshSchemas, freshSchemaUrl } from '../helpers/pg.ts'
import { consoleAgent, type ConsoleAgent } from '../helpers/console.ts'
import { catalogueEntries } from '../../src/integrations/catalogue.ts'

const MINNIT_KEY = 'k3y-for-minnit-zero-click-32byte' // exactly 32 bytes
const BOOST_SECRET = 'ab'.repeat(32)
const JWT_SECRET = 'a shared secret of at least 32 bytes!'
const MS_SECRET = 'meltingspot private key, 32 bytes or more'
const DSC_KEY = 'dsc-private-key-0123456789'
const ENV_KEY = 'env-minnit-key-exactly-32-bytes!' // 32 bytes

/** Both stores: the audit log and the one-view KV entry live in each. */
const STORES = {
  sqlite: async (opts: TestAppOptions) => ({ app: makeTestApp(opts), drop: async () => {} }),
  postgres: async (opts: TestAppOptions) => {
    const { url, drop } = await freshSchemaUrl()
    return { app: makeTestApp({ ...opts, store: await createPostgresStore(url) }), drop }
  },
}
afterAll(dropFreshSchemas)

let t: TestApp
let c: ConsoleAgent
/** Every page body the console answered with in a test, to search for secret values. */
let bodies: string[]

const codeOf = (html: string) => /data-code="([a-z_]+)"/.exec(html)?.[1]

async function get(path: string) {
  const res = await c.agent.get(path)
  bodies.push(res.text)
  return res
}
async function post(path: string, form: Record<string, string>) {
  const res = await c.post(path, form)
  bodies.push(res.text)
  return res
}

/** A valid Add form for each catalogue entry (what an operator types). */
const FORMS: Record<string, Record<string, string>> = {
  'minnit-oauth2': { 's.redirect_uris': 'https://organizations.minnit.chat/sso/callback' },
  'minnit-saml2': {
    's.entity_id': 'https://minnit.chat/saml/sp',
    's.acs_urls.0.url': 'https://minnit.chat/saml/acs',
    's.acs_urls.0.binding': 'HTTP-POST',
  },
  'minnit-zero-click': {
    's.chat_url': 'https://organizations.minnit.chat/1/c/Main',
    'x.encryption_key.value': MINNIT_KEY,
  },
  'boostgpt-jwt': { 's.bot_id': 'bot-uuid-1', 'x.sso_secret.value': BOOST_SECRET },
  'meltingspot-jwt': {
    's.spot_base_url': 'https://app.meltingspot.io',
    's.spot_id': 'abc-123',
    'x.jwt_secret.value': MS_SECRET,
  },
  deadsimplechat: {
    's.chat_room_url': 'https://deadsimplechat.com/room1',
    'x.private_key.value': DSC_KEY,
  },
  oidc: { 's.redirect_uris': 'https://rp.example.com/cb\nhttps://rp.example.com/cb2' },
  saml: {
    's.entity_id': 'https://sp.example.com/metadata',
    's.acs_urls.0.url': 'https://sp.example.com/acs',
  },
  jwt: { 's.target_url': 'https://platform.example.com/sso', 'x.secret.value': JWT_SECRET },
}

/** What every test checks at its end: no secret value anywhere the console wrote. */
function expectNoSecretLeak(except: string[] = []) {
  for (const secret of [MINNIT_KEY, BOOST_SECRET, JWT_SECRET, MS_SECRET, DSC_KEY, ENV_KEY]) {
    if (except.includes(secret)) continue
    for (const body of bodies) expect(body.includes(secret), secret).toBe(false)
    expect(t.logText().includes(secret), `log: ${secret}`).toBe(false)
  }
}

describe.each(Object.entries(STORES))('the integration pages (%s)', (_store, open) => {
  let drop: () => Promise<void>
  beforeEach(async () => {
    const opened = await open({ env: { SSO_BRIDGE_SECRET_MINNIT: ENV_KEY, OTHER_VAR: ENV_KEY } })
    t = opened.app
    drop = opened.drop
    c = await consoleAgent(t)
    bodies = []
  })
  afterEach(async () => {
    await t.close()
    await drop()
  })

  describe('the integrations list', () => {
    it('lists each integration with its platform, door, secret state and its pages', async () => {
      const empty = await get('/console/integrations')
      expect(empty.status).toBe(200)
      expect(empty.text).toContain('No integration yet')
      expect(empty.text).toContain('href="/console/integrations/new"')

      await request(t.app)
        .put('/api/v1/integrations/forum')
        .set(auth)
        .send({
          type: 'oidc',
          settings: { redirect_uris: ['https://organizations.minnit.chat/cb'] },
        })
        .expect(201)
      // Its key from a variable that is not set here: the list says a secret is missing.
      await t.services.integrations.put('zc', {
        type: 'minnit-zero-click',
        settings: { chat_url: 'https://organizations.minnit.chat/1/c/Main' },
        secrets: { encryption_key: { env: 'SSO_BRIDGE_SECRET_MINNIT' } },
      })
      delete t.env.SSO_BRIDGE_SECRET_MINNIT
      const res = await get('/console/integrations')
      expect(res.status).toBe(200)
      const rows = res.text.split('<tr>').slice(2)
      expect(rows).toHaveLength(2)
      const forum = rows.find((r) => r.includes('>forum<'))!
      // Recognized as Minnit's OAuth2 from its redirect URI.
      expect(forum).toContain('Minnit — OAuth2')
      expect(forum).toContain('OAuth2 / OpenID Connect')
      expect(forum).toContain('badge ok')
      for (const page of ['connection', 'test', 'mapping'])
        expect(forum).toContain(`href="/console/integrations/forum/${page}"`)
      expect(forum).toContain('href="/console/integrations/forum" data-detail')
      const zc = rows.find((r) => r.includes('>zc<'))!
      expect(zc).toContain('Minnit — zero-click SSO')
      expect(zc).toContain('Platform token')
      expect(zc).toContain('badge bad')
      expect(zc).not.toContain('data-detail')
      expectNoSecretLeak()
    })
  })

  describe('the catalogue', () => {
    it('lists every registered type and preset, grouped by platform', async () => {
      const res = await get('/console/integrations/new')
      expect(res.status).toBe(200)
      for (const title of [
        'Minnit — OAuth2',
        'Minnit — SAML2',
        'Minnit — zero-click SSO',
        'BoostGPT — chat widget',
        'MeltingSpot — JWT SSO',
        'Dead Simple Chat — SSO using Auth Token',
        'OpenID Connect / OAuth2 client',
        'SAML 2.0 service provider',
        'HS256 JWT',
      ])
        expect(res.text).toContain(title)
      // Every registered type has its entry (a type added later appears with no change here).
      for (const type of t.services.integrations.types())
        expect(res.text).toContain(`data-entry="${type.type}"`)
      const headings = [...res.text.matchAll(/<h2 id="cat-[^"]+">([^<]+)<\/h2>/g)].map((m) => m[1])
      expect(headings[0]).toBe('Minnit')
      expect(headings.at(-1)).toBe('Generic')
      // Minnit's three entries sit under Minnit.
      const minnit = res.text.slice(
        res.text.indexOf('>Minnit</h2>'),
        res.text.indexOf('</section>', res.text.indexOf('>Minnit</h2>')),
      )
      expect(minnit).toContain('minnit-oauth2')
      expect(minnit).toContain('minnit-saml2')
      expect(minnit).toContain('minnit-zero-click')
    })

    it('refuses an entry that is not in the catalogue', async () => {
      const res = await get('/console/integrations/new?entry=nope')
      expect(res.status).toBe(400)
      expect(codeOf(res.text)).toBe('validation_failed')
    })

    it('adds an integration through every entry, as the admin API would store it', async () => {
      const entries = catalogueEntries(t.services.integrations.types())
      const keys = entries.map((e) => e.key)
      for (const key of Object.keys(FORMS)) expect(keys).toContain(key)
      // Entries other parts registered (with a guide) open their generated form too.
      for (const entry of entries.filter((e) => !(e.key in FORMS))) {
        const form = await get(`/console/integrations/new?entry=${entry.key}`)
        expect(form.status, entry.key).toBe(200)
        expect(form.text, entry.key).toContain('name="s.')
      }
      for (const entry of entries.filter((e) => e.key in FORMS)) {
        const form = await get(`/console/integrations/new?entry=${entry.key}`)
        expect(form.status, entry.key).toBe(200)
        // The form is generated from the schema, in the platform's words.
        for (const name of Object.keys(FORMS[entry.key]!))
          if (name.startsWith('s.') && !name.includes('.0.'))
            expect(form.text, `${entry.key} ${name}`).toContain(`name="${name}"`)
        const id = `via-${entry.key}`
        const res = await post('/console/integrations/new', {
          entry: entry.key,
          id,
          ...FORMS[entry.key]!,
        })
        expect(res.status, `${entry.key}: ${res.text.slice(0, 2000)}`).toBe(303)
        expect(res.headers.location).toMatch(
          new RegExp(`^/console/integrations/${id}/connection\\?done=created`),
        )
        const stored = await t.services.integrations.get(id)
        expect(stored.type).toBe(entry.type.type)
        const page = await get(res.headers.location as string)
        expect(page.status).toBe(200)
        expect(page.text).toContain('<ol class="steps">')
      }
    })

    it('Minnit OAuth2: its preset, its words, the client secret shown once and never again', async () => {
      const form = await get('/console/integrations/new?entry=minnit-oauth2')
      expect(form.text).toContain('Authorized Redirect URI')
      // The preset's setting is ticked.
      expect(form.text).toMatch(/name="s\.first_party" value="true" checked/)
      const res = await post('/console/integrations/new', {
        entry: 'minnit-oauth2',
        id: 'minnit',
        's.redirect_uris': 'https://organizations.minnit.chat/sso/callback',
        's.first_party': 'true',
        's.scopes': 'openid\nprofile\nemail',
      })
      expect(res.status).toBe(303)
      const location = res.headers.location as string
      expect(location).toMatch(
        /^\/console\/integrations\/minnit\/connection\?done=created&shown=[\w-]{43}$/,
      )
      const stored = await t.services.integrations.get('minnit')
      expect(stored.settings).toMatchObject({ first_party: true })
      expect(stored.mapping).toMatchObject({
        'names.nicknames.0': 'nickname',
        username: 'username',
      })
      const loaded = await t.services.integrations.load('minnit')
      const secret = loaded.secret('client_secret')!
      expect(secret.length).toBeGreaterThanOrEqual(32)
      // The redirect carries a key, not the secret.
      expect(location).not.toContain(secret)

      const page = await get(location)
      expect(page.status).toBe(200)
      expect(page.text).toContain(secret)
      expect(page.text).toContain('In Minnit, Organization Settings → SSO → Add provider → OAuth2.')
      expect(page.text).toMatch(
        /Authorize URL: <span class="copyable"><input[^>]+value="http:\/\/localhost:3000\/auth"/,
      )
      expect(page.text).toContain('AccessToken URL')
      expect(page.text).toContain('GetUserInfo URL')
      expect(page.text).toContain('Unique user key')
      // Minnit's key fields name the preset's nested keys.
      expect(page.text).toMatch(
        /Nickname key: <span class="copyable"><input[^>]+value="names\.nicknames\.0"/,
      )
      expect(page.text).toMatch(/Username key: <span class="copyable"><input[^>]+value="username"/)
      expect(page.text).toMatch(/Unique user key: <span class="copyable"><input[^>]+value="sub"/)
      expect(page.text).toContain('data-copy="#')

      const again = await get(location)
      expect(again.status).toBe(200)
      expect(again.text).not.toContain(secret)
      expect(again.text).toContain('the secret shown once when the integration was created')
      // Not in the log either.
      expect(t.logText()).not.toContain(secret)
    })

    it('shows each issue at its field, keeps the values (never a secret) and stores nothing', async () => {
      const res = await post('/console/integrations/new', {
        entry: 'oidc',
        id: 'bad',
        's.redirect_uris': 'not a url',
        's.access_token_ttl': 'soon',
      })
      expect(res.status).toBe(400)
      expect(codeOf(res.text)).toBe('validation_failed')
      expect(res.text).toMatch(/id="f-s-redirect_uris-error">entry 1: must be an absolute URL/)
      expect(res.text).toMatch(/id="f-s-access_token_ttl-error">/)
      expect(res.text).toContain('>not a url</textarea>')
      expect(res.text).toContain('value="soon"')
      await expect(t.services.integrations.get('bad')).rejects.toMatchObject({
        code: 'ERR_INTEGRATION_NOT_FOUND',
      })

      const bad = await post('/console/integrations/new', {
        entry: 'minnit-zero-click',
        id: 'zc',
        's.chat_url': 'https://organizations.minnit.chat/1/c/Main',
        'x.encryption_key.value': 'too-short-key-123',
      })
      expect(bad.status).toBe(400)
      expect(bad.text).toMatch(/id="f-x-encryption_key-error">must be exactly 32 bytes/)
      expect(bad.text).not.toContain('too-short-key-123')
      expect(bad.text).toContain('value="https://organizations.minnit.chat/1/c/Main"')

      const badId = await post('/console/integrations/new', {
        entry: 'oidc',
        id: 'Bad Id!',
        ...FORMS.oidc,
      })
      expect(badId.status).toBe(400)
      expect(badId.text).toMatch(/id="f-id-error">must be 1-63 characters/)
      const reserved = await post('/console/integrations/new', {
        entry: 'oidc',
        id: 'new',
        ...FORMS.oidc,
      })
      expect(reserved.status).toBe(400)
      // The registry's rule and words, as the admin API answers them.
      expect(codeOf(reserved.text)).toBe('validation_failed')
      expect(reserved.text).toMatch(/id="f-id-error">is the console&#39;s own address/)
      expect(await t.services.integrations.list()).toEqual([])
      expect(
        (await t.services.audit.list({})).items.filter((a) => a.action.startsWith('integration')),
      ).toEqual([])
      expectNoSecretLeak()
    })
  })

  describe('a SAML SP from its metadata', () => {
    const METADATA = `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.org/metadata">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.org/acs" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>`

    it('fills the fields left empty from the pasted metadata; a field given wins', async () => {
      const form = await get('/console/integrations/new?entry=saml')
      expect(form.text).toContain('SP&#39;s metadata (XML)')
      expect(form.text).toContain('name="s.metadata_xml"')
      const res = await post('/console/integrations/new', {
        entry: 'saml',
        id: 'from-md',
        's.metadata_xml': METADATA,
        's.name_id_format': 'emailAddress',
      })
      expect(res.status, res.text.slice(0, 3000)).toBe(303)
      const stored = await t.services.integrations.get('from-md')
      expect(stored.settings).toMatchObject({
        entity_id: 'https://sp.example.org/metadata',
        acs_urls: [{ url: 'https://sp.example.org/acs', binding: 'HTTP-POST' }],
        name_id_format: 'emailAddress',
      })
      expect(stored.settings).not.toHaveProperty('metadata_xml')

      const bad = await post('/console/integrations/new', {
        entry: 'saml',
        id: 'bad-md',
        's.metadata_xml': '<!DOCTYPE x [<!ENTITY a "b">]><x/>',
      })
      expect(bad.status).toBe(400)
      expect(bad.text).toContain('id="f-s-metadata_xml-error"')
      await expect(t.services.integrations.get('bad-md')).rejects.toMatchObject({
        code: 'ERR_INTEGRATION_NOT_FOUND',
      })
    })
  })

  describe('secrets', () => {
    it('shows each secret by its state: inline, from a variable (set here or not), not set', async () => {
      const created = await post('/console/integrations/new', {
        entry: 'minnit-zero-click',
        id: 'zc',
        's.chat_url': 'https://organizations.minnit.chat/1/c/Main',
        'x.encryption_key.action': 'env',
        'x.encryption_key.env': 'SSO_BRIDGE_SECRET_MINNIT',
      })
      expect(created.status).toBe(303)
      let page = await get('/console/integrations/zc')
      expect(page.text).toContain(
        'data-secret-state="encryption_key">from environment variable SSO_BRIDGE_SECRET_MINNIT — set here',
      )
      expect(page.text).toContain('data-secret-state="api_key">not set')
      expect((await t.services.integrations.get('zc')).secrets.encryption_key).toEqual({
        source: 'env',
        env: 'SSO_BRIDGE_SECRET_MINNIT',
        set: true,
      })
      delete t.env.SSO_BRIDGE_SECRET_MINNIT
      page = await get('/console/integrations/zc')
      expect(page.text).toContain(
        'from environment variable SSO_BRIDGE_SECRET_MINNIT — not set here',
      )

      // A variable outside SECRET_ENV_PREFIX is refused at the secret, and nothing changes.
      const outside = await post('/console/integrations/zc', {
        's.chat_url': 'https://organizations.minnit.chat/1/c/Main',
        'x.encryption_key.action': 'env',
        'x.encryption_key.env': 'OTHER_VAR',
      })
      expect(outside.status).toBe(400)
      expect(outside.text).toMatch(
        /id="f-x-encryption_key-error">must start with SSO_BRIDGE_SECRET_/,
      )
      expect((await t.services.integrations.get('zc')).secrets.encryption_key).toMatchObject({
        env: 'SSO_BRIDGE_SECRET_MINNIT',
      })

      // Replaced inline, and an api_key set; then the api_key removed.
      const inline = await post('/console/integrations/zc', {
        's.chat_url': 'https://organizations.minnit.chat/1/c/Main',
        'x.encryption_key.action': 'value',
        'x.encryption_key.value': MINNIT_KEY,
        'x.api_key.value': 'an-api-key-of-24-characters-or-more',
      })
      expect(inline.status, inline.text).toBe(303)
      expect(inline.headers.location).toBe('/console/integrations/zc?done=saved')
      page = await get(inline.headers.location as string)
      expect(page.text).toContain('Changes saved.')
      expect(page.text).toContain('data-secret-state="encryption_key">set inline')
      expect(page.text).toContain('data-secret-state="api_key">set inline')
      expect((await t.services.integrations.load('zc')).secret('encryption_key')).toBe(MINNIT_KEY)
      const removed = await post('/console/integrations/zc', {
        's.chat_url': 'https://organizations.minnit.chat/1/c/Main',
        'x.api_key.action': 'remove',
      })
      expect(removed.status).toBe(303)
      expect((await t.services.integrations.get('zc')).secrets).toEqual({
        encryption_key: { source: 'inline', set: true },
      })
      // "Keep" keeps: a save that touches no secret leaves the key as it was.
      await post('/console/integrations/zc', {
        's.chat_url': 'https://organizations.minnit.chat/2/c/Main',
        's.token_ttl': '600',
      })
      const kept = await t.services.integrations.load('zc')
      expect(kept.secret('encryption_key')).toBe(MINNIT_KEY)
      expect(kept.settings).toMatchObject({
        chat_url: 'https://organizations.minnit.chat/2/c/Main',
        token_ttl: 600,
      })
      expectNoSecretLeak()
      expect(t.logText()).not.toContain('an-api-key-of-24-characters-or-more')
    })
  })

  describe('delete', () => {
    it('asks for the id to be typed, refuses another, then deletes (audited)', async () => {
      await post('/console/integrations/new', { entry: 'oidc', id: 'gone', ...FORMS.oidc })
      const confirm = await get('/console/integrations/gone/delete')
      expect(confirm.status).toBe(200)
      expect(confirm.text).toContain('Type the integration id')
      const wrong = await post('/console/integrations/gone/delete', { confirm: 'gon' })
      expect(wrong.status).toBe(400)
      expect(codeOf(wrong.text)).toBe('validation_failed')
      expect(wrong.text).toContain('id="f-confirm-error"')
      expect((await t.services.integrations.get('gone')).id).toBe('gone')
      const done = await post('/console/integrations/gone/delete', { confirm: 'gone' })
      expect(done.status).toBe(303)
      expect(done.headers.location).toBe('/console/integrations?done=deleted')
      await expect(t.services.integrations.get('gone')).rejects.toMatchObject({
        code: 'ERR_INTEGRATION_NOT_FOUND',
      })
      expect((await get(done.headers.location as string)).text).toContain('Integration deleted.')
    })
  })

  describe('regenerate the client secret', () => {
    it('makes a new one, shows it once to this session only, then never', async () => {
      const created = await request(t.app)
        .put('/api/v1/integrations/rp')
        .set(auth)
        .send({ type: 'oidc', settings: { redirect_uris: ['https://rp.example.com/cb'] } })
        .expect(201)
      const old = created.body.generated_secrets.client_secret as string
      const edit = await get('/console/integrations/rp')
      expect(edit.text).toContain('href="/console/integrations/rp/regenerate?secret=client_secret"')
      const ask = await get('/console/integrations/rp/regenerate?secret=client_secret')
      expect(ask.status).toBe(200)
      expect(ask.text).toContain('stops working at once')

      const res = await post('/console/integrations/rp/regenerate', { secret: 'client_secret' })
      expect(res.status).toBe(303)
      const location = res.headers.location as string
      expect(location).toMatch(/^\/console\/integrations\/rp\/connection\?done=regenerated&shown=/)
      const fresh = (await t.services.integrations.load('rp')).secret('client_secret')!
      expect(fresh).not.toBe(old)

      // Another operator's session with the same URL sees nothing (and does not use it up).
      const other = await consoleAgent(t, 'someone-else')
      const theirs = await other.agent.get(location)
      expect(theirs.status).toBe(200)
      expect(theirs.text).not.toContain(fresh)

      const once = await get(location)
      expect(once.text).toContain(fresh)
      expect(once.text).toContain('A new secret was generated')
      expect(once.text).not.toContain(old)
      const twice = await get(location)
      expect(twice.text).not.toContain(fresh)
      // The edit and list pages never show it.
      expect((await get('/console/integrations/rp')).text).not.toContain(fresh)
      expect((await get('/console/integrations')).text).not.toContain(fresh)
      expect(t.logText()).not.toContain(fresh)
      expect(t.logText()).not.toContain(old)

      // The old secret no longer authenticates at the token endpoint; the new one does (as a
      // client would: HTTP Basic with a wrong code, answered invalid_grant only when authenticated).
      const tokenWith = (secret: string) =>
        request(t.app).post('/token').auth('rp', secret).type('form').send({
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: 'https://rp.example.com/cb',
        })
      expect((await tokenWith(old)).body.error).toBe('invalid_client')
      expect((await tokenWith(fresh)).body.error).toBe('invalid_grant')
    })

    it('refuses for a public client, which has no secret', async () => {
      await t.services.integrations.put('pub', {
        type: 'oidc',
        settings: { redirect_uris: ['https://rp.example.com/cb'], public: true },
      })
      const res = await get('/console/integrations/pub/regenerate?secret=client_secret')
      expect(res.status).toBe(400)
      expect(codeOf(res.text)).toBe('validation_failed')
      const posted = await post('/console/integrations/pub/regenerate', { secret: 'client_secret' })
      expect(posted.status).toBe(400)
      expect((await t.services.integrations.get('pub')).secrets).toEqual({})
    })
  })

  describe('refusals', () => {
    it('a form without its CSRF token changes nothing (403 csrf_failed)', async () => {
      await post('/console/integrations/new', { entry: 'oidc', id: 'keep', ...FORMS.oidc })
      const before = await t.services.integrations.get('keep')
      const without = (path: string, form: Record<string, string>) =>
        c.agent.post(path).type('form').send(form)
      for (const [path, form] of [
        ['/console/integrations/new', { entry: 'oidc', id: 'other', ...FORMS.oidc }],
        ['/console/integrations/keep', { 's.redirect_uris': 'https://changed.example.com/cb' }],
        ['/console/integrations/keep/delete', { confirm: 'keep' }],
        ['/console/integrations/keep/regenerate', { secret: 'client_secret' }],
      ] as const) {
        const res = await without(path, form)
        expect(res.status, path).toBe(403)
        expect(codeOf(res.text), path).toBe('csrf_failed')
      }
      expect(await t.services.integrations.get('keep')).toEqual(before)
      expect((await t.services.integrations.list()).map((i) => i.id)).toEqual(['keep'])
    })

    it('an unknown id is a 404 page on every integration page', async () => {
      for (const path of [
        '/console/integrations/nope',
        '/console/integrations/nope/connection',
        '/console/integrations/nope/delete',
        '/console/integrations/nope/regenerate?secret=client_secret',
      ]) {
        const res = await get(path)
        expect(res.status, path).toBe(404)
        expect(codeOf(res.text), path).toBe('integration_not_found')
      }
      for (const [path, form] of [
        ['/console/integrations/nope', { 's.redirect_uris': 'https://x.example.com/cb' }],
        ['/console/integrations/nope/delete', { confirm: 'nope' }],
        ['/console/integrations/nope/regenerate', { secret: 'client_secret' }],
      ] as const) {
        const res = await post(path, form)
        expect(res.status, path).toBe(404)
        expect(codeOf(res.text), path).toBe('integration_not_found')
      }
      // Saving an unknown id did not create it.
      expect(await t.services.integrations.list()).toEqual([])
    })

    it('an id in use is refused on Add (409 integration_exists) and the first stays as it was', async () => {
      await post('/console/integrations/new', {
        entry: 'minnit-zero-click',
        id: 'taken',
        ...FORMS['minnit-zero-click']!,
      })
      const before = await t.services.integrations.get('taken')
      const res = await post('/console/integrations/new', {
        entry: 'oidc',
        id: 'taken',
        ...FORMS.oidc,
      })
      expect(res.status).toBe(409)
      expect(codeOf(res.text)).toBe('integration_exists')
      expect(res.text).toContain('id="f-id-error">an integration with this id exists already')
      expect(await t.services.integrations.get('taken')).toEqual(before)
      expectNoSecretLeak()
    })

    it('a form over 64 KiB is refused (413) and changes nothing', async () => {
      const res = await post('/console/integrations/new', {
        entry: 'oidc',
        id: 'big',
        's.redirect_uris': `https://rp.example.com/${'a'.repeat(70_000)}`,
      })
      expect(res.status).toBe(413)
      expect(await t.services.integrations.list()).toEqual([])
    })

    it('without a console session, no integration page opens', async () => {
      const res = await request(t.app).get('/console/integrations')
      expect(res.status).toBe(303)
      expect(res.headers.location).toBe('/console/login')
    })
  })

  describe('the audit log', () => {
    it('records every change once, with the operator as actor', async () => {
      await post('/console/integrations/new', {
        entry: 'minnit-oauth2',
        id: 'a',
        ...FORMS['minnit-oauth2']!,
      })
      await post('/console/integrations/a', {
        's.redirect_uris': 'https://organizations.minnit.chat/other',
      })
      await post('/console/integrations/a/regenerate', { secret: 'client_secret' })
      await post('/console/integrations/a/delete', { confirm: 'a' })
      // As the Audit page lists them: each change once, newest first, from the configuration
      // log (with what changed), the operator as actor.
      const entries = (await t.services.audit.list({ target: 'integration:a' })).items
      expect(entries.map(({ source, actor, action }) => ({ source, actor, action }))).toEqual(
        [
          'integration_deleted',
          'integration_secret_regenerated',
          'integration_updated',
          'integration_created',
        ].map((action) => ({ source: 'config', actor: 'operator:operator', action })),
      )
      const page = (await get('/console/audit?target=integration%3Aa')).text
      expect(page.match(/<tr data-entry=/g)).toHaveLength(4)
    })
  })
})

describe('an expired console session', () => {
  it('opens no integration page and saves nothing (401 console_session_expired)', async () => {
    const clock = { now: Date.parse('2026-12-05T12:00:00Z') }
    const app = makeTestApp({
      console: { requireTotp: false, idleMs: 60_000, absoluteMs: 3_600_000 },
      now: () => clock.now,
    })
    try {
      const signedIn = await consoleAgent(app)
      await app.services.integrations.put('rp', {
        type: 'oidc',
        settings: { redirect_uris: ['https://rp.example.com/cb'] },
      })
      const before = await app.services.integrations.get('rp')
      const csrf = await signedIn.csrf()
      clock.now += 61_000
      const res = await signedIn.agent
        .post('/console/integrations/rp')
        .type('form')
        .send({ csrf, 's.redirect_uris': 'https://changed.example.com/cb' })
      expect(res.status).toBe(401)
      expect(res.text).toContain('<strong>console_session_expired</strong>')
      expect(await app.services.integrations.get('rp')).toEqual(before)
    } finally {
      await app.close()
    }
  })
})
