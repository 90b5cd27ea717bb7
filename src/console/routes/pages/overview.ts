/**
 * @module console/routes/pages/overview
 * `GET /console`: the console's landing page.
 */
import { Router } from 'express'
import { noStore } from '../../../web/no-store.ts'
import { raw, render } from '../../../web/views.ts'
import { CONSOLE_ROUTES } from '../../paths.ts'
import { consoleLocals, sendPage, type ConsolePage } from '../page.ts'

/** The overview: who is signed in, and where to go. */
export const overviewPage: ConsolePage = {
  nav: { label: 'Overview', path: CONSOLE_ROUTES.home, order: 0 },
  routes({ site }) {
    const router = Router()
    router.get(CONSOLE_ROUTES.home, noStore, (req, res) => {
      sendPage(req, res, site, {
        title: 'Overview',
        body: raw(render('console-home', { name: consoleLocals(res).operator.name })),
      })
    })
    return router
  },
}
