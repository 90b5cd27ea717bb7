/**
 * The secrets box tests build services with: a fixed key, so a test can also read what it
 * sealed (the server's own key comes from SECRETS_KEY or KEYS_DIR: keys/secrets-key.ts).
 */
import { createSecretBox, type SecretBox } from '../../src/secrets/index.ts'

/** A fixed 32-byte test key (not secret: tests only). */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 0x5b)

/** The box over {@link TEST_SECRETS_KEY}. */
export function testSecretBox(): SecretBox {
  return createSecretBox([TEST_SECRETS_KEY])
}
