/**
 * `/docs`: the README and every page under docs/ served by the real app, with GitHub's heading
 * ids, links between pages rewritten to `/docs/…` URLs that resolve to a page and an anchor, and
 * no way out of the page list (unknown or traversing names are a 404 page).
 */
import { readdirSync, readFileSync } from 'node:fs'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  headingIds,
  renderDocPage,
  resolveDocLink,
  type DocPage,
} from '../../src/http/routes/docs-markdown.ts'
import { listDocPages } from '../../src/http/routes/docs.ts'
import { makeTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeAll(() => {
  t = makeTestApp()
})
afterAll(() => t.close())

const PAGE_NAMES = readdirSync(new URL('../../docs/', import.meta.url))
  .filter((f) => f.endsWith('.md'))
  .map((f) => f.slice(0, -3))

const get = (url: string) => request(t.app).get(url).set('Accept', 'text/html')
const ids = (html: string) => new Set([...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!))
const hrefs = (html: string) => [...html.matchAll(/ href="([^"]+)"/g)].map((m) => m[1]!)

describe('GET /docs and /docs/<page>', () => {
  it('serves the README as the index, with GitHub-style section ids', async () => {
    const res = await get('/docs')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    expect(res.text).toContain('<link rel="stylesheet" href="/assets/docs.css">')
    for (const id of [
      'sso-bridge',
      'quick-start',
      'the-doors',
      'configuration',
      'where-to-read-on',
      'development',
      'layout',
    ])
      expect(ids(res.text), id).toContain(id)
  })

  it('serves every page under docs/, each with its title and the navigation to the others', async () => {
    expect(PAGE_NAMES).toEqual(
      expect.arrayContaining(['admin-api', 'security', 'operations', 'performance', 'sync']),
    )
    for (const name of PAGE_NAMES) {
      const res = await get(`/docs/${name}`)
      expect(res.status, name).toBe(200)
      const markdown = readFileSync(new URL(`../../docs/${name}.md`, import.meta.url), 'utf8')
      expect(ids(res.text), name).toContain(headingIds(markdown)[0])
      for (const other of PAGE_NAMES) expect(res.text).toContain(`href="/docs/${other}"`)
      expect(res.text).toContain('href="/docs"')
    }
    // The navigation follows the README's "Where to read on" (reading order), not the file names.
    const nav = /<nav>(.*?)<\/nav>/.exec((await get('/docs/cli')).text)![1]!
    const order = hrefs(nav)
    expect(order[0]).toBe('/docs')
    expect(order.indexOf('/docs/accounts')).toBeLessThan(order.indexOf('/docs/admin-api'))
    expect(order.indexOf('/docs/security')).toBeLessThan(order.indexOf('/docs/performance'))
    expect(order.indexOf('/docs/tokens')).toBeLessThan(order.indexOf('/docs/sync'))
  })

  it('rewrites links between pages to /docs URLs, README links into docs/ included', async () => {
    const readme = (await get('/docs')).text
    expect(hrefs(readme)).toContain('/docs/security#sign-in-throttling')
    expect(hrefs(readme)).toContain('/docs/sync')
    expect(hrefs((await get('/docs/cli')).text)).toContain('/docs/security#sign-in-throttling')
    expect(hrefs((await get('/docs/operations')).text)).toContain('/docs#configuration')
    // A repository file that is no page has no URL here: its text stays, not a dead link.
    expect(readme).not.toContain('href=".env.example"')
    expect(readme).toContain('.env.example')
  })

  it('every link of every served page that leads into /docs reaches a page and an anchor on it', async () => {
    const pages = new Map<string, string>()
    const fetchPage = async (path: string) => {
      if (!pages.has(path)) {
        const res = await get(path)
        expect(res.status, path).toBe(200)
        pages.set(path, res.text)
      }
      return pages.get(path)!
    }
    let checked = 0
    for (const start of ['/docs', ...PAGE_NAMES.map((n) => `/docs/${n}`)]) {
      const html = await fetchPage(start)
      for (const href of hrefs(html)) {
        expect(href, `${start}: ${href}`).not.toMatch(/\.md(#|$)/)
        if (href.startsWith('#')) {
          expect(ids(html), `${start}: ${href}`).toContain(decodeURIComponent(href.slice(1)))
          checked++
          continue
        }
        const m = /^\/docs(\/[a-z0-9-]+)?(?:#(.*))?$/.exec(href)
        if (!m) continue
        const target = await fetchPage(`/docs${m[1] ?? ''}`)
        if (m[2]) expect(ids(target), `${start}: ${href}`).toContain(decodeURIComponent(m[2]))
        checked++
      }
    }
    expect(checked).toBeGreaterThan(50)
  })

  it("the home page's Documentation links reach a page and an anchor on it", async () => {
    const home = (await get('/')).text
    const links = [...home.matchAll(/href="http:\/\/localhost:3000(\/docs[^"#]*)(?:#([^"]+))?"/g)]
    expect(links.length).toBeGreaterThanOrEqual(5)
    for (const [, path, anchor] of links) {
      const res = await get(path!)
      expect(res.status, path).toBe(200)
      if (anchor) expect(ids(res.text), `${path}#${anchor}`).toContain(anchor)
    }
  })

  it('an unknown page is a 404 page, and no name reaches a file outside the page list', async () => {
    const outside = [
      '/docs/no-such-page',
      '/docs/security.md',
      '/docs/SECURITY',
      '/docs/README',
      '/docs/README.md',
      '/docs/..',
      '/docs/%2e%2e',
      '/docs/..%2fpackage.json',
      '/docs/..%2FREADME.md',
      '/docs/%2e%2e%2fpackage.json',
      '/docs/..%5cpackage.json',
      '/docs/..%252fpackage.json',
      '/docs/security%2f..%2f..%2fpackage.json',
      '/docs/%2fetc%2fpasswd',
      '/docs/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/docs/%00security',
      '/docs/security%00',
      '/docs/constructor',
      '/docs/__proto__',
    ]
    for (const path of outside) {
      const res = await get(path)
      expect(res.status, path).toBe(404)
      expect(res.headers['content-type'], path).toMatch(/^text\/html/)
      expect(res.text, path).not.toContain('"devDependencies"')
      expect(res.text, path).not.toContain('root:')
      expect(res.text, path).not.toContain('id="where-to-read-on"')
    }
    // Bad percent-encoding is the app's usual 400, never a 500.
    const bad = await get('/docs/%zz')
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('invalid_path')
    // The API form of the same refusal: JSON with the stable code.
    const json = await request(t.app)
      .get('/docs/..%2fpackage.json')
      .set('Accept', 'application/json')
    expect(json.status).toBe(404)
    expect(json.body).toMatchObject({ error: 'not_found' })
  })
})

describe('docs rendering', () => {
  const pages = listDocPages()
  const page = (name: string): DocPage => pages.get(name)!

  it("gives repeated headings GitHub's suffixed ids and ignores code ticks and markup", () => {
    expect(
      headingIds('# A `code` **title**\n## Limits\n## Limits\n### OAuth2 / OpenID Connect'),
    ).toEqual(['a-code-title', 'limits', 'limits-1', 'oauth2--openid-connect'])
  })

  it('resolves links as GitHub does: relative to the page holding them', () => {
    expect(resolveDocLink('docs/security.md#bad-input', 'README.md', pages)).toEqual({
      page: page('security'),
      anchor: 'bad-input',
    })
    expect(resolveDocLink('security.md', 'docs/cli.md', pages)).toEqual({
      page: page('security'),
      anchor: '',
    })
    expect(resolveDocLink('../README.md#layout', 'docs/cli.md', pages)).toEqual({
      page: page(''),
      anchor: 'layout',
    })
    // Not a page: an absolute URL or same-page anchor stays as written, a file is no page.
    expect(resolveDocLink('https://example.com/x.md', 'docs/cli.md', pages)).toBeUndefined()
    expect(resolveDocLink('#limits', 'docs/cli.md', pages)).toBeUndefined()
    expect(resolveDocLink('//evil.example/x.md', 'docs/cli.md', pages)).toBeUndefined()
    expect(resolveDocLink('.env.example', 'README.md', pages)).toBe('other-file')
    expect(resolveDocLink('../../etc/passwd.md', 'docs/cli.md', pages)).toBe('other-file')
    expect(resolveDocLink('no-such.md', 'docs/cli.md', pages)).toBe('other-file')
  })

  it('escapes what it writes into attributes', () => {
    const html = renderDocPage(
      '# T\n[x](security.md#a"b) [y](https://example.com/?a="b" "t<i>")',
      page('cli'),
      pages,
    )
    expect(html).toContain('href="/docs/security#a%22b"')
    expect(html).not.toMatch(/"b"/)
    expect(html).toContain('title="t&#60;i&#62;"')
  })
})
