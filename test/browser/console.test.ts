/**
 * The /console sign-in in a real browser (issue #14): playwright-core drives Debian's chromium
 * against the real app on a real port. An operator made with the service signs in with password
 * and TOTP (the code computed from the seed with otpauth), sees the landing page under the strict
 * CSP without a single console error, at 390 px too, and signs out. Screenshots go to
 * test-output/console-*.png.
 *
 * Without chromium this suite FAILS with an instruction (test/helpers/browser.ts); it never skips.
 */
import { fileURLToPath } from 'node:url'
import { Secret, TOTP } from 'otpauth'
import { beforeAll, describe, expect, it } from 'vitest'
import { newContext } from '../helpers/browser.ts'
import { CONSOLE_PASSWORD } from '../helpers/console.ts'
import { useConsoleBrowserApp } from '../helpers/console-browser.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/', import.meta.url))
const app = useConsoleBrowserApp({ now: () => clock, outputDir: OUTPUT_DIR })

let seed: string
let clock = Date.now()

beforeAll(async () => {
  seed = new URL(
    (await app.t.services.operators.setupTotp('root', 'Test Site', 'test')).uri,
  ).searchParams.get('secret')!
}, PROCESS_TEST_TIMEOUT)

describe('the console in chromium', () => {
  for (const [label, viewport] of [
    ['desktop', { width: 1024, height: 720 }],
    ['390px', { width: 390, height: 844 }],
  ] as const) {
    it(
      `signs in with password and TOTP, lands on /console, signs out (${label})`,
      async () => {
        const context = await newContext(app.browser)
        const page = await context.newPage()
        await page.setViewportSize(viewport)
        const problems: string[] = []
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text())
        })
        page.on('pageerror', (e) => problems.push(e.message))

        await page.goto(`${app.issuer}/console`)
        expect(new URL(page.url()).pathname).toBe('/console/login')
        await page.getByLabel('Operator name').fill('root')
        await page.getByLabel('Password').fill(CONSOLE_PASSWORD)
        await page.screenshot({ path: `${OUTPUT_DIR}console-login-${label}.png` })
        await page.getByRole('button', { name: 'Sign in' }).click()

        await page.waitForURL(`${app.issuer}/console/totp`)
        // The code field has the focus (autofocus), so keyboard-only use works.
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('code')
        // The server's clock is injected: each run is a step later, so its code is a fresh one
        // (the same code twice would be refused as replayed).
        clock += 30_000
        const code = TOTP.generate({
          secret: Secret.fromBase32(seed),
          timestamp: clock,
          period: 30,
          digits: 6,
        })
        await page.keyboard.type(code)
        await page.screenshot({ path: `${OUTPUT_DIR}console-totp-${label}.png` })
        await page.keyboard.press('Enter')

        await page.waitForURL(`${app.issuer}/console`)
        expect(await page.locator('#operator').textContent()).toBe('root')
        // Nothing is wider than the viewport (390 px included).
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          viewport.width,
        )
        const cookie = (await context.cookies()).find((c) => c.name === 'sso_console')!
        expect(cookie).toMatchObject({ path: '/console', httpOnly: true, sameSite: 'Strict' })
        await page.screenshot({ path: `${OUTPUT_DIR}console-home-${label}.png` })

        await page.getByRole('button', { name: 'Sign out' }).click()
        await page.waitForURL(`${app.issuer}/console/login`)
        expect((await context.cookies()).find((c) => c.name === 'sso_console')).toBeUndefined()
        expect(problems).toEqual([])
        await context.close()
      },
      PROCESS_TEST_TIMEOUT,
    )
  }
})
