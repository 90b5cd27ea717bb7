/**
 * @module accounts/passwords
 * PLACEHOLDER — being written by a helper. Interface only.
 */
export type HashScheme = 'argon2id' | 'argon2i' | 'bcrypt' | 'phpass' | 'wp-bcrypt'

export async function hashPassword(_plain: string): Promise<string> {
  throw new Error('not implemented')
}

export async function verifyPassword(
  _plain: string,
  _stored: string,
): Promise<{ ok: boolean; needsRehash: boolean }> {
  throw new Error('not implemented')
}

export function identifyHash(_stored: string): HashScheme | null {
  throw new Error('not implemented')
}
