/**
 * @module saml/redirect-binding
 * Sends a SAML message with the HTTP-Redirect binding (saml-bindings §3.4): the XML, without an
 * enveloped signature, DEFLATEd (raw), base64'd and URL-encoded into the query; the query itself
 * signed — `SAMLResponse=…&RelayState=…&SigAlg=…` in that order, exactly as sent — with
 * RSA-SHA256, the signature appended as `Signature`.
 */
import { sign } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import { ALG, type SigningKey } from './signer.ts'

/** `location` with the signed message in its query (a query it already has is kept first). */
export function redirectBindingUrl(
  location: string,
  param: 'SAMLRequest' | 'SAMLResponse',
  xml: string,
  relayState: string | undefined,
  key: SigningKey,
): string {
  const parts = [
    `${param}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`,
  ]
  if (relayState !== undefined && relayState !== '')
    parts.push(`RelayState=${encodeURIComponent(relayState)}`)
  parts.push(`SigAlg=${encodeURIComponent(ALG.rsaSha256)}`)
  const octets = parts.join('&')
  const signature = sign('sha256', Buffer.from(octets, 'utf8'), key.key).toString('base64')
  return `${location}${location.includes('?') ? '&' : '?'}${octets}&Signature=${encodeURIComponent(signature)}`
}
