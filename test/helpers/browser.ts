/**
 * Debian's chromium through playwright-core, as test/browser/login.test.ts drives it: headless,
 * no sandbox (root in CI), nothing downloaded. Without /usr/bin/chromium a suite fails with
 * {@link CHROMIUM_MISSING}; it never skips.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
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

/** A page's main-frame navigations so far, one line each: `GET <url> → 302`, redirects included. */
export interface NavigationTrail {
  readonly lines: readonly string[]
}

/** A URL as a trail line shows it: a SAMLRequest or return_to makes some very long. */
const shortUrl = (url: string) => (url.length > 200 ? `${url.slice(0, 200)}…` : url)

/**
 * Starts recording `page`'s main-frame navigations: each answer with its method and status
 * (every redirect of a chain is a line of its own) and each request that failed. Pass it to
 * {@link waitForUrl}, whose failure then says where the browser stopped and how it got there.
 */
export function recordNavigations(page: Page): NavigationTrail {
  const lines: string[] = []
  const main = (r: { isNavigationRequest(): boolean; frame(): unknown }) =>
    r.isNavigationRequest() && r.frame() === page.mainFrame()
  page.on('response', (res) => {
    if (main(res.request()))
      lines.push(`${res.request().method()} ${shortUrl(res.url())} → ${res.status()}`)
  })
  page.on('requestfailed', (req) => {
    if (main(req))
      lines.push(`${req.method()} ${shortUrl(req.url())} failed: ${req.failure()?.errorText}`)
  })
  return { lines }
}

/**
 * `page.waitForURL(url)`; when it fails (a hang: WAIT_TIMEOUT), the error names the page the
 * browser stopped on, every navigation `trail` recorded and the start of that page's text (a
 * login form's error, a refusal's code), so a rare failure in a full run says where it stopped.
 */
export async function waitForUrl(
  page: Page,
  url: string | RegExp | ((url: URL) => boolean),
  trail: NavigationTrail,
): Promise<void> {
  try {
    await page.waitForURL(url)
  } catch (err) {
    const text = await page
      .locator('body')
      .innerText({ timeout: 5000 })
      .catch(() => '(no text)')
    throw new Error(
      [
        `${(err as Error).message.split('\n')[0]}`,
        `The browser stopped at ${shortUrl(page.url())}. Its navigations, in order:`,
        ...trail.lines.map((l) => `  ${l}`),
        `The page says: ${text.replace(/\s+/g, ' ').slice(0, 600)}`,
      ].join('\n'),
      { cause: err },
    )
  }
}
