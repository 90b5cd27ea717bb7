/**
 * @module http/admin/dry-run
 * `POST /integrations/{id}/dry-run` `{"external_id" | "id" | "username"}`: the dry-run inspector
 * (tokens/service.ts `dryRun`) — for one member, the exact payload, the exact string signed or
 * encrypted, the signature or ciphertext, and the snippet to paste, so an operator can see why
 * a platform refuses a token. Never the key. Admin only (mounted behind the admin token).
 */
import { Router } from 'express'
import { ValidationFailed } from '../../errors/index.ts'
import type { Services } from '../../services.ts'
import { jsonBody } from '../../web/json-body.ts'

/** The dry-run route of the admin API, over the token service. */
export function dryRunRouter(
  services: Pick<Services, 'tokens'>,
  limits: { maxBodyBytes: number },
): Router {
  const router = Router()
  router.post('/integrations/:id/dry-run', jsonBody(limits.maxBodyBytes), async (req, res) => {
    const b: unknown = req.body
    if (b === null || typeof b !== 'object' || Array.isArray(b))
      throw new ValidationFailed([{ path: '', message: 'must be a JSON object' }])
    res.json(await services.tokens.dryRun(String(req.params.id), b))
  })
  return router
}
