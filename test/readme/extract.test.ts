/**
 * The examples' extractor (test/helpers/readme.ts) finds a section wherever the documentation
 * keeps it, so the tests that run the examples follow a section that moves from the README to a
 * page under docs/.
 */
import { describe, expect, it } from 'vitest'
import { docPage, docSection, shBlocks } from '../helpers/readme.ts'

describe('docSection', () => {
  it("finds a README section, a page by its title, and a page's section", () => {
    expect(docSection('Configuration')).toMatch(/^\n## Configuration\n/)
    expect(docSection('Configuration')).not.toContain('\n## Where to read on')
    expect(docSection('Admin API')).toBe(docPage('admin-api'))
    const throttling = docSection('Sign-in throttling')
    expect(throttling).toMatch(/^\n## Sign-in throttling\n/)
    expect(docPage('security')).toContain(throttling)
    expect(throttling).not.toContain('\n## SAML messages')
    expect(shBlocks(docSection('Command line'))).toHaveLength(1)
  })

  it('says so when no page has the section', () => {
    expect(() => docSection('No such section')).toThrow(/No such section/)
  })
})
