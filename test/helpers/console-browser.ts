/**
 * What every console browser suite (test/browser/console*.test.ts) starts with: the test app on
 * a real port (startOidcServer: the port first, then the app built on it, since the issuer must
 * be the URL the browser uses), operator `root` with {@link CONSOLE_PASSWORD} (no TOTP unless
 * the suite sets it up), Debian's chromium, and the folder its screenshots go to.
 */
import { mkdirSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import type { TestApp, TestAppOptions } from './app.ts'
import { launchChromium } from './browser.ts'
import { CONSOLE_PASSWORD } from './console.ts'
import { startOidcServer } from './oidc.ts'
import { PROCESS_TEST_TIMEOUT } from './timeouts.ts'

/** What {@link startConsoleBrowserApp} takes: the test app's options and the screenshots' folder. */
export type ConsoleBrowserAppOptions = Omit<TestAppOptions, 'issuer'> & { outputDir?: string }

/** A console suite's app, issuer and browser; `close` stops all three. */
export interface ConsoleBrowserApp {
  t: TestApp
  /** The app's real URL, e.g. http://127.0.0.1:41234. */
  issuer: string
  browser: Browser
  close: () => Promise<void>
}

/**
 * Starts the app (with `options`, e.g. an injected clock or keys in a KEYS_DIR), adds operator
 * `root`, launches chromium and makes `outputDir` (the suite's screenshots) if given.
 * A suite calls {@link useConsoleBrowserApp}, which starts and stops it in the suite's hooks.
 */
export async function startConsoleBrowserApp(
  options: ConsoleBrowserAppOptions = {},
): Promise<ConsoleBrowserApp> {
  const { outputDir, ...appOptions } = options
  const server = await startOidcServer(appOptions)
  try {
    await server.t.services.operators.add('root', CONSOLE_PASSWORD, 'test')
    if (outputDir) mkdirSync(outputDir, { recursive: true })
    const browser = await launchChromium()
    return {
      t: server.t,
      issuer: server.issuer,
      browser,
      close: async () => {
        await browser.close()
        await server.close()
      },
    }
  } catch (err) {
    await server.close()
    throw err
  }
}

/**
 * A suite's console app, started in a `beforeAll` (PROCESS_TEST_TIMEOUT) registered now, so it
 * runs before the suite's own, and stopped in an `afterAll`. Read `t`, `issuer` and `browser` in
 * hooks and tests (before the start they throw). `options` may be a function, called in that
 * hook, for options made first (keys in a KEYS_DIR).
 * @example
 * const app = useConsoleBrowserApp({ outputDir: OUTPUT_DIR })
 * it('…', async () => { const page = await (await newContext(app.browser)).newPage() })
 */
export function useConsoleBrowserApp(
  options: ConsoleBrowserAppOptions | (() => Promise<ConsoleBrowserAppOptions>) = {},
): ConsoleBrowserApp {
  let started: ConsoleBrowserApp | undefined
  beforeAll(async () => {
    started = await startConsoleBrowserApp(
      typeof options === 'function' ? await options() : options,
    )
  }, PROCESS_TEST_TIMEOUT)
  afterAll(() => started?.close())
  const app = () => {
    if (!started) throw new Error('the console app did not start (see the first failure)')
    return started
  }
  return {
    get t() {
      return app().t
    },
    get issuer() {
      return app().issuer
    },
    get browser() {
      return app().browser
    },
    close: () => app().close(),
  }
}
