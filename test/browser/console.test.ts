/**
 * The /console sign-in in a real browser (issue #14): playwright-core drives Debian's chromium
 * against the real app on a real port. An operator made with the service signs in with password
 * and TOTP (the code computed from the seed with otpauth), sees the landing page under the strict
 * CSP without a single console error, at 390 px too, and signs out. Screenshots go to
 * test-output/console-*.png.
 *
 * Without chromium this suite FAILS with an instruction (test/helpers/browser.ts); it never skips.
 */
import { mkdirSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Secret, TOTP } from 'otpauth'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTestApp, type TestApp } from '../helpers/app.ts'
import { launchChromium, newContext } from '../helpers/browser.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/', import.meta.url))
const PASSWORD = 'browser operator password'

let t: TestApp
let server: http.Server
let issuer: string
let browser: Browser
let seed: string
let clock = Date.now()

beforeAll(async () => {
  // The issuer must be the URL the browser uses: take the port first, then build the app on it.
  server = http.createServer((req, res) => t.app(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t = makeTestApp({ issuer, now: () => clock })
  await t.services.operators.add('root', PASSWORD, 'test')
  seed = new URL(
    (await t.services.operators.setupTotp('root', 'Test Site', 'test')).uri,
  ).searchParams.get('secret')!
  browser = await launchChromium()
  mkdirSync(OUTPUT_DIR, { recursive: true })
}, PROCESS_TEST_TIMEOUT)

afterAll(async () => {
  await browser?.close()
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  await t?.close()
})

describe('the console in chromium', () => {
  for (const [label, viewport] of [
    ['desktop', { width: 1024, height: 720 }],
    ['390px', { width: 390, height: 844 }],
  ] as const) {
    it(
      `signs in with password and TOTP, lands on /console, signs out (${label})`,
      async () => {
        const context = await newContext(browser)
        const page = await context.newPage()
        await page.setViewportSize(viewport)
        const problems: string[] = []
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text())
        })
        page.on('pageerror', (e) => problems.push(e.message))

        await page.goto(`${issuer}/console`)
        expect(new URL(page.url()).pathname).toBe('/console/login')
        await page.getByLabel('Operator name').fill('root')
        await page.getByLabel('Password').fill(PASSWORD)
        await page.screenshot({ path: `${OUTPUT_DIR}console-login-${label}.png` })
        await page.getByRole('button', { name: 'Sign in' }).click()

        await page.waitForURL(`${issuer}/console/totp`)
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

        await page.waitForURL(`${issuer}/console`)
        expect(await page.locator('#operator').textContent()).toBe('root')
        // Nothing is wider than the viewport (390 px included).
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          viewport.width,
        )
        const cookie = (await context.cookies()).find((c) => c.name === 'sso_console')!
        expect(cookie).toMatchObject({ path: '/console', httpOnly: true, sameSite: 'Strict' })
        await page.screenshot({ path: `${OUTPUT_DIR}console-home-${label}.png` })

        await page.getByRole('button', { name: 'Sign out' }).click()
        await page.waitForURL(`${issuer}/console/login`)
        expect((await context.cookies()).find((c) => c.name === 'sso_console')).toBeUndefined()
        expect(problems).toEqual([])
        await context.close()
      },
      PROCESS_TEST_TIMEOUT,
    )
  }
})
