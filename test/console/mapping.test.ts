/**
 * The console's mapping editor (issue #14) over HTTP against the real app and a real SQLite
 * store: the stored mapping and its preview for a member; Preview applies an edited mapping and
 * saves nothing; Save validates as PUT /api/v1/integrations/{id} does and is audited with the
 * operator; errors are shown at their key (with its line), and change nothing; CSRF, unknown
 * member and unknown integration are refused.
 */
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts'
import { consoleAgent } from '../helpers/console.ts'

let t: TestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

const MAPPING = { id: 'external_id', 'names.nicknames.0': 'nickname' }

async function setup() {
  t = makeTestApp()
  await t.services.accounts.put('42', { username: 'Rob', nickname: 'Robbie', email: 'rob@x.org' })
  await t.services.integrations.put('minnit-oauth', {
    type: 'oidc',
    settings: { redirect_uris: ['https://organizations.minnit.chat/oauth/callback'] },
    mapping: MAPPING,
  })
  return { t, c: await consoleAgent(t) }
}

/** The `<pre id="document">` of a page, parsed. */
function preview(html: string): unknown {
  const m = /<pre id="document"[^>]*>([\s\S]*?)<\/pre>/.exec(html)
  if (!m) throw new Error('no preview on the page')
  return JSON.parse(m[1]!.replace(/&#(\d+);/g, (_x, n: string) => String.fromCharCode(Number(n))))
}

const stored = async (t: TestApp) => (await t.services.integrations.get('minnit-oauth')).mapping

describe('the mapping editor', () => {
  it('shows the stored mapping and its preview for a member, with the key paths', async () => {
    const { c } = await setup()
    const res = await c.agent.get('/console/integrations/minnit-oauth/mapping?member=Rob')
    expect(res.status, res.text).toBe(200)
    expect(res.text).toContain('&#34;names.nicknames.0&#34;: &#34;nickname&#34;')
    expect(preview(res.text)).toMatchObject({ id: '42', names: { nicknames: ['Robbie'] } })
    expect(res.text).toContain('<code>names.nicknames.0</code>')
  })

  it('Preview applies the edited mapping and saves nothing', async () => {
    const { t, c } = await setup()
    const edited = { ...MAPPING, 'names.nicknames.0': { path: 'nickname', transforms: ['upper'] } }
    const res = await c.post('/console/integrations/minnit-oauth/mapping/preview', {
      mapping: JSON.stringify(edited),
      member: '42',
    })
    expect(res.status, res.text).toBe(200)
    expect(res.text).toContain('(edited, not saved)')
    expect(preview(res.text)).toMatchObject({ names: { nicknames: ['ROBBIE'] } })
    expect(await stored(t)).toEqual(MAPPING)
    expect((await t.services.audit.list({ action: 'integration_mapping_saved' })).items).toEqual([])
  })

  it('Save persists it as the admin API would read it, audited with the operator', async () => {
    const { t, c } = await setup()
    const edited = { ...MAPPING, handle: 'username' }
    const res = await c.post('/console/integrations/minnit-oauth/mapping', {
      mapping: JSON.stringify(edited, null, 2),
      member: 'Rob',
    })
    expect(res.status, res.text).toBe(303)
    expect(res.headers.location).toBe(
      '/console/integrations/minnit-oauth/mapping?saved=1&member=Rob',
    )
    const api = await request(t.app).get('/api/v1/integrations/minnit-oauth').set(auth).expect(200)
    expect(api.body.mapping).toEqual(edited)
    const page = await c.agent.get(res.headers.location!).expect(200)
    expect(page.text).toContain('Mapping saved.')
    expect(preview(page.text)).toMatchObject({ handle: 'Rob' })
    // Once in the audit trail (the Audit page's list): the configuration log's entry, with the
    // operator, the console's action and what changed.
    const audit = await t.services.audit.list({ target: 'integration:minnit-oauth' })
    expect(audit.items.filter((e) => e.action !== 'integration_created')).toEqual([
      expect.objectContaining({
        source: 'config',
        actor: 'operator:operator',
        action: 'integration_mapping_saved',
        detail: expect.objectContaining({ mapping: 'changed' }),
      }),
    ])
  })

  it('errors are shown at their key with its line, and nothing is saved', async () => {
    const { t, c } = await setup()
    const text = JSON.stringify(
      { id: 'external_id', nick: { path: 'nickname', transforms: ['no-such-transform'] } },
      null,
      2,
    )
    for (const path of ['mapping', 'mapping/preview']) {
      const res = await c.post(`/console/integrations/minnit-oauth/${path}`, {
        mapping: text,
        member: '42',
      })
      expect(res.status, res.text).toBe(400)
      expect(res.text).toContain('data-code="validation_failed"')
      expect(res.text).toMatch(/<li data-key="nick"><code>nick<\/code> \(line 3\): /)
      expect(res.text).toContain('aria-invalid="true" aria-describedby="mapping-errors"')
      // What was typed is kept in the textarea.
      expect(res.text).toContain('no-such-transform')
    }
    // Not JSON at all: said so, with the line.
    const bad = await c.post('/console/integrations/minnit-oauth/mapping', {
      mapping: '{\n  "id": "external_id",\n  oops\n}',
    })
    expect(bad.status).toBe(400)
    expect(bad.text).toMatch(/<code>mapping<\/code>: is not valid JSON \(line 3\)/)
    // Not an object: the registry's own message (the same as the API's), at `mapping`.
    const arr = await c.post('/console/integrations/minnit-oauth/mapping', { mapping: '[1]' })
    expect(arr.status).toBe(400)
    expect(arr.text).toMatch(/<li data-key="mapping"><code>mapping<\/code>: .*array/)
    expect(await stored(t)).toEqual(MAPPING)
    expect((await t.services.audit.list({ action: 'integration_mapping_saved' })).items).toEqual([])
  })

  it('refuses a form without its CSRF token, an unknown member and an unknown integration', async () => {
    const { t, c } = await setup()
    const forged = await c.agent
      .post('/console/integrations/minnit-oauth/mapping')
      .type('form')
      .send({ mapping: '{}' })
    expect(forged.status).toBe(403)
    expect(forged.text).toContain('data-code="csrf_failed"')
    const nobody = await c.agent.get('/console/integrations/minnit-oauth/mapping?member=nobody')
    expect(nobody.status).toBe(404)
    expect(nobody.text).toContain('data-code="user_not_found"')
    const gone = await c.post('/console/integrations/nope/mapping', { mapping: '{}' })
    expect(gone.status).toBe(404)
    expect(gone.text).toContain('data-code="integration_not_found"')
    expect(await stored(t)).toEqual(MAPPING)
  })
})
