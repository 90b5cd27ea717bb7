/**
 * @module console/routes/pages/integration-common
 * What the integration pages share: finding an integration with its catalogue entry, the door
 * a type belongs to, the notices a redirect after a change shows, the form body parser.
 */
import { urlencoded, type Request } from 'express'
import { entryOf, type CatalogueEntry } from '../../../integrations/catalogue.ts'
import type { IntegrationView } from '../../../integrations/registry.ts'
import { IntegrationNotFound } from '../../../errors/index.ts'
import type { Services } from '../../../services.ts'
import { escapeHtml } from '../../../web/views.ts'

/** The integration forms' body: urlencoded, flat names; room for PEM certificates. */
export const integrationForm = urlencoded({ extended: false, limit: '64kb' })

/** An integration as the pages show it: its view (no secret values) and its catalogue entry. */
export interface ShownIntegration {
  view: IntegrationView
  entry: CatalogueEntry
}

/**
 * Integration `id` with the catalogue entry it is shown by.
 * @throws {IntegrationNotFound}
 */
export async function findIntegration(services: Services, id: string): Promise<ShownIntegration> {
  const view = await services.integrations.get(id)
  const type = services.integrations.types().find((t) => t.type === view.type)
  if (!type) throw new IntegrationNotFound(id)
  return { view, entry: entryOf(type, view.settings) }
}

/** The door an integration type is served by, for the list. */
export function doorOf(type: string): string {
  if (type === 'oidc') return 'OAuth2 / OpenID Connect'
  if (type === 'saml') return 'SAML 2.0'
  return 'Platform token'
}

/** What a redirect after a change says (`?done=`): fixed texts, nothing from the request. */
const NOTICES: Record<string, string> = {
  created: 'Integration added.',
  saved: 'Changes saved.',
  deleted: 'Integration deleted.',
  regenerated: 'A new secret was generated: the old one no longer works.',
}

/** The notice for `?done=`, as HTML (empty when there is none). */
export function noticeOf(req: Request): string {
  const done = typeof req.query.done === 'string' ? NOTICES[req.query.done] : undefined
  return done ? `<p class="notice" role="status">${escapeHtml(done)}</p>` : ''
}
