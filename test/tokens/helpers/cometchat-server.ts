/**
 * A small local CometChat REST API v3 that follows the documented contract and nothing more
 * (cometchat.com/docs/rest-api/users/create, …/auth-tokens/create):
 *
 *   POST /v3/users                    header apikey   { "uid", "name", "avatar"?, …, "withAuthToken"? }
 *     200 { "data": { "uid", "name", …, "authToken"? } }   (uid lower-cased, as CometChat does)
 *     400 { "error": { "code": "ERR_UID_ALREADY_EXISTS", … } } for a uid it has
 *   POST /v3/users/{uid}/auth_tokens  header apikey   { "force"? }
 *     200 { "data": { "uid", "authToken", "createdAt" } }; 404 for an unknown uid
 *
 * A wrong apikey gets 401. Each call is recorded; `hold` keeps answers back until released (so
 * two callers overlap for certain); `waitForCalls(n)` resolves once n calls have arrived.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'

/** One call the stand-in received. */
export interface CometChatCall {
  path: string
  apikey: string | undefined
  body: Record<string, unknown>
}

/** The running stand-in. */
export interface CometChatServer {
  /** The REST API's base URL (`…/v3`), for settings.api_base_url. */
  url: string
  calls: CometChatCall[]
  /** Users by uid. */
  users: Map<string, Record<string, unknown>>
  /** Auth tokens it issued. */
  tokens: Set<string>
  hold: () => () => void
  waitForCalls: (n: number) => Promise<void>
  close: () => Promise<void>
}

/** Starts the stand-in on 127.0.0.1 (a free port), accepting `apiKey`. */
export async function startCometChatServer(apiKey: string): Promise<CometChatServer> {
  const calls: CometChatCall[] = []
  const users = new Map<string, Record<string, unknown>>()
  const tokens = new Set<string>()
  let gate: Promise<void> | null = null
  const waiters: { n: number; resolve: () => void }[] = []
  const newToken = (uid: string) => {
    const t = `${uid}_${Date.now()}${randomBytes(16).toString('hex')}`
    tokens.add(t)
    return t
  }
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://cometchat.local')
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (text += c))
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      let body: Record<string, unknown> = {}
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
      } catch {
        return send(400, { error: { code: 'ERR_BAD_JSON' } })
      }
      const apikey = req.headers.apikey as string | undefined
      calls.push({ path: url.pathname, apikey, body })
      for (const w of waiters.splice(0)) {
        if (calls.length >= w.n) w.resolve()
        else waiters.push(w)
      }
      void (gate ?? Promise.resolve()).then(() => {
        if (req.method !== 'POST') return send(405, { error: { code: 'ERR_METHOD' } })
        if (apikey !== apiKey) return send(401, { error: { code: 'ERR_APIKEY_NOT_FOUND' } })
        if (url.pathname === '/v3/users') {
          if (typeof body.uid !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(body.uid))
            return send(400, { error: { code: 'ERR_UID_INVALID' } })
          if (typeof body.name !== 'string' || body.name === '')
            return send(400, { error: { code: 'ERR_NAME_REQUIRED' } })
          const uid = body.uid.toLowerCase()
          if (users.has(uid)) return send(400, { error: { code: 'ERR_UID_ALREADY_EXISTS' } })
          const { withAuthToken, ...user } = body
          users.set(uid, { ...user, uid })
          return send(200, {
            data: { ...user, uid, ...(withAuthToken === true ? { authToken: newToken(uid) } : {}) },
          })
        }
        const m = /^\/v3\/users\/([^/]+)\/auth_tokens$/.exec(url.pathname)
        if (m) {
          const uid = decodeURIComponent(m[1]!)
          if (!users.has(uid)) return send(404, { error: { code: 'ERR_UID_NOT_FOUND' } })
          return send(200, { data: { uid, authToken: newToken(uid), createdAt: 1630306819 } })
        }
        send(404, { error: { code: 'ERR_NOT_FOUND' } })
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/v3`,
    calls,
    users,
    tokens,
    hold: () => {
      let release!: () => void
      gate = new Promise<void>((resolve) => (release = resolve))
      return () => {
        gate = null
        release()
      }
    },
    waitForCalls: (n) =>
      new Promise<void>((resolve) => {
        if (calls.length >= n) resolve()
        else waiters.push({ n, resolve })
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
