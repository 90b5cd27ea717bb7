/**
 * The one guarded outbound GET (web/outbound-get.ts) against real local servers: special-use
 * addresses refused before any connection — by literal IP and by a name DNS resolves to loopback
 * — unless allowed; redirects, oversize bodies, silence and non-http schemes refused with their
 * codes. No timing is asserted: the silent server never answers at all.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { outboundGet } from '../../src/web/outbound-get.ts'

let servers: Server[] = []
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
  servers = []
})

async function serve(handler: Parameters<typeof createServer>[1]) {
  const hits = { count: 0 }
  const server = createServer((req, res) => {
    hits.count++
    handler!(req, res)
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { port: (server.address() as AddressInfo).port, hits }
}

describe('outboundGet', () => {
  it('refuses loopback by IP and by name, before connecting; allowed, it fetches', async () => {
    const { port, hits } = await serve((_q, r) => r.end('<ok/>'))
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]'])
      await expect(
        outboundGet(`http://${host}:${port}/m`, { field: 'metadata_url' }),
      ).rejects.toMatchObject({
        code: 'ERR_VALIDATION',
        issues: [expect.objectContaining({ path: 'metadata_url' })],
      })
    expect(hits.count).toBe(0)
    const ok = await outboundGet(`http://127.0.0.1:${port}/m`, { allowPrivateNetworks: true })
    expect(ok).toMatchObject({ status: 200, body: '<ok/>' })
    expect(hits.count).toBe(1)
  })

  it('refuses a redirect, a body over the cap, silence and a non-http URL', async () => {
    const allow = { allowPrivateNetworks: true }
    const redirect = await serve((_q, r) =>
      r.writeHead(302, { location: 'http://169.254.169.254/' }).end(),
    )
    await expect(outboundGet(`http://127.0.0.1:${redirect.port}/`, allow)).rejects.toMatchObject({
      code: 'ERR_PLATFORM_UNAVAILABLE',
    })
    const big = await serve((_q, r) => r.end('x'.repeat(2048)))
    await expect(
      outboundGet(`http://127.0.0.1:${big.port}/`, { ...allow, maxBytes: 1024 }),
    ).rejects.toMatchObject({ code: 'ERR_PLATFORM_UNAVAILABLE' })
    const silent = await serve(() => {}) // never answers
    await expect(
      outboundGet(`http://127.0.0.1:${silent.port}/`, { ...allow, timeoutMs: 200 }),
    ).rejects.toMatchObject({
      code: 'ERR_PLATFORM_UNAVAILABLE',
      message: expect.stringContaining('in time'),
    })
    await expect(outboundGet('file:///etc/passwd')).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
    })
  })
})
