/**
 * Members in a real browser (issue #14): playwright-core drives Debian's chromium against the
 * real app on a real port. An operator signs in, finds a member by the start of their email, opens
 * their page from the results and disables them with the keyboard-free click a person would make;
 * the page says so, the member's own sign-in is refused from then on, and no console error shows
 * under the strict CSP, at desktop width and at 390 px. Screenshots go to
 * test-output/console/members-*.png.
 *
 * Without chromium this suite FAILS with an instruction (test/helpers/browser.ts); it never skips.
 */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { newContext } from '../helpers/browser.ts'
import { signInToConsole } from '../helpers/console.ts'
import { useConsoleBrowserApp } from '../helpers/console-browser.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/console/', import.meta.url))
const app = useConsoleBrowserApp({ outputDir: OUTPUT_DIR })
const MEMBER_PASSWORD = 'member password 0123'

describe('Members in chromium', () => {
  for (const [label, viewport] of [
    ['desktop', { width: 1024, height: 720 }],
    ['390px', { width: 390, height: 844 }],
  ] as const) {
    it(
      `finds a member by email and disables them (${label})`,
      async () => {
        const id = `m-${label}`
        await app.t.services.accounts.put(id, {
          username: `ada-${label}`,
          email: `ada.${label}@example.org`,
          password: MEMBER_PASSWORD,
        })
        expect(
          (await app.t.services.accounts.authenticate(`ada-${label}`, MEMBER_PASSWORD)).ok,
        ).toBe(true)
        const context = await newContext(app.browser)
        const page = await context.newPage()
        await page.setViewportSize(viewport)
        const problems: string[] = []
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text())
        })
        page.on('pageerror', (e) => problems.push(e.message))

        await signInToConsole(page, app.issuer)

        await page.getByRole('link', { name: 'Members' }).click()
        await page.waitForURL(`${app.issuer}/console/members`)
        await page.getByLabel('Find a member').fill(`ADA.${label}@EXAMPLE`)
        await page.getByLabel('Match on').selectOption('email')
        await page.getByRole('button', { name: 'Search' }).click()
        await page.waitForURL(/\/console\/members\?q=/)
        const link = page.getByRole('link', { name: `ada-${label}` })
        expect(await link.count()).toBe(1)
        await page.screenshot({ path: `${OUTPUT_DIR}members-search-${label}.png`, fullPage: true })
        await link.click()
        await page.waitForURL(`${app.issuer}/console/members/${id}`)
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`ada-${label}`)
        expect(await page.locator('#member-status').textContent()).toBe('active')

        await page.getByRole('button', { name: 'Disable member' }).click()
        await page.waitForURL(`${app.issuer}/console/members/${id}?notice=member_disabled`)
        expect(await page.getByRole('status').first().textContent()).toContain('Disabled')
        expect(await page.locator('#member-status').textContent()).toBe('disabled')
        expect(await page.getByRole('button', { name: 'Enable member' }).count()).toBe(1)
        await page.screenshot({
          path: `${OUTPUT_DIR}members-disabled-${label}.png`,
          fullPage: true,
        })

        expect((await app.t.services.accounts.get(id)).status).toBe('disabled')
        expect(await app.t.services.accounts.authenticate(`ada-${label}`, MEMBER_PASSWORD)).toEqual(
          {
            ok: false,
            reason: 'account_disabled',
          },
        )
        expect(problems).toEqual([])
        await context.close()
      },
      PROCESS_TEST_TIMEOUT,
    )
  }
})
