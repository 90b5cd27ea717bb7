/**
 * Minnit's zero-click format written from ../shared/platforms/minnit-sso.txt alone — its PHP
 * `encrypt($key, $textToEncrypt)` — with node:crypto and nothing of sso-bridge, so the interop
 * tests compare our tokens with the documented format rather than with themselves:
 *
 *   $iv = openssl_random_pseudo_bytes(12);
 *   $ciphertext = openssl_encrypt($text, "aes-256-gcm", $key, OPENSSL_RAW_DATA, $iv, $tag, "", 16);
 *   return base64_encode($iv . $ciphertext . $tag);
 *
 * PHP's openssl takes the key string's bytes as the key; `base64_encode` is standard base64
 * with padding.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

export function referenceEncrypt(key: string, text: string, iv: Buffer = randomBytes(12)): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'utf8'), iv, { authTagLength: 16 })
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(text, 'utf8')), cipher.final()])
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64')
}

/** The inverse, as Minnit's side must do it: split iv (12) ‖ ciphertext ‖ tag (16). Throws on any failure. */
export function referenceDecrypt(key: string, token: string): string {
  const raw = Buffer.from(token, 'base64')
  const iv = raw.subarray(0, 12)
  const tag = raw.subarray(raw.length - 16)
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key, 'utf8'), iv, {
    authTagLength: 16,
  })
  decipher.setAuthTag(tag)
  return Buffer.concat([
    decipher.update(raw.subarray(12, raw.length - 16)),
    decipher.final(),
  ]).toString('utf8')
}
