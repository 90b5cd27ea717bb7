/**
 * The console's Test page and mapping editor in a real browser (issue #14): playwright-core
 * drives Debian's chromium against the real app on a real port. An operator runs Test for a
 * member of a Minnit OAuth2 integration and sees `names.nicknames.0`; edits the mapping, sees
 * Preview change the document without saving, then saves and finds it stored. Both pages pass
 * axe-core (light and dark, desktop and 390 px) with no console error under the strict CSP.
 * Screenshots go to test-output/console/testmap-*.png.
 *
 * Without chromium this suite FAILS (test/helpers/browser.ts); it never skips.
 */
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { axeViolations } from '../helpers/axe.ts'
import { newContext } from '../helpers/browser.ts'
import { signInToConsole } from '../helpers/console.ts'
import { useConsoleBrowserApp } from '../helpers/console-browser.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/console/', import.meta.url))
const app = useConsoleBrowserApp({ outputDir: OUTPUT_DIR })
const MAPPING = { id: 'external_id', 'names.nicknames.0': 'nickname' }

beforeAll(async () => {
  await app.t.services.accounts.put('1001', { username: 'rob', nickname: 'Robbie' })
  await app.t.services.integrations.put('minnit-oauth', {
    type: 'oidc',
    settings: { redirect_uris: ['https://organizations.minnit.chat/oauth/callback'] },
    mapping: MAPPING,
  })
}, PROCESS_TEST_TIMEOUT)

/** The value beside a key path in the page's key-path table. */
const pathValue = (page: Page, path: string) =>
  page
    .locator('table[data-paths] tr', { has: page.locator(`th code`, { hasText: path }) })
    .locator('td')
    .textContent()

describe('Test and the mapping editor in chromium', () => {
  it(
    'runs Test for a member, previews an edited mapping, saves it; axe-clean',
    async () => {
      const context = await newContext(app.browser)
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`)
      })
      page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`))

      await signInToConsole(page, app.issuer)

      // Test: pick the member by username (a GET form), see names.nicknames.0.
      await page.goto(`${app.issuer}/console/integrations/minnit-oauth/test`)
      await page.getByLabel('Member').fill('rob')
      await page.getByRole('button', { name: 'Show' }).click()
      await page.waitForURL(/\/test\?member=rob$/)
      expect(await pathValue(page, 'names.nicknames.0')).toBe('"Robbie"')
      await page.screenshot({ path: `${OUTPUT_DIR}testmap-test.png`, fullPage: true })

      // The mapping editor: edit, Preview (not saved), then Save.
      await page.getByRole('link', { name: 'Edit the mapping' }).click()
      await page.waitForURL(/\/mapping\?member=rob$/)
      expect(await pathValue(page, 'names.nicknames.0')).toBe('"Robbie"')
      const edited = {
        ...MAPPING,
        'names.nicknames.0': { path: 'nickname', transforms: ['upper'] },
      }
      await page
        .getByLabel('Mapping', { exact: false })
        .first()
        .fill(JSON.stringify(edited, null, 2))
      await page.getByRole('button', { name: 'Preview' }).click()
      await page.waitForURL(/\/mapping\/preview$/)
      expect(await pathValue(page, 'names.nicknames.0')).toBe('"ROBBIE"')
      await expect
        .poll(async () => (await app.t.services.integrations.get('minnit-oauth')).mapping)
        .toEqual(MAPPING)
      await page.screenshot({ path: `${OUTPUT_DIR}testmap-preview.png`, fullPage: true })

      await page.getByRole('button', { name: 'Save' }).click()
      await page.waitForURL(/\/mapping\?saved=1&member=rob$/)
      expect(await page.getByRole('status').textContent()).toBe('Mapping saved.')
      expect(await pathValue(page, 'names.nicknames.0')).toBe('"ROBBIE"')
      expect((await app.t.services.integrations.get('minnit-oauth')).mapping).toEqual(edited)

      // Both pages, light and dark, desktop and 390 px: no axe violation.
      for (const path of [
        '/console/integrations/minnit-oauth/test?member=rob',
        '/console/integrations/minnit-oauth/mapping?member=rob',
      ])
        for (const colorScheme of ['light', 'dark'] as const)
          for (const [width, viewport] of [
            ['desktop', { width: 1280, height: 800 }],
            ['390px', { width: 390, height: 844 }],
          ] as const) {
            await page.emulateMedia({ colorScheme })
            await page.setViewportSize(viewport)
            const res = await page.goto(`${app.issuer}${path}`)
            expect(res?.status(), path).toBe(200)
            expect(await axeViolations(page), `${path} ${colorScheme} ${width}`).toEqual([])
            const name = path.includes('/test') ? 'test' : 'mapping'
            await page.screenshot({
              path: `${OUTPUT_DIR}testmap-${name}-${colorScheme}-${width}.png`,
              fullPage: true,
            })
          }
      expect(problems).toEqual([])
      await context.close()
    },
    PROCESS_TEST_TIMEOUT,
  )
})
