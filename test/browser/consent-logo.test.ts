/**
 * The consent page's logo in a real browser (Debian's chromium through playwright-core): an
 * integration with a `display_name` and a `logo_uri` on another origin (a loopback http server
 * standing in for the platform's CDN). Chromium loads that image under the page's strict CSP —
 * its `img-src` names that one URL — while another image of the same host is blocked by the same
 * policy (a `securitypolicyviolation`, and the host never sees the request). The page is
 * screenshotted to test-output/consent-page.png.
 *
 * Without chromium this suite FAILS with an instruction; it never skips.
 */
import { mkdirSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, newContext } from '../helpers/browser.ts'
import {
  createAccount,
  PASSWORD,
  registerClient,
  startOidcServer,
  type OidcServer,
} from '../helpers/oidc.ts'
import { TEST_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/', import.meta.url))
/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)

let s: OidcServer
let cdn: http.Server
let cdnBase: string
let browser: Browser | undefined
/** Paths the stand-in CDN was asked for, in order. */
const requested: string[] = []

beforeAll(async () => {
  cdn = http.createServer((req, res) => {
    requested.push(req.url ?? '')
    res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' }).end(PNG)
  })
  await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', () => resolve()))
  cdnBase = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`
  s = await startOidcServer()
  await createAccount(s, '7', { username: 'ada' })
  await registerClient(s, 'chat-7f3a', {
    redirect_uris: ['https://rp.example/cb'],
    display_name: "Ada's Chat",
    logo_uri: `${cdnBase}/brand/logo.png`,
  })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await s?.close()
  cdn?.closeAllConnections()
  await new Promise<void>((resolve) => (cdn ? cdn.close(() => resolve()) : resolve()))
})

describe('consent page logo in chromium', () => {
  it(
    'the logo loads under the CSP; another image of the same host does not',
    async () => {
      const context = await newContext(browser!)
      const page = await context.newPage()
      // Injected by the browser itself (not the page), so the page's CSP does not stop it: keeps
      // every CSP violation the page reports.
      await page.addInitScript(`
        window.__violations = []
        document.addEventListener('securitypolicyviolation', (e) => {
          window.__violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI })
        })
      `)
      const auth = new URL(`${s.issuer}/auth`)
      auth.search = new URLSearchParams({
        response_type: 'code',
        client_id: 'chat-7f3a',
        redirect_uri: 'https://rp.example/cb',
        scope: 'openid profile',
        state: 'st',
      }).toString()
      await page.goto(auth.href)
      await page.fill('#username', 'ada')
      await page.fill('#password', PASSWORD)
      await page.click('button.primary')
      await page.waitForSelector('.client img')
      expect(await page.locator('.client strong').innerText()).toBe("Ada's Chat")
      expect(await page.content()).not.toContain('chat-7f3a')

      // Loaded, with its pixels: complete and a natural width (a blocked image has neither).
      await page.waitForFunction(`document.querySelector('.client img').complete`)
      const loaded = await page.evaluate<{ complete: boolean; width: number }>(
        `(() => { const img = document.querySelector('.client img'); return { complete: img.complete, width: img.naturalWidth } })()`,
      )
      expect(loaded).toEqual({ complete: true, width: 1 })
      expect(requested).toContain('/brand/logo.png')

      // Another image of the same host, asked for from the page: the CSP refuses it.
      const other = await page.evaluate<string>(`new Promise((resolve) => {
        const img = new Image()
        img.onload = () => resolve('loaded')
        img.onerror = () => resolve('blocked')
        img.src = ${JSON.stringify(`${cdnBase}/other.png`)}
      })`)
      expect(other).toBe('blocked')
      await page.waitForFunction(`window.__violations.length > 0`)
      const violations =
        await page.evaluate<{ directive: string; blocked: string }[]>(`window.__violations`)
      expect(violations).toEqual([{ directive: 'img-src', blocked: `${cdnBase}/other.png` }])
      expect(requested).not.toContain('/other.png')

      mkdirSync(OUTPUT_DIR, { recursive: true })
      await page.screenshot({ path: `${OUTPUT_DIR}consent-page.png`, fullPage: true })
      await context.close()
    },
    TEST_TIMEOUT,
  )
})
