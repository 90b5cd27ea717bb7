/**
 * Activity in a real browser (issue #14): a member signs in to a relying party in chromium (the
 * OIDC door's own sign-in and consent pages; openid-client 6 as the relying party builds the
 * request and redeems the code), then an operator, in another browser context, opens Activity
 * from the nav, filters on the member's username with the form (no script needed) and finds the
 * sign-in with the very request id the server answered the sign-in with. The Overview and the
 * filtered Activity page are checked with axe-core too, now that they hold data (charts, rows).
 * Screenshots: test-output/console/activity-*.png.
 *
 * Without chromium this suite FAILS (test/helpers/browser.ts); it never skips.
 */
import { fileURLToPath } from 'node:url'
import * as client from 'openid-client'
import { beforeAll, describe, expect, it } from 'vitest'
import { axeViolations } from '../helpers/axe.ts'
import { newContext } from '../helpers/browser.ts'
import { signInToConsole } from '../helpers/console.ts'
import { useConsoleBrowserApp } from '../helpers/console-browser.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/console/', import.meta.url))
const app = useConsoleBrowserApp({ outputDir: OUTPUT_DIR })
const MEMBER_PASSWORD = 'member password for chromium'

beforeAll(async () => {
  await app.t.services.accounts.put('m-77', {
    username: 'juniper',
    email: 'juniper@example.com',
    password: MEMBER_PASSWORD,
  })
}, PROCESS_TEST_TIMEOUT)

describe('Activity in chromium', () => {
  it(
    "finds a member's real OIDC sign-in by filtering on the member",
    async () => {
      // The relying party: an oidc integration (its generated secret, shown once) and openid-client.
      const callback = `${app.issuer}/rp-callback`
      const saved = await app.t.services.integrations.put(
        'rp',
        { type: 'oidc', settings: { redirect_uris: [callback] } },
        { actor: 'test' },
      )
      const secret = saved.integration.generated_secrets!.client_secret!
      const config = await client.discovery(
        new URL(app.issuer),
        'rp',
        { client_secret: secret },
        client.ClientSecretPost(secret),
        { execute: [client.allowInsecureRequests] },
      )
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: callback,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      })

      // The member, in chromium: the sign-in form, then Allow.
      const member = await newContext(app.browser)
      const mp = await member.newPage()
      await mp.goto(url.href)
      await mp.getByLabel('Username or email').fill('juniper')
      await mp.getByLabel('Password').fill(MEMBER_PASSWORD)
      const [signInResponse] = await Promise.all([
        mp.waitForResponse((r) => r.request().method() === 'POST' && /\/login$/.test(r.url())),
        mp.getByRole('button', { name: 'Sign in' }).click(),
      ])
      const requestId = (await signInResponse.allHeaders())['x-request-id']
      expect(requestId).toBeTruthy()
      await mp.getByRole('button', { name: 'Allow' }).click()
      await mp.waitForURL((u) => u.href.startsWith(callback))
      const tokens = await client.authorizationCodeGrant(config, new URL(mp.url()), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      })
      expect(tokens.claims()?.sub).toBeTruthy()
      await member.close()

      // The operator, in another context: sign in, Activity from the nav, filter on the member.
      const context = await newContext(app.browser)
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`)
      })
      page.on('pageerror', (e) => problems.push(e.message))
      await signInToConsole(page, app.issuer)
      // The Overview counts the sign-in for rp (its 24-hour table).
      expect(
        await page
          .locator('table[data-window="day"] tr[data-integration="rp"] [data-series="sign_in"]')
          .textContent(),
      ).toBe('1')
      expect(await axeViolations(page), 'overview with data').toEqual([])
      await page.screenshot({ path: `${OUTPUT_DIR}activity-overview.png`, fullPage: true })

      await page
        .getByRole('navigation', { name: 'Console' })
        .getByRole('link', { name: 'Activity' })
        .click()
      await page.waitForURL(`${app.issuer}/console/activity`)
      await page.getByLabel('Member').fill('juniper')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.waitForURL((u) => u.searchParams.get('member') === 'juniper')

      const rows = page.locator('#events tbody tr')
      const texts = await rows.allTextContents()
      expect(texts.length).toBeGreaterThanOrEqual(2)
      for (const text of texts) expect(text).toContain('juniper')
      const signIn = rows.filter({ hasText: 'Sign-in' }).filter({ hasText: requestId! })
      await expect.poll(() => signIn.count()).toBe(1)
      expect(await signIn.getByRole('link', { name: 'rp' }).getAttribute('href')).toBe(
        '/console/integrations/rp',
      )
      expect(await signIn.getByRole('link', { name: 'juniper' }).getAttribute('href')).toBe(
        '/console/members/m-77',
      )
      expect(await rows.filter({ hasText: 'OIDC token' }).count()).toBe(1)
      expect(await axeViolations(page), 'filtered activity').toEqual([])
      await page.screenshot({ path: `${OUTPUT_DIR}activity-filtered.png`, fullPage: true })
      await page.setViewportSize({ width: 390, height: 844 })
      expect(await axeViolations(page), 'filtered activity at 390 px').toEqual([])
      await page.screenshot({ path: `${OUTPUT_DIR}activity-filtered-390px.png`, fullPage: true })
      expect(problems).toEqual([])
      await context.close()
    },
    PROCESS_TEST_TIMEOUT,
  )
})
