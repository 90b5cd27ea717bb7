/**
 * The console's integration pages in a real browser (issue #14): playwright-core drives Debian's
 * chromium against the real app on a real port. An operator adds a Minnit OAuth2 integration from
 * the catalogue (keyboard and clicks, no request forged), lands on its Connection page, and copies
 * the authorize URL and the client secret with the copy buttons — the clipboard is read back. The
 * secret is on that page once: reloaded, it is gone. Nothing trips the strict CSP or logs an
 * error. Screenshots go to test-output/console/integrations-*.png.
 *
 * Without chromium this suite FAILS (test/helpers/browser.ts); it never skips.
 */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { axeViolations } from '../helpers/axe.ts'
import { newContext } from '../helpers/browser.ts'
import { signInToConsole } from '../helpers/console.ts'
import { useConsoleBrowserApp } from '../helpers/console-browser.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/console/', import.meta.url))
const app = useConsoleBrowserApp({ outputDir: OUTPUT_DIR })

describe('integrations in chromium', () => {
  it(
    'adds Minnit OAuth2 from the catalogue, lands on Connection and copies the authorize URL',
    async () => {
      const context = await newContext(app.browser)
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.issuer })
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`)
      })
      page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`))

      await signInToConsole(page, app.issuer)

      await page.getByRole('link', { name: 'Integrations' }).click()
      await page.waitForURL(`${app.issuer}/console/integrations`)
      await page.getByRole('link', { name: 'Add an integration' }).click()
      await page.waitForURL(`${app.issuer}/console/integrations/new`)
      await page.screenshot({ path: `${OUTPUT_DIR}integrations-catalogue.png`, fullPage: true })
      await page.getByRole('link', { name: 'Minnit — OAuth2' }).click()
      await page.waitForURL(`${app.issuer}/console/integrations/new?entry=minnit-oauth2`)

      // The form speaks Minnit's words, with the preset's setting ticked.
      await page.getByLabel('Integration id').fill('minnit')
      await page
        .getByLabel('Authorized Redirect URI')
        .fill('https://organizations.minnit.chat/sso/callback')
      expect(await page.getByLabel('Skip the consent page').isChecked()).toBe(true)
      await page.screenshot({ path: `${OUTPUT_DIR}integrations-add-minnit.png`, fullPage: true })
      await page.getByRole('button', { name: 'Add integration' }).click()

      await page.waitForURL(/\/console\/integrations\/minnit\/connection\?done=created&shown=/)
      expect(await page.locator('ol.steps > li').first().textContent()).toBe(
        'In Minnit, Organization Settings → SSO → Add provider → OAuth2.',
      )
      await page.screenshot({ path: `${OUTPUT_DIR}integrations-connection.png`, fullPage: true })

      // The copy button beside "Authorize URL" puts the URL on the clipboard.
      const authorize = page.locator('li', { hasText: 'Authorize URL' })
      await authorize.getByRole('button', { name: 'Copy Authorize URL' }).click()
      await expect
        .poll(() => page.evaluate(() => navigator.clipboard.readText()))
        .toBe(`${app.issuer}/auth`)

      // The client secret, shown this once, copies too, and is the stored one.
      const secret = (await app.t.services.integrations.load('minnit')).secret('client_secret')!
      await page.getByRole('button', { name: 'Copy Client Secret' }).click()
      await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secret)

      // Reloaded, the page no longer holds it.
      await page.reload()
      expect(await page.content()).not.toContain(secret)
      expect(await page.locator('#shown-secret').count()).toBe(0)
      // Nothing is wider than a 390 px screen.
      await page.setViewportSize({ width: 390, height: 844 })
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        390,
      )
      await page.screenshot({
        path: `${OUTPUT_DIR}integrations-connection-390px.png`,
        fullPage: true,
      })

      // The list shows it, recognized as Minnit's.
      await page.goto(`${app.issuer}/console/integrations`)
      expect(await page.locator('tbody tr').first().textContent()).toContain('Minnit — OAuth2')

      // The pages the nav check (console-pages.test.ts) does not reach: catalogue, each kind of
      // form (a failed save with its field errors included), Connection, the confirmations.
      await page.goto(`${app.issuer}/console/integrations/new?entry=minnit-saml2`)
      await page.getByLabel('Integration id').fill('bad id')
      await page.getByRole('button', { name: 'Add integration' }).click()
      await page.waitForSelector('.field-error')
      const failed = await page.content()
      expect(failed).toContain('validation_failed')
      const paths = [
        '/console/integrations/new',
        '/console/integrations/new?entry=minnit-saml2',
        '/console/integrations/new?entry=minnit-zero-click',
        '/console/integrations/minnit/connection',
        '/console/integrations/minnit/delete',
        '/console/integrations/minnit/regenerate?secret=client_secret',
      ]
      for (const path of paths)
        for (const colorScheme of ['light', 'dark'] as const)
          for (const viewport of [
            { width: 1280, height: 800 },
            { width: 390, height: 844 },
          ]) {
            await page.emulateMedia({ colorScheme })
            await page.setViewportSize(viewport)
            expect((await page.goto(`${app.issuer}${path}`))?.status(), path).toBe(200)
            expect(await axeViolations(page), `${path} ${colorScheme} ${viewport.width}`).toEqual(
              [],
            )
          }
      // And the failed save itself (a POST's answer: checked as it is shown).
      await page.goto(`${app.issuer}/console/integrations/new?entry=minnit-saml2`)
      await page.getByLabel('Integration id').fill('bad id')
      await page.getByRole('button', { name: 'Add integration' }).click()
      await page.waitForSelector('.field-error')
      expect(await axeViolations(page), 'failed save').toEqual([])
      await page.screenshot({ path: `${OUTPUT_DIR}integrations-field-errors.png`, fullPage: true })
      // The two failed saves answered 400 on purpose; chromium reports each. Nothing else.
      expect(problems).toEqual([
        `${app.issuer}/console/integrations/new: Failed to load resource: the server responded with a status of 400 (Bad Request)`,
        `${app.issuer}/console/integrations/new: Failed to load resource: the server responded with a status of 400 (Bad Request)`,
      ])
      await context.close()
    },
    PROCESS_TEST_TIMEOUT,
  )
})
