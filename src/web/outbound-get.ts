/**
 * @module web/outbound-get
 * One guarded GET to a URL an operator typed (the SAML check fetches an SP's metadata): a
 * timeout, a size cap, no redirects, and — unless allowed — no loopback, private or other
 * special-use address, by the same table oidc-provider's back-channel logout guard refuses
 * (its `fetch_request.js`; BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS lifts both). The address is
 * checked where the socket is opened (the DNS answer actually used, or the literal IP), so a
 * name that resolves somewhere else on the second lookup gains nothing.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { isSpecialUseIP } from 'oidc-provider/lib/helpers/fetch_request.js'
import { PlatformUnavailable, ValidationFailed } from '../errors/index.ts'

/** Limits of {@link outboundGet}. */
export interface OutboundGetOptions {
  /** Let the request reach loopback and private addresses (BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS). */
  allowPrivateNetworks?: boolean
  /** Default 5 s for the whole exchange. */
  timeoutMs?: number
  /** Default 1 MiB: a longer body is refused, not truncated. */
  maxBytes?: number
  /** The form field the URL came from, for a refusal shown at it (default `url`). */
  field?: string
}

/** What came back: the status and the body as text. */
export interface OutboundAnswer {
  status: number
  contentType: string | undefined
  body: string
}

const REFUSED = 'refused: special-use address'

/**
 * GETs `url` (http or https) under the limits above.
 * @throws {ValidationFailed} not an http(s) URL, or an address refused (at `field`)
 * @throws {PlatformUnavailable} unreachable, timed out, a redirect, or a body over the cap
 */
export async function outboundGet(
  url: string,
  opts: OutboundGetOptions = {},
): Promise<OutboundAnswer> {
  const field = opts.field ?? 'url'
  const target = URL.canParse(url) ? new URL(url) : undefined
  if (!target || (target.protocol !== 'http:' && target.protocol !== 'https:'))
    throw new ValidationFailed([{ path: field, message: 'must be an http(s) URL' }])
  const host = target.hostname.replace(/^\[|\]$/g, '')
  const refuse = (address: string) => !opts.allowPrivateNetworks && isSpecialUseIP(unmap(address))
  const refusal = () =>
    new ValidationFailed([
      {
        path: field,
        message:
          'points at a loopback, private or special-use address; BACKCHANNEL_LOGOUT_PRIVATE_NETWORKS=on allows that',
      },
    ])
  if (isIP(host) && refuse(host)) throw refusal()
  // Every address the connection may use is checked as DNS answers it.
  const lookup = ((hostname: string, options: LookupOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0)
      const usable = addresses.filter((a) => !refuse(a.address))
      if (usable.length === 0) return callback(new Error(REFUSED), '', 0)
      if (options.all) return (callback as unknown as AllCallback)(null, usable)
      return callback(null, usable[0]!.address, usable[0]!.family)
    })
  }) as LookupFunction
  const maxBytes = opts.maxBytes ?? 1_048_576
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<OutboundAnswer>((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'GET',
        lookup,
        headers: { Accept: 'application/samlmetadata+xml, application/xml, text/xml, */*' },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0
        if (status >= 300 && status < 400) {
          res.resume()
          return reject(new PlatformUnavailable(`${target.host} answered a redirect (${status})`))
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) {
            req.destroy()
            reject(new PlatformUnavailable(`${target.host} answered more than ${maxBytes} bytes`))
            return
          }
          chunks.push(chunk)
        })
        res.on('end', () =>
          resolve({
            status,
            contentType: res.headers['content-type'],
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', (err) =>
          reject(new PlatformUnavailable(`${target.host} broke off the answer`, { cause: err })),
        )
      },
    )
    req.on('error', (err) => {
      if (err.message === REFUSED) return reject(refusal())
      reject(
        new PlatformUnavailable(
          err.name === 'AbortError' || err.name === 'TimeoutError'
            ? `${target.host} did not answer in time`
            : `${target.host} could not be reached`,
          { cause: err },
        ),
      )
    })
    req.end()
  })
}

/**
 * An IPv4-mapped IPv6 address in its hex spelling (`::ffff:7f00:1`, as WHATWG URL writes
 * `[::ffff:127.0.0.1]`) as the dotted IPv4 address it reaches; oidc-provider's table only reads
 * the dotted spelling.
 */
function unmap(address: string): string {
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
  if (!m) return address
  const hi = parseInt(m[1]!, 16)
  const lo = parseInt(m[2]!, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void
type AllCallback = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void
