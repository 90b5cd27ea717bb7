/**
 * @module tokens/keys
 * Secrets as key objects, imported once per integration version rather than on every token:
 * importing a raw secret costs more than the HMAC or AES operation itself. An entry is reused
 * while the integration's `updated_at` and the secret's resolved value are unchanged, so a
 * rotated secret (saved inline, or a changed environment variable) takes effect on the next
 * token.
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import { ConfigInvalid } from '../errors/index.ts'
import type { LoadedIntegration } from '../integrations/registry.ts'

interface Entry {
  version: string
  raw: string
  key: KeyObject
}

/** A secret's value as raw key bytes: the UTF-8 bytes of the string, as PHP's openssl and jsonwebtoken use it. */
export const rawKey = (secret: string): KeyObject => createSecretKey(Buffer.from(secret, 'utf8'))

/** Where a secret is named in a ConfigInvalid (built only when one is thrown). */
const secretPath = (integration: LoadedIntegration, name: string) =>
  `integrations.${integration.record.id}.secrets.${name}`

/**
 * The key cache of one token service: one entry per integration and secret name, replaced when
 * the integration's version or the secret's value changes.
 */
export function createKeyCache() {
  let entries = new Map<string, Entry>()
  // The same entries by loaded integration object: the registry hands a door the same object for
  // a moment (integrations/registry.ts), so a token finds its key without building and hashing
  // the `id\0name` string of `entries`. An entry is only ever reused for the secret value it was
  // made from; the object's record (and so its version) never changes.
  let byLoaded = new WeakMap<LoadedIntegration, Map<string, Entry>>()

  function cached(
    integration: LoadedIntegration,
    name: string,
    raw: string,
  ): KeyObject | undefined {
    const near = byLoaded.get(integration)?.get(name)
    if (near !== undefined && near.raw === raw) return near.key
    const hit = entries.get(`${integration.record.id}\u0000${name}`)
    if (hit === undefined || hit.version !== integration.record.updated_at || hit.raw !== raw)
      return undefined
    remember(integration, name, hit)
    return hit.key
  }

  function remember(integration: LoadedIntegration, name: string, entry: Entry): void {
    let names = byLoaded.get(integration)
    if (names === undefined) byLoaded.set(integration, (names = new Map()))
    names.set(name, entry)
  }

  function store(
    integration: LoadedIntegration,
    name: string,
    raw: string,
    key: KeyObject,
  ): KeyObject {
    const entry = { version: integration.record.updated_at, raw, key }
    entries.set(`${integration.record.id}\u0000${name}`, entry)
    remember(integration, name, entry)
    return key
  }

  return {
    /**
     * The key object of secret `name` of `integration`, or undefined when the secret is not set.
     * @param make turns the secret's value into a key (checked at save; see each type's `check`)
     */
    get(
      integration: LoadedIntegration,
      name: string,
      make: (raw: string) => KeyObject = rawKey,
    ): KeyObject | undefined {
      const raw = integration.secret(name)
      if (raw === undefined) return undefined
      return cached(integration, name, raw) ?? store(integration, name, raw, make(raw))
    },

    /**
     * Like {@link get}, for a secret the type cannot work without. The type's `check` runs when
     * the key is imported (an `{env}` secret is only checked at save if it was visible there).
     * @throws {ConfigInvalid} the secret is not set where the server runs, or its value fails the
     *   type's check (the value is never echoed)
     */
    require(
      integration: LoadedIntegration,
      name: string,
      make: (raw: string) => KeyObject = rawKey,
    ): KeyObject {
      const raw = integration.secret(name)
      if (raw === undefined) {
        const source = integration.record.secrets[name]
        throw new ConfigInvalid([
          {
            path: secretPath(integration, name),
            message:
              source && 'env' in source
                ? `is not set: environment variable ${source.env} is missing`
                : 'is not set',
          },
        ])
      }
      const key = cached(integration, name, raw)
      if (key) return key
      const reason = integration.definition.secrets[name]?.check?.(raw)
      if (reason)
        throw new ConfigInvalid([{ path: secretPath(integration, name), message: reason }])
      return store(integration, name, raw, make(raw))
    },

    /** Forgets every key. */
    clear(): void {
      entries = new Map()
      byLoaded = new WeakMap()
    },
  }
}

/** See {@link createKeyCache}. */
export type KeyCache = ReturnType<typeof createKeyCache>
