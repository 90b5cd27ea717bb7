/**
 * Debian's chromium through playwright-core, as test/browser/login.test.ts drives it: headless,
 * no sandbox (root in CI), nothing downloaded. Without /usr/bin/chromium a suite fails with
 * {@link CHROMIUM_MISSING}; it never skips.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import { WAIT_TIMEOUT } from './timeouts.ts'

/** Debian's chromium (a browser download would fail here). */
export const CHROMIUM = '/usr/bin/chromium'
/** Why a browser suite fails (never skips) without it, and the command that fixes that. */
export const CHROMIUM_MISSING =
  `Debian's chromium is not installed (${CHROMIUM} is missing), so the real-browser tests cannot run. ` +
  'Install it: `apt-get install -y --no-install-recommends chromium` (npm test does this first: scripts/system-packages.sh). ' +
  'These tests never skip and never download a browser.'

/** Headless, no sandbox (root in CI), nothing fetched in the background. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--no-proxy-server',
]

/** Launches chromium, or throws {@link CHROMIUM_MISSING}. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING)
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

/** A fresh context (no cookies) whose waits only catch hangs (WAIT_TIMEOUT, not playwright's 30 s). */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({
    locale: 'en-GB',
    viewport: { width: 1024, height: 720 },
  })
  context.setDefaultTimeout(WAIT_TIMEOUT)
  return context
}
