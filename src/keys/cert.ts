/**
 * @module keys/cert
 * A minimal DER writer for one thing: a self-signed X.509 v3 certificate over an RSA key,
 * signed with sha256WithRSAEncryption (RFC 5280). Node's crypto signs; nothing else is needed.
 *
 * Why not `@peculiar/x509`: it pulls in `tsyringe`, which throws at import time unless a
 * global `Reflect.getMetadata` polyfill (reflect-metadata, core-js) was loaded first, and no
 * polyfill is a dependency of this package. Patching the global `Reflect` from a key module
 * would be worse than these few lines; node's `X509Certificate` parses the result in tests.
 *
 * Extensions: basicConstraints (critical, cA false), keyUsage (critical, digitalSignature),
 * subjectKeyIdentifier (SHA-1 of the PKCS#1 public key, RFC 5280 §4.2.1.2 method 1).
 */
import { createHash, sign, type KeyObject } from 'node:crypto'

// ---- DER primitives ------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), length(body.length), body])
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c)
const set = (...c: Buffer[]) => tlv(0x31, ...c)
const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 + n, ...c)
const octetString = (b: Buffer) => tlv(0x04, b)
const bitString = (b: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), b)
const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'))
const boolTrue = () => Buffer.from([0x01, 0x01, 0xff])
const nullValue = () => Buffer.from([0x05, 0x00])

/** A non-negative INTEGER from big-endian magnitude bytes. */
function integer(magnitude: Buffer): Buffer {
  let i = 0
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++
  let b = magnitude.subarray(i)
  if (b.length === 0) b = Buffer.from([0])
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b])
  return tlv(0x02, b)
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const [a = 0, b = 0, ...rest] = arcs
  const out: number[] = [a * 40 + b]
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128))
      chunk.unshift((v & 0x7f) | 0x80)
    out.push(...chunk)
  }
  return tlv(0x06, Buffer.from(out))
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always UTC, seconds, `Z`. */
function time(d: Date): Buffer {
  const iso = d.toISOString() // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/\D/g, '') // YYYYMMDDHHMMSS
  const year = d.getUTCFullYear()
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
  return tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'))
}

// ---- certificate ---------------------------------------------------------------------------

const OID = {
  commonName: '2.5.4.3',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
} as const

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), boolTrue(), octetString(value)) : seq(oid(id), octetString(value))
}

/** What {@link createSelfSignedCertificate} certifies and signs with. */
export interface SelfSignedParams {
  commonName: string
  /** RSA key pair; the certificate certifies `publicKey` and is signed with `privateKey`. */
  privateKey: KeyObject
  publicKey: KeyObject
  /** Serial magnitude, big-endian; encoded as a positive INTEGER. */
  serial: Buffer
  notBefore: Date
  notAfter: Date
}

/** DER of a self-signed certificate, subject = issuer = `CN=<commonName>`. */
export function createSelfSignedCertificate(p: SelfSignedParams): Buffer {
  if (p.publicKey.asymmetricKeyType !== 'rsa' || p.privateKey.asymmetricKeyType !== 'rsa') {
    throw new TypeError('createSelfSignedCertificate: RSA keys only')
  }
  const name = seq(set(seq(oid(OID.commonName), utf8String(p.commonName))))
  const signatureAlgorithm = seq(oid(OID.sha256WithRSAEncryption), nullValue())
  const spki = p.publicKey.export({ type: 'spki', format: 'der' })
  const skid = createHash('sha1')
    .update(p.publicKey.export({ type: 'pkcs1', format: 'der' }))
    .digest()

  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // version v3
    integer(p.serial),
    signatureAlgorithm,
    name, // issuer
    seq(time(p.notBefore), time(p.notAfter)),
    name, // subject
    spki,
    explicit(
      3,
      seq(
        extension(OID.basicConstraints, true, seq()),
        extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)), // digitalSignature
        extension(OID.subjectKeyIdentifier, false, octetString(skid)),
      ),
    ),
  )
  const signature = sign('sha256', tbs, p.privateKey)
  return seq(tbs, signatureAlgorithm, bitString(signature))
}
