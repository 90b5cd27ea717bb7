/**
 * @module http/admin/integrations
 * Admin API for the integrations registry: PUT/GET/DELETE /integrations/{id}, GET /integrations.
 * Reads never carry secret values. POST /integrations/{id}/preview shows the document the
 * integration would send for one account.
 */
import { Router } from 'express'
import { jsonBody } from '../../web/json-body.ts'
import { connectionSheet } from '../../connection/sheet.ts'
import type { KeyMaterial } from '../../keys/index.ts'
import { previewIntegration } from '../../integrations/preview.ts'
import type { Services } from '../../services.ts'

/** Who the configuration audit log names for a change made with the admin token. */
const ADMIN_API = { actor: 'admin-api' }

/**
 * The admin API's integrations (`/integrations`: list, put, get, delete, preview, connection
 * sheet), over the integration registry. Mount it behind {@link requireAdmin}.
 * @param limits MAX_BODY_BYTES, and ISSUER and the keys the connection sheet shows
 */
export function integrationsRouter(
  services: Services,
  limits: { maxBodyBytes: number; issuer: string; keys?: KeyMaterial },
): Router {
  const router = Router()
  const { integrations } = services
  const body = jsonBody(limits.maxBodyBytes)

  router.get('/integrations', async (_req, res) => {
    res.json({ items: await integrations.list() })
  })

  router.put('/integrations/:id', body, async (req, res) => {
    const { integration, created } = await integrations.put(req.params.id, req.body, ADMIN_API)
    res.status(created ? 201 : 200).json(integration)
  })

  router.get('/integrations/:id', async (req, res) => {
    res.json(await integrations.get(req.params.id))
  })

  router.post('/integrations/:id/preview', body, async (req, res) => {
    res.json(
      await previewIntegration(
        services,
        req.params.id,
        (req.body as { external_id?: unknown } | null)?.external_id,
      ),
    )
  })

  router.get('/integrations/:id/connection', async (req, res) => {
    res.json(await connectionSheet(integrations, req.params.id, limits.issuer, limits.keys))
  })

  router.delete('/integrations/:id', async (req, res) => {
    await integrations.remove(req.params.id, ADMIN_API)
    res.status(204).end()
  })

  return router
}
