/**
 * @module console/routes/pages
 * Every console page, one file each. A page part adds its file and one line here; the nav is
 * built from this list, so it only ever links to pages that exist.
 */
import type { ConsolePage } from '../page.ts'
import { activityPage } from './activity.ts'
import { auditPage } from './audit.ts'
import { integrationConnectionPage } from './integration-connection.ts'
import { integrationEditPage } from './integration-edit.ts'
import { integrationNewPage } from './integration-new.ts'
import { integrationTestPage } from './integration-test.ts'
import { integrationsPage } from './integrations.ts'
import { mappingPage } from './mapping.ts'
import { keysPage } from './keys.ts'
import { memberPage } from './member.ts'
import { membersPage } from './members.ts'
import { overviewPage } from './overview.ts'

/**
 * The console's pages (the nav sorts by `nav.order`); their routes are mounted in this order, so
 * the catalogue comes before the integration page (`/console/integrations/new` is not an id).
 */
export const CONSOLE_PAGES: readonly ConsolePage[] = [
  overviewPage,
  integrationsPage,
  integrationNewPage,
  integrationEditPage,
  integrationConnectionPage,
  integrationTestPage,
  mappingPage,
  membersPage,
  memberPage,
  keysPage,
  activityPage,
  auditPage,
]
