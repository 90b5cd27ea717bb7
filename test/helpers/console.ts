/**
 * An operator signed in to the console of a test app, over HTTP (supertest's agent keeps the
 * console and CSRF cookies), for the console page suites (test/console/*). The operator is made
 * with the operator service, as `npx sso-bridge operators add` makes one; no TOTP unless asked.
 */
import type { Page } from 'playwright-core'
import request from 'supertest'
import { expect } from 'vitest'
import type { TestApp } from './app.ts'

/** The password every console helper operator has. */
export const CONSOLE_PASSWORD = 'console operator password'

/** A signed-in console: the agent, and the CSRF token of its forms. */
export interface ConsoleAgent {
  agent: ReturnType<typeof request.agent>
  /** The CSRF token the console's forms carry now (read from a page, as a browser would). */
  csrf(): Promise<string>
  /** POSTs a form (urlencoded) with its CSRF token. */
  post(path: string, form: Record<string, string>): Promise<request.Response>
}

/** The value of the first `name="csrf"` field of an HTML page. */
export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html)
  if (!match) throw new Error('no CSRF field on the page')
  return match[1]!
}

/**
 * Adds operator `name` (unless it exists) and signs it in through /console/login.
 * @example const c = await consoleAgent(t); await c.post('/console/members/x/disable', {})
 */
export async function consoleAgent(t: TestApp, name = 'operator'): Promise<ConsoleAgent> {
  if (!(await t.services.operators.list()).some((o) => o.name === name))
    await t.services.operators.add(name, CONSOLE_PASSWORD, 'test')
  const agent = request.agent(t.app)
  const form = await agent.get('/console/login').expect(200)
  const signedIn = await agent
    .post('/console/login')
    .type('form')
    .send({ csrf: csrfOf(form.text), name, password: CONSOLE_PASSWORD })
  expect(signedIn.status, signedIn.text).toBe(303)
  expect(signedIn.headers.location).toBe('/console')
  const csrf = async () => csrfOf((await agent.get('/console').expect(200)).text)
  return {
    agent,
    csrf,
    post: async (path, fields) =>
      agent
        .post(path)
        .type('form')
        .send({ csrf: await csrf(), ...fields }),
  }
}

/**
 * Signs operator `name` in through the console's sign-in form in a real browser page (password
 * only: an operator without TOTP), as an operator would, and waits for the landing page.
 */
export async function signInToConsole(page: Page, issuer: string, name = 'root'): Promise<void> {
  await page.goto(`${issuer}/console/login`)
  await page.getByLabel('Operator name').fill(name)
  await page.getByLabel('Password').fill(CONSOLE_PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${issuer}/console`)
}
