/**
 * A small local Dead Simple Chat that follows the documented Create User contract and nothing
 * more (../shared/platforms/deadsimplechat-sso-auth-token.txt, step 2, and the Create User
 * reference it links to) — the only stand-in the token tests use:
 *
 *   POST /consumer/api/v1/user?auth=<API Private Key>   Content-Type: application/json
 *   { "username": "James", "isModerator"?: bool, "externalUserId"?: …, "chatRoom"?: … }
 *   200 { "accessToken": "…", "username": "James", "userId": "612003657570603850344a54" }
 *
 * A wrong private key gets 401; anything else 404. Each call is recorded. `failNext` makes the
 * next call answer a 500; `rejectToken` marks an issued accessToken as one the chat refuses.
 * `hold` keeps answers back until released (a slow API, to make callers overlap for certain);
 * `waitForCalls(n)` resolves once n calls have arrived.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'

export interface CreateUserCall {
  auth: string | null
  contentType: string | undefined
  body: Record<string, unknown>
}

export interface DscServer {
  url: string
  calls: CreateUserCall[]
  /** Tokens the chat accepts (issued and not rejected). */
  valid: Set<string>
  failNext: (status: number) => void
  /** Holds every answer from now on until the returned function is called. */
  hold: () => () => void
  /** Resolves once `n` Create User calls have arrived (held or not). */
  waitForCalls: (n: number) => Promise<void>
  close: () => Promise<void>
}

export async function startDscServer(privateKey: string): Promise<DscServer> {
  const calls: CreateUserCall[] = []
  const valid = new Set<string>()
  let failure: number | null = null
  let n = 0
  let gate: Promise<void> | null = null
  const waiters: { n: number; resolve: () => void }[] = []
  const arrived = () => {
    for (const w of waiters.splice(0)) {
      if (calls.length >= w.n) w.resolve()
      else waiters.push(w)
    }
  }
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dsc.local')
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (text += c))
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      if (req.method !== 'POST' || url.pathname !== '/consumer/api/v1/user')
        return send(404, { message: 'not found' })
      let body: Record<string, unknown>
      try {
        body = JSON.parse(text) as Record<string, unknown>
      } catch {
        return send(400, { message: 'invalid JSON' })
      }
      calls.push({
        auth: url.searchParams.get('auth'),
        contentType: req.headers['content-type'],
        body,
      })
      arrived()
      void (gate ?? Promise.resolve()).then(() => answer(body))
    })
    const answer = (body: Record<string, unknown>) => {
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(payload))
      }
      if (failure !== null) {
        const status = failure
        failure = null
        return send(status, { message: 'internal error' })
      }
      if (url.searchParams.get('auth') !== privateKey)
        return send(401, { message: 'invalid auth key' })
      if (typeof body.username !== 'string' || body.username === '')
        return send(400, { message: 'username is required' })
      n++
      const accessToken = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.dsc-${n}.${randomBytes(12).toString('base64url')}`
      valid.add(accessToken)
      send(200, {
        accessToken,
        username: body.username,
        userId: randomBytes(12).toString('hex'),
        ...(body.isModerator === true ? { isModerator: true } : {}),
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    valid,
    failNext: (status) => {
      failure = status
    },
    hold: () => {
      let release!: () => void
      gate = new Promise<void>((resolve) => (release = resolve))
      return () => {
        gate = null
        release()
      }
    },
    waitForCalls: (count) =>
      new Promise<void>((resolve) => {
        waiters.push({ n: count, resolve })
        arrived()
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
