/**
 * @module http/admin/users
 * Admin API for accounts: PUT/GET/DELETE /users/{external_id}, GET /users (cursor paging; `q`
 * and `by` search by the start of the username, email or external id),
 * DELETE /users/{external_id}/lockout (clears its failed sign-ins), DELETE
 * /users/{external_id}/sessions (signs the member out everywhere),
 * POST /users/import (JSON array, NDJSON or CSV by Content-Type, streamed).
 */
import { Router } from 'express'
import { jsonBody } from '../../web/json-body.ts'
import { Transform } from 'node:stream'
import { readImport, formatFromContentType } from '../../accounts/import-formats.ts'
import { replyFor, ValidationFailed } from '../../errors/index.ts'
import { unlockAccount } from '../../login/throttle.ts'
import type { Services } from '../../services.ts'
import { payloadTooLarge, unsupportedMediaType } from '../../web/errors.ts'

/**
 * The admin API's accounts (`/users`: list, import, put, get, delete, and the lockout and
 * sessions sub-resources), over the account service. Mount it behind {@link requireAdmin}.
 * @param limits MAX_BODY_BYTES for one account, IMPORT_MAX_BYTES for an import
 */
export function usersRouter(
  services: Services,
  limits: { maxBodyBytes: number; importMaxBytes: number },
): Router {
  const router = Router()
  const { accounts } = services
  const body = jsonBody(limits.maxBodyBytes)

  router.get('/users', async (req, res) => {
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit)
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : null
    const { q, by } = req.query
    if (q === undefined && by !== undefined)
      throw new ValidationFailed([{ path: 'by', message: 'needs q' }])
    if ((q !== undefined && typeof q !== 'string') || (by !== undefined && typeof by !== 'string'))
      throw new ValidationFailed([{ path: 'q', message: 'give q and by once each' }])
    // With `q`: the members whose username, email or external id starts with it (the console's
    // search, accounts/service.ts), else everyone in creation order.
    const page =
      q === undefined
        ? await accounts.list({ cursor, limit })
        : await accounts.search({ query: q, ...(by ? { by } : {}), cursor, limit })
    res.json({ items: page.items, next_cursor: page.next })
  })

  router.post('/users/import', async (req, res) => {
    const format = formatFromContentType(req.get('content-type'))
    if (!format)
      throw unsupportedMediaType('application/json (array), application/x-ndjson or text/csv')
    const atomic = parseBoolean(req.query.atomic, 'atomic')
    const declared = Number(req.get('content-length'))
    if (declared > limits.importMaxBytes) throw payloadTooLarge(limits.importMaxBytes)
    const report = await accounts.import(
      readImport(req.pipe(byteLimit(limits.importMaxBytes)), format),
      { atomic, actor: 'import' },
    )
    if (atomic && !report.committed) {
      const { status, error } = replyFor('ERR_IMPORT_REJECTED')
      res.status(status).json({
        error,
        message: 'atomic import rolled back: some records were rejected',
        ...report,
      })
      return
    }
    res.json(report)
  })

  router.put('/users/:external_id', body, async (req, res) => {
    const { account, created } = await accounts.put(req.params.external_id, req.body, 'admin-api')
    res.status(created ? 201 : 200).json(account)
  })

  router.get('/users/:external_id', async (req, res) => {
    res.json(await accounts.get(req.params.external_id))
  })

  // An operator's unlock of a member locked out by failed sign-ins (login/throttle.ts).
  router.delete('/users/:external_id/lockout', async (req, res) => {
    res.json(await unlockAccount(services, req.params.external_id))
  })

  // "Sign out everywhere": the one sign-out (login/sign-out.ts) for every session of the member,
  // in every browser; the doors tell their relying parties (OIDC back-channel logout).
  router.delete('/users/:external_id/sessions', async (req, res) => {
    const account = await accounts.get(req.params.external_id)
    const { ended } = await services.signOut.signOut({ account, reason: 'admin' })
    res.json({ external_id: account.external_id, sessions_ended: ended })
  })

  router.delete('/users/:external_id', async (req, res) => {
    await accounts.remove(req.params.external_id)
    res.status(204).end()
  })

  return router
}

/**
 * A boolean query parameter: absent, `false` or `0` is false; empty, `true` or `1` is true.
 * @throws {ValidationFailed} for anything else, naming the parameter
 */
function parseBoolean(value: unknown, name: string): boolean {
  if (value === undefined || value === 'false' || value === '0') return false
  if (value === '' || value === 'true' || value === '1') return true
  throw new ValidationFailed([{ path: name, message: 'must be true or false' }])
}

/** Passes bytes through until `limit`, then fails the stream with 413. */
function byteLimit(limit: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length
      if (seen > limit) return done(payloadTooLarge(limit))
      done(null, chunk)
    },
  })
}
