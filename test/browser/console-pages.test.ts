/**
 * Every console page in a real browser (issue #14): playwright-core drives Debian's chromium
 * against the real app. An operator signs in, then each page in the nav — and the first detail
 * page each links to (`a[data-detail]`) — is opened in light and dark, at desktop width and at
 * 390 px, and axe-core (run in the page, its rules as shipped: WCAG 2.x A/AA and best practices)
 * must report no violation. Nothing may trip the strict CSP or log an error. A screenshot of each
 * goes to test-output/console/<page>-<scheme>-<width>.png.
 *
 * The pages list comes from the nav itself, so a page added to the console is checked here with
 * no change to this file. Without chromium this suite FAILS (test/helpers/browser.ts); it never skips.
 */
import { fileURLToPath } from 'node:url'
import request from 'supertest'
import { beforeAll, describe, expect, it } from 'vitest'
import { auth } from '../helpers/app.ts'
import { axeViolations } from '../helpers/axe.ts'
import { newContext } from '../helpers/browser.ts'
import { CONSOLE_PASSWORD, signInToConsole } from '../helpers/console.ts'
import { useConsoleBrowserApp } from '../helpers/console-browser.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/console/', import.meta.url))
const app = useConsoleBrowserApp({ outputDir: OUTPUT_DIR })

beforeAll(async () => {
  // Something on every page: a member, an integration of each door, and their traces.
  await app.t.services.accounts.put('m-1', {
    username: 'rob',
    email: 'rob@example.com',
    nickname: 'Rob',
    profile: { nicknames: ['Rob'] },
  })
  await request(app.t.app)
    .put('/api/v1/integrations/chat')
    .set(auth)
    .send({ type: 'oidc', settings: { redirect_uris: ['https://chat.example.com/cb'] } })
    .expect(201)
  await request(app.t.app)
    .put('/api/v1/integrations/minnit')
    .set(auth)
    .send({
      type: 'minnit-zero-click',
      settings: { chat_url: 'https://organizations.minnit.chat/1/c/Main' },
      secrets: { encryption_key: 'k'.repeat(32) },
    })
    .expect(201)
}, PROCESS_TEST_TIMEOUT)

/** A file name for a console path: /console/members/x → members-x. */
const slug = (path: string) =>
  path
    .replace(/^\/console\/?/, '')
    .replace(/[^a-z0-9]+/gi, '-')
    .replace(/^-|-$/g, '') || 'overview'

describe('every console page in chromium, with axe-core', () => {
  it(
    'has no axe violation and no console error in light and dark, at desktop width and 390 px',
    async () => {
      const context = await newContext(app.browser)
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`)
      })
      page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`))

      await signInToConsole(page, app.issuer)

      // The nav's pages, then the first detail page each one links to.
      const navPaths = await page
        .locator('nav[aria-label="Console"] a')
        .evaluateAll((links) => links.map((a) => new URL((a as HTMLAnchorElement).href).pathname))
      expect(navPaths[0]).toBe('/console')
      const paths = [...navPaths]
      for (const path of navPaths) {
        await page.goto(`${app.issuer}${path}`)
        const detail = page.locator('a[data-detail]').first()
        if ((await detail.count()) > 0) {
          const href = new URL((await detail.getAttribute('href'))!, app.issuer).pathname
          if (!paths.includes(href)) paths.push(href)
        }
      }

      const checked: string[] = []
      for (const path of paths)
        for (const colorScheme of ['light', 'dark'] as const)
          for (const [width, viewport] of [
            ['desktop', { width: 1280, height: 800 }],
            ['390px', { width: 390, height: 844 }],
          ] as const) {
            await page.emulateMedia({ colorScheme })
            await page.setViewportSize(viewport)
            const response = await page.goto(`${app.issuer}${path}`)
            expect(response?.status(), path).toBe(200)
            await page.screenshot({
              path: `${OUTPUT_DIR}${slug(path)}-${colorScheme}-${width}.png`,
              fullPage: true,
            })
            expect(await axeViolations(page), `${path} ${colorScheme} ${width}`).toEqual([])
            checked.push(`${path} ${colorScheme} ${width}`)
          }
      expect(problems).toEqual([])
      expect(checked.length).toBe(paths.length * 4)
      await context.close()
    },
    PROCESS_TEST_TIMEOUT,
  )

  it('skips to the content and reaches every nav link by keyboard', async () => {
    const context = await newContext(app.browser)
    const page = await context.newPage()
    await page.goto(`${app.issuer}/console/login`)
    await page.getByLabel('Operator name').fill('root')
    await page.getByLabel('Password').fill(CONSOLE_PASSWORD)
    await page.keyboard.press('Enter')
    await page.waitForURL(`${app.issuer}/console`)
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content')
    const links = await page.locator('nav[aria-label="Console"] a').count()
    const reached: string[] = []
    for (let i = 0; i < links + 1; i++) {
      await page.keyboard.press('Tab')
      reached.push((await page.evaluate(() => document.activeElement?.textContent)) ?? '')
    }
    const names = await page.locator('nav[aria-label="Console"] a').allTextContents()
    // After the skip link: every nav link in order (the brand is not focusable).
    expect(reached.slice(0, links)).toEqual(names)
    await context.close()
  })
})
