/**
 * One caller of the admin API for tests that talk to a real server over HTTP (a process, or a
 * listener in front of the test app): bearer token, JSON in, JSON out. Tests that drive the app in
 * process use supertest with `auth` from ./app.ts instead.
 */

/** What an admin-API call answered: its status and its JSON body (undefined when empty). */
export type AdminReply = { status: number; body: any }

/**
 * A function calling `${base}/api/v1${path}` with `token` as the bearer.
 * @param fetchImpl a fetch that trusts what the test needs (e.g. a throwaway TLS certificate).
 * @example const admin = adminApi(server.url, ADMIN_TOKEN); await admin('PUT', '/users/42', { username: 'ada' })
 */
export function adminApi(base: string, token: string, fetchImpl: typeof fetch = fetch) {
  return async (method: string, path: string, body?: unknown): Promise<AdminReply> => {
    const res = await fetchImpl(`${base}/api/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }
}
