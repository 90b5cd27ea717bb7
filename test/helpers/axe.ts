/**
 * axe-core in a real page (the console's accessibility checks, test/browser/console-*.test.ts):
 * its rules as shipped (WCAG 2.x A/AA and best practices). The script is evaluated over the
 * DevTools protocol, which the page's CSP does not govern, so the page is checked with its CSP
 * intact.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
)

/** The axe violations of the page as it is now, one line each: rule (impact): targets. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE)
  return page.evaluate(async () => {
    interface AxeResult {
      violations: { id: string; impact: string; nodes: { target: string[] }[] }[]
    }
    const axe = (globalThis as unknown as { axe: { run(): Promise<AxeResult> } }).axe
    return (await axe.run()).violations.map(
      (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    )
  })
}
