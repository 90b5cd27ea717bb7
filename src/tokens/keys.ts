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

/**
 * The key cache of one token service: one entry per integration and secret name, replaced when
 * the integration's version or the secret's value changes.
 */
export function createKeyCache() {
  const entries = new Map<string, Entry>()

  function lookup(
    integration: LoadedIntegration,
    name: string,
    raw: string,
  ): { id: string; key: KeyObject | undefined } {
    const id = `${integration.record.id}\u0000${name}`
    const hit = entries.get(id)
    return {
      id,
      key:
        hit && hit.version === integration.record.updated_at && hit.raw === raw
          ? hit.key
          : undefined,
    }
  }

  function store(
    integration: LoadedIntegration,
    id: string,
    raw: string,
    key: KeyObject,
  ): KeyObject {
    entries.set(id, { version: integration.record.updated_at, raw, key })
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
      const { id, key } = lookup(integration, name, raw)
      return key ?? store(integration, id, raw, make(raw))
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
      const path = `integrations.${integration.record.id}.secrets.${name}`
      const raw = integration.secret(name)
      if (raw === undefined) {
        const source = integration.record.secrets[name]
        throw new ConfigInvalid([
          {
            path,
            message:
              source && 'env' in source
                ? `is not set: environment variable ${source.env} is missing`
                : 'is not set',
          },
        ])
      }
      const { id, key } = lookup(integration, name, raw)
      if (key) return key
      const reason = integration.definition.secrets[name]?.check?.(raw)
      if (reason) throw new ConfigInvalid([{ path, message: reason }])
      return store(integration, id, raw, make(raw))
    },

    /** Forgets every key. */
    clear(): void {
      entries.clear()
    },
  }
}

/** See {@link createKeyCache}. */
export type KeyCache = ReturnType<typeof createKeyCache>
