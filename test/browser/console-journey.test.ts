/**
 * Issue #14's browser scenario as one journey (real chromium through playwright-core, the real
 * app on a real port, a real SQLite store, real keys in a KEYS_DIR). An operator with TOTP (the
 * code computed from the seed with otpauth at the server's injected clock) signs in; adds "Minnit —
 * OAuth2" from the catalogue, its redirect URIs being Minnit's and this test's own callback
 * server; copies the authorize URL and the client secret shown once (both read back from the
 * clipboard); runs Test for a member and sees `names.nicknames.0`; edits the mapping and sees
 * Preview change, then saves. The member then signs in for real through that very integration
 * (openid-client as the relying party, with the secret the console showed) and the user-info
 * document carries the saved mapping. The operator finds that sign-in in Activity, filtered on
 * the member, with the request id the server answered it with; and rotates the signing keys on
 * the Keys page (the confirmation ticked), seeing the new key listed beside the current one.
 * Screenshots: test-output/console/journey-*.png. No timed assertion: waits are playwright's
 * waitForURL and expect.poll.
 *
 * Without chromium this suite FAILS (test/helpers/browser.ts); it never skips.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as client from 'openid-client'
import { Secret, TOTP } from 'otpauth'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureKeys } from '../../src/keys/index.ts'
import { newContext } from '../helpers/browser.ts'
import { CONSOLE_PASSWORD } from '../helpers/console.ts'
import { useConsoleBrowserApp } from '../helpers/console-browser.ts'
import { PROCESS_TEST_TIMEOUT } from '../helpers/timeouts.ts'

const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/console/', import.meta.url))

const MEMBER_PASSWORD = 'member password for the journey'
const MINNIT_CALLBACK = 'https://organizations.minnit.chat/sso/callback'

/** The relying party's callback: a server of this test, so the member's browser lands somewhere real. */
let rp: http.Server
let callback: string
let keysDir: string
let seed: string
// The server's clock (console sessions, TOTP): the code below is computed at this instant.
const clock = Date.now()

const app = useConsoleBrowserApp(async () => {
  // Keys in a KEYS_DIR, as main.ts loads them, so the Keys page may rotate them.
  keysDir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-journey-keys-'))
  const { keys } = await ensureKeys(keysDir, { commonName: '127.0.0.1' })
  return {
    now: () => clock,
    keys: { material: keys, dir: keysDir },
    outputDir: OUTPUT_DIR,
  }
})

beforeAll(async () => {
  rp = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>Relying party</title><p>Back at the relying party.</p>')
  })
  await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', () => resolve()))
  callback = `http://127.0.0.1:${(rp.address() as AddressInfo).port}/callback`
  seed = new URL(
    (await app.t.services.operators.setupTotp('root', 'Test Site', 'test')).uri,
  ).searchParams.get('secret')!
  await app.t.services.accounts.put('1001', {
    username: 'rob',
    email: 'rob@example.com',
    nickname: 'Robbie',
    given_name: 'Robert',
    family_name: 'Jones',
    password: MEMBER_PASSWORD,
  })
}, PROCESS_TEST_TIMEOUT)

afterAll(async () => {
  rp?.closeAllConnections()
  await new Promise((resolve) => rp?.close(resolve))
  if (keysDir) rmSync(keysDir, { recursive: true, force: true })
})

/** The value beside a key path in the page's key-path table (as console-testmap.test.ts reads it). */
const pathValue = (page: Page, keyPath: string) =>
  page
    .locator('table[data-paths] tr', { has: page.locator('th code', { hasText: keyPath }) })
    .locator('td')
    .textContent()

const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText())

describe('the operator console, end to end in chromium', () => {
  it(
    'TOTP sign-in, Minnit OAuth2 from the catalogue, copy, Test, mapping, a real member sign-in, Activity, key rotation',
    async () => {
      const context = await newContext(app.browser)
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.issuer })
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`)
      })
      page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`))
      const shot = (name: string) =>
        page.screenshot({ path: `${OUTPUT_DIR}journey-${name}.png`, fullPage: true })

      // 1. Sign in: password, then the TOTP code of the server's clock.
      await page.goto(`${app.issuer}/console`)
      await page.waitForURL(`${app.issuer}/console/login`)
      await page.getByLabel('Operator name').fill('root')
      await page.getByLabel('Password').fill(CONSOLE_PASSWORD)
      await shot('login')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(`${app.issuer}/console/totp`)
      const code = TOTP.generate({
        secret: Secret.fromBase32(seed),
        timestamp: clock,
        period: 30,
        digits: 6,
      })
      await page.getByLabel('Authentication code').fill(code)
      await shot('totp')
      await page.getByRole('button', { name: 'Verify' }).click()
      await page.waitForURL(`${app.issuer}/console`)
      expect(await page.locator('#operator').textContent()).toBe('root')

      // 2. Add Minnit OAuth2 from the catalogue. Its redirect URIs: Minnit's (so the console
      // recognizes the integration as Minnit's) and this test's callback (so a member's sign-in
      // through it can complete here).
      await page.getByRole('link', { name: 'Integrations' }).click()
      await page.waitForURL(`${app.issuer}/console/integrations`)
      await page.getByRole('link', { name: 'Add an integration' }).click()
      await page.waitForURL(`${app.issuer}/console/integrations/new`)
      await shot('catalogue')
      await page.getByRole('link', { name: 'Minnit — OAuth2' }).click()
      await page.waitForURL(`${app.issuer}/console/integrations/new?entry=minnit-oauth2`)
      await page.getByLabel('Integration id').fill('minnit')
      await page.getByLabel('Authorized Redirect URI').fill(`${MINNIT_CALLBACK}\n${callback}`)
      expect(await page.getByLabel('Skip the consent page').isChecked()).toBe(true)
      await shot('add-minnit')
      await page.getByRole('button', { name: 'Add integration' }).click()

      // 3. Connection: Minnit's steps; the authorize URL and the secret (shown once) copied.
      await page.waitForURL(/\/console\/integrations\/minnit\/connection\?done=created&shown=/)
      expect(await page.locator('ol.steps > li').first().textContent()).toBe(
        'In Minnit, Organization Settings → SSO → Add provider → OAuth2.',
      )
      await shot('connection')
      await page
        .locator('li', { hasText: 'Authorize URL' })
        .getByRole('button', { name: 'Copy Authorize URL' })
        .click()
      await expect.poll(() => clipboard(page)).toBe(`${app.issuer}/auth`)
      const authorizeUrl = await clipboard(page)
      await page.getByRole('button', { name: 'Copy Client Secret' }).click()
      await expect.poll(() => clipboard(page)).not.toBe(authorizeUrl)
      const clientSecret = await clipboard(page)
      expect(clientSecret.length).toBeGreaterThanOrEqual(32)
      // Shown once: reloaded, the page no longer holds it.
      await page.reload()
      expect(await page.content()).not.toContain(clientSecret)

      // 4. Test for a member: the user-info document Minnit would read, names.nicknames.0 in it.
      await page.getByRole('link', { name: 'Test', exact: true }).click()
      await page.waitForURL(`${app.issuer}/console/integrations/minnit/test`)
      await page.getByLabel('Member').fill('rob')
      await page.getByRole('button', { name: 'Show' }).click()
      await page.waitForURL(/\/test\?member=rob$/)
      expect(await pathValue(page, 'names.nicknames.0')).toBe('"Robbie"')
      await shot('test')

      // 5. The mapping editor: edit names.nicknames.0, Preview changes it (not saved), Save.
      await page.getByRole('link', { name: 'Edit the mapping' }).click()
      await page.waitForURL(/\/mapping\?member=rob$/)
      const editor = page.getByLabel('Mapping', { exact: false }).first()
      const stored = JSON.parse(await editor.inputValue()) as Record<string, unknown>
      expect(stored['names.nicknames.0']).toBe('nickname')
      const edited = {
        ...stored,
        'names.nicknames.0': { path: 'nickname', transforms: ['upper'] },
      }
      await editor.fill(JSON.stringify(edited, null, 2))
      await page.getByRole('button', { name: 'Preview' }).click()
      await page.waitForURL(/\/mapping\/preview$/)
      expect(await pathValue(page, 'names.nicknames.0')).toBe('"ROBBIE"')
      expect((await app.t.services.integrations.get('minnit')).mapping).toEqual(stored)
      await shot('mapping-preview')
      await page.getByRole('button', { name: 'Save' }).click()
      await page.waitForURL(/\/mapping\?saved=1&member=rob$/)
      expect(await page.getByRole('status').textContent()).toBe('Mapping saved.')
      expect(await pathValue(page, 'names.nicknames.0')).toBe('"ROBBIE"')
      await shot('mapping-saved')

      // 6. The member signs in for real through that integration: openid-client with the copied
      // authorize URL's issuer and the secret the console showed once; chromium for the member.
      const config = await client.discovery(
        new URL(app.issuer),
        'minnit',
        { client_secret: clientSecret },
        client.ClientSecretBasic(clientSecret),
        { execute: [client.allowInsecureRequests] },
      )
      expect(config.serverMetadata().authorization_endpoint).toBe(authorizeUrl)
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: callback,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      })
      const member = await newContext(app.browser)
      const mp = await member.newPage()
      await mp.goto(url.href)
      await mp.getByLabel('Username or email').fill('rob')
      await mp.getByLabel('Password').fill(MEMBER_PASSWORD)
      const [signInResponse] = await Promise.all([
        mp.waitForResponse((r) => r.request().method() === 'POST' && /\/login$/.test(r.url())),
        mp.getByRole('button', { name: 'Sign in' }).click(),
      ])
      const requestId = (await signInResponse.allHeaders())['x-request-id']
      expect(requestId).toBeTruthy()
      // First party (the preset's "Skip the consent page"): straight back to the callback.
      await mp.waitForURL((u) => u.href.startsWith(callback))
      const tokens = await client.authorizationCodeGrant(config, new URL(mp.url()), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      })
      const sub = tokens.claims()!.sub
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub)
      // The mapping saved in step 5 is the one the platform receives.
      expect(userinfo).toMatchObject({ username: 'rob', names: { nicknames: ['ROBBIE'] } })
      await member.close()

      // 7. Activity, filtered on the member: the sign-in through minnit, with its request id.
      await page
        .getByRole('navigation', { name: 'Console' })
        .getByRole('link', { name: 'Activity' })
        .click()
      await page.waitForURL(`${app.issuer}/console/activity`)
      await page.getByLabel('Member').fill('rob')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.waitForURL((u) => u.searchParams.get('member') === 'rob')
      const rows = page.locator('#events tbody tr')
      const signIn = rows.filter({ hasText: 'Sign-in' }).filter({ hasText: requestId! })
      await expect.poll(() => signIn.count()).toBe(1)
      expect(await signIn.getByRole('link', { name: 'minnit' }).getAttribute('href')).toBe(
        '/console/integrations/minnit',
      )
      expect(await signIn.getByRole('link', { name: 'rob' }).getAttribute('href')).toBe(
        '/console/members/1001',
      )
      await shot('activity')

      // 8. Keys: rotate (the confirmation ticked), and the new key is listed beside the current.
      await page
        .getByRole('navigation', { name: 'Console' })
        .getByRole('link', { name: 'Keys' })
        .click()
      await page.waitForURL(`${app.issuer}/console/keys`)
      const kidsBefore = await page
        .locator('#oidc-keys tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kid')))
      expect(kidsBefore.length).toBeGreaterThan(0)
      // The confirmation is required: unticked, the form would not be sent.
      const confirm = page.getByLabel('I have read this: rotate the signing keys')
      expect(await confirm.evaluate((el) => (el as HTMLInputElement).validity.valueMissing)).toBe(
        true,
      )
      await confirm.check()
      await shot('keys-before')
      await page.getByRole('button', { name: 'Rotate signing keys' }).click()
      await page.waitForURL(`${app.issuer}/console/keys?notice=keys_rotated`)
      const next = page.locator('#oidc-keys tbody tr', { hasText: 'next: signs after restart' })
      await expect.poll(() => next.count()).toBeGreaterThan(0)
      for (const kid of await next.evaluateAll((trs) =>
        trs.map((tr) => tr.getAttribute('data-kid')),
      ))
        expect(kidsBefore).not.toContain(kid)
      // The keys it loaded still sign until a restart.
      const signing = page.locator('#oidc-keys tbody tr', { hasText: 'signing' }).filter({
        hasNotText: 'next:',
      })
      expect(
        await signing.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kid'))),
      ).toEqual(kidsBefore)
      await shot('keys-rotated')
      const audit = await app.t.services.store.listOperatorAudit(100)
      expect(audit).toContainEqual(
        expect.objectContaining({ actor: 'operator:root', action: 'keys_rotated' }),
      )

      expect(problems).toEqual([])
      await context.close()
    },
    PROCESS_TEST_TIMEOUT,
  )
})
