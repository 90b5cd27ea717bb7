/**
 * @module console/shown-once
 * A generated secret (the OIDC client secret) is shown to the operator once, on the page the save
 * redirects to, and never again. Between the save and that page it is kept in the store's KV for
 * at most {@link SHOWN_ONCE_TTL_MS}: sealed with the secrets box (so a database copy holds no
 * readable secret), under a random key that only the redirect's URL carries, bound to the console
 * session and the integration. The first view consumes it (atomically, on every instance); a
 * second view, another session or another integration's page shows nothing. The value never
 * appears in a URL or a log line.
 */
import { randomBytes } from 'node:crypto'
import type { SecretBox } from '../secrets/index.ts'
import type { KvStore } from '../store/ports.ts'

const NAMESPACE = 'console:shown-once'
/** Long enough to follow a redirect on a slow link; short enough to leave nothing lying about. */
export const SHOWN_ONCE_TTL_MS = 10 * 60_000
const KEY = /^[A-Za-z0-9_-]{43}$/

interface Stored {
  session: string
  integration: string
  sealed: Record<string, string>
  [k: string]: unknown
}

const context = (key: string, name: string) => `console-shown-once:${key}:${name}`

/**
 * Keeps `secrets` (name → value) for one view by `session` on integration `integration`'s page.
 * @returns the key to put in the redirect's URL (it reveals nothing by itself)
 */
export async function keepForOneView(
  deps: { kv: KvStore; box: SecretBox },
  session: string,
  integration: string,
  secrets: Record<string, string>,
): Promise<string> {
  const key = randomBytes(32).toString('base64url')
  const sealed = Object.fromEntries(
    Object.entries(secrets).map(([name, value]) => [
      name,
      deps.box.seal(value, context(key, name)),
    ]),
  )
  const stored: Stored = { session, integration, sealed }
  await deps.kv.kvSet(NAMESPACE, key, stored, { ttlMs: SHOWN_ONCE_TTL_MS })
  return key
}

/**
 * The secrets kept under `key`, once: only for the session and integration they were kept for,
 * and only the first time (later calls, on any instance, get null).
 */
export async function takeForView(
  deps: { kv: KvStore; box: SecretBox },
  key: unknown,
  session: string,
  integration: string,
): Promise<Record<string, string> | null> {
  if (typeof key !== 'string' || !KEY.test(key)) return null
  const entry = await deps.kv.kvGet(NAMESPACE, key)
  if (!entry) return null
  const stored = entry.value as Stored
  if (stored.session !== session || stored.integration !== integration) return null
  // Deleted before it is shown: whoever deletes it is the one view.
  if (!(await deps.kv.kvDelete(NAMESPACE, key))) return null
  return Object.fromEntries(
    Object.entries(stored.sealed).map(([name, sealed]) => [
      name,
      deps.box.open(sealed, context(key, name)),
    ]),
  )
}
