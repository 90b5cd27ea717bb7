/**
 * @module console/routes/pages
 * Every console page, one file each. A page part adds its file and one line here; the nav is
 * built from this list, so it only ever links to pages that exist.
 */
import type { ConsolePage } from '../page.ts'
import { integrationTestPage } from './integration-test.ts'
import { mappingPage } from './mapping.ts'
import { keysPage } from './keys.ts'
import { memberPage } from './member.ts'
import { membersPage } from './members.ts'
import { overviewPage } from './overview.ts'

/** The console's pages, in no particular order (the nav sorts by `nav.order`). */
export const CONSOLE_PAGES: readonly ConsolePage[] = [
  overviewPage,
  integrationTestPage,
  mappingPage,
  membersPage,
  memberPage,
  keysPage,
]
